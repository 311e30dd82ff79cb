package store

import (
	"fmt"
	"slices"
	"strings"

	"github.com/authgate/gateway/internal/names"
)

// Limits on a user's groups. Groups travel in a header and in a signed
// assertion on every proxied request, so both the count and the length are
// kept small.
const (
	MaxGroups      = 32
	MaxGroupLength = 64
)

// CanonicalGroup lower-cases and trims a typed group name, so "Ops" and
// "ops" are one group wherever they are written (CLI, console, API, rules).
func CanonicalGroup(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateGroup checks a canonical group name: 1-64 characters of letters,
// digits and . _ : @ -, starting with a letter or digit. A comma would
// split it in X-Forwarded-Groups, and a role's name is refused so that the
// header, which carries roles and groups together, means one thing: only
// an admin's role change makes someone "admin" there.
func ValidateGroup(name string) error {
	if !names.IsGroup(name) {
		return fmt.Errorf("group %q: a group name is 1-%d characters: letters, digits and . _ : @ - (starting with a letter or digit)", name, MaxGroupLength)
	}
	if ValidRole(name) {
		return fmt.Errorf("group %q: %s is a role; give roles with the role commands, and name the group otherwise", name, name)
	}
	return nil
}

// ErrTooManyGroups refuses a group beyond MaxGroups.
var ErrTooManyGroups = fmt.Errorf("a user can be in at most %d groups", MaxGroups)

// WithGroup returns groups with name added (canonical, sorted, without
// duplicates), or an error when the name is invalid or the list is full.
func WithGroup(groups []string, name string) ([]string, error) {
	name = CanonicalGroup(name)
	if err := ValidateGroup(name); err != nil {
		return nil, err
	}
	if slices.Contains(groups, name) {
		return groups, nil
	}
	if len(groups) >= MaxGroups {
		return nil, ErrTooManyGroups
	}
	out := append(slices.Clone(groups), name)
	slices.Sort(out)
	return out, nil
}

// WithoutGroup returns groups without name; found is false when the user
// was not in it.
func WithoutGroup(groups []string, name string) (out []string, found bool) {
	name = CanonicalGroup(name)
	out = slices.DeleteFunc(slices.Clone(groups), func(g string) bool { return g == name })
	return out, len(out) != len(groups)
}

// CleanGroups canonicalises, checks, sorts and de-duplicates a whole list
// of groups (the staff API's "set" form).
func CleanGroups(in []string) ([]string, error) {
	out := []string{}
	for _, g := range in {
		g = CanonicalGroup(g)
		if err := ValidateGroup(g); err != nil {
			return nil, err
		}
		if !slices.Contains(out, g) {
			out = append(out, g)
		}
	}
	if len(out) > MaxGroups {
		return nil, ErrTooManyGroups
	}
	slices.Sort(out)
	return out, nil
}

// groupsHeader is the value of the groups header: the roles, then the
// groups, comma-separated. Roles come first because the header carried
// only them before groups existed, and apps read them there.
func groupsHeader(roles, groups []string) string {
	return strings.Join(append(slices.Clip(roles), groups...), ",")
}
