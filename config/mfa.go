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

// parseRoleList parses a comma-separated list of known roles; "" is an
// empty list.
func parseRoleList(s string) ([]string, bool) {
	if strings.TrimSpace(s) == "" {
		return nil, true
	}
	var roles []string
	for r := range strings.SplitSeq(s, ",") {
		r = strings.TrimSpace(r)
		if !contains(knownRoles, r) {
			return nil, false
		}
		roles = append(roles, r)
	}
	return roles, true
}

func (c *Config) validatePhishingResistant() error {
	roles, ok := parseRoleList(c.MFA.PhishingResistant)
	switch {
	case !ok:
		return keyErr("mfa.phishing_resistant", "%q is not valid; use a comma-separated list of roles from %s (e.g. \"support,admin\"), or leave it empty", c.MFA.PhishingResistant, strings.Join(knownRoles, ", "))
	case len(roles) > 0 && !c.MFA.Passkeys:
		return keyErr("mfa.phishing_resistant", "requires passkeys for %s, but mfa.passkeys is false; turn passkeys on or empty the list", strings.Join(roles, ", "))
	case len(roles) > 0 && strings.TrimSpace(c.MFA.Require) == MFAOff:
		return keyErr("mfa.phishing_resistant", "requires passkeys for %s, but mfa.require is off; set mfa.require to optional or more, or empty the list", strings.Join(roles, ", "))
	}
	return nil
}

// PhishingResistantFor reports whether users with role must use a passkey
// as their second factor (mfa.phishing_resistant). An invalid list (one
// Validate rejects) fails closed and reports true.
func (c *Config) PhishingResistantFor(role string) bool {
	roles, ok := parseRoleList(c.MFA.PhishingResistant)
	return !ok || contains(roles, strings.TrimSpace(role))
}

// PasskeysOn reports whether passkeys are offered: mfa.passkeys, and a
// second factor not turned off altogether.
func (c *Config) PasskeysOn() bool {
	return c.MFA.Passkeys && strings.TrimSpace(c.MFA.Require) != MFAOff
}
