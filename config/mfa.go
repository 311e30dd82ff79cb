package config

import "strings"

// knownRoles are the roles mfa.require may list.
var knownRoles = []string{"user", "support", "admin"}

// MFA policy modes, the non-list values of mfa.require.
const (
	// MFAOff turns the second factor off.
	MFAOff = "off"
	// MFAOptional offers a second factor but requires it from no one.
	MFAOptional = "optional"
	// MFAAll requires a second factor from everyone.
	MFAAll = "all"
)

// parseMFARequire parses mfa.require into a mode (off, optional, all) or a
// set of roles. ok is false for anything else.
func parseMFARequire(s string) (mode string, roles []string, ok bool) {
	switch t := strings.TrimSpace(s); t {
	case MFAOff, MFAOptional, MFAAll:
		return t, nil, true
	}
	for r := range strings.SplitSeq(s, ",") {
		r = strings.TrimSpace(r)
		if !contains(knownRoles, r) {
			return "", nil, false
		}
		roles = append(roles, r)
	}
	return "", roles, len(roles) > 0
}

// MFARequiredFor reports whether users with role must use a second factor:
// false for "off" and "optional", true for "all", and for a list whether
// role is in it. An invalid policy (one Validate rejects) fails closed and
// reports true.
func (c *Config) MFARequiredFor(role string) bool {
	mode, roles, ok := parseMFARequire(c.MFA.Require)
	switch {
	case !ok:
		return true
	case mode == MFAOff, mode == MFAOptional:
		return false
	case mode == MFAAll:
		return true
	}
	return contains(roles, strings.TrimSpace(role))
}
