package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/authgate/gateway/internal/names"
)

// RouteRules are the access rules of a route. A signed-in person reaches
// the route when Deny names none of their roles, groups or their user
// name, and Allow is empty or names one of them; MFA and Reauth then ask
// for a second factor or a recent password before the request goes on.
// Public paths under the route need no session at all.
type RouteRules struct {
	// Allow lists who may use the route; empty allows any signed-in person.
	Allow Principals `yaml:"allow,omitempty"`
	// Deny lists who may not, whatever Allow says.
	Deny Principals `yaml:"deny,omitempty"`
	// Public are paths of the route open without a session, written as
	// public_paths ("/x/" a prefix, "/x" exact), under the route's prefix.
	Public []string `yaml:"public,omitempty"`
	// MFA is "required" (a session without a second factor is sent to add
	// or pass one) or "" (the global mfa policy only).
	MFA string `yaml:"mfa,omitempty"`
	// Reauth, when set, asks for the password again when the sign-in is
	// older than this.
	Reauth Duration `yaml:"reauth,omitempty"`
}

// RouteMFARequired is the value of routes[].mfa that requires a second factor.
const RouteMFARequired = "required"

// HasRules reports whether any access rule is set.
func (r *RouteRules) HasRules() bool {
	return !r.Allow.Empty() || !r.Deny.Empty() || len(r.Public) > 0 || r.MFA != "" || r.Reauth.Duration > 0
}

// Principals names people by role, group or user name. In YAML it is a map
// {roles: [...], groups: [...], users: [...]} or, for short, a plain list,
// which names roles: "allow: [admin]" is "allow: {roles: [admin]}".
type Principals struct {
	Roles  []string `yaml:"roles,omitempty"`
	Groups []string `yaml:"groups,omitempty"`
	Users  []string `yaml:"users,omitempty"`
}

// Empty reports whether p names no one.
func (p Principals) Empty() bool { return len(p.Roles)+len(p.Groups)+len(p.Users) == 0 }

// UnmarshalYAML accepts the map form and the plain list of roles.
func (p *Principals) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.SequenceNode {
		var roles []string
		if err := n.Decode(&roles); err != nil {
			return err
		}
		*p = Principals{Roles: roles}
		return nil
	}
	type plain Principals // without this method
	var v plain
	if err := n.Decode(&v); err != nil {
		return err
	}
	*p = Principals(v)
	return nil
}

// String describes p for the rule table: "roles admin; groups ops".
func (p Principals) String() string {
	var parts []string
	for _, l := range []struct {
		name string
		list []string
	}{{"roles", p.Roles}, {"groups", p.Groups}, {"users", p.Users}} {
		if len(l.list) > 0 {
			parts = append(parts, l.name+" "+strings.Join(l.list, ","))
		}
	}
	return strings.Join(parts, "; ")
}

// validateRouteRules checks routes[i]'s rules and puts group and user
// names in their canonical (lower-case) form.
func (c *Config) validateRouteRules() error {
	for i := range c.Routes {
		rt := &c.Routes[i]
		key := fmt.Sprintf("routes[%d]", i)
		for _, side := range []struct {
			name string
			p    *Principals
		}{{"allow", &rt.Allow}, {"deny", &rt.Deny}} {
			if err := validatePrincipals(key+"."+side.name, side.p); err != nil {
				return err
			}
		}
		for j, p := range rt.Public {
			pk := fmt.Sprintf("%s.public[%d]", key, j)
			if err := c.checkPublicEntry(pk, p); err != nil {
				return err
			}
			if !underPrefix(p, rt.PathPrefix) {
				return keyErr(pk, "%q is not under the route's path_prefix %q, so it would never match; put it under the prefix or in public_paths", p, rt.PathPrefix)
			}
		}
		switch rt.MFA {
		case "", RouteMFARequired:
		default:
			return keyErr(key+".mfa", "%q is not valid; write \"required\" to ask for a second factor on this route, or leave it out", rt.MFA)
		}
		if d := rt.Reauth.Duration; d != 0 && (d < time.Minute || d > c.Session.Lifetime.Duration) {
			return keyErr(key+".reauth", "is %s; must be between 1m and session.lifetime (%s), e.g. \"15m\", or left out", rt.Reauth, c.Session.Lifetime)
		}
	}
	return nil
}

func validatePrincipals(key string, p *Principals) error {
	for i, r := range p.Roles {
		if !contains(knownRoles, r) {
			return keyErr(fmt.Sprintf("%s.roles[%d]", key, i), "%q is not a role (roles are %s; a plain list names roles: for groups write {groups: [%s]})", r, strings.Join(knownRoles, ", "), r)
		}
	}
	for i, g := range p.Groups {
		g = strings.ToLower(strings.TrimSpace(g))
		if !names.IsGroup(g) || contains(knownRoles, g) {
			return keyErr(fmt.Sprintf("%s.groups[%d]", key, i), "%q is not a group name (1-64 letters, digits and . _ : @ -, not a role's name)", p.Groups[i])
		}
		p.Groups[i] = g
	}
	for i, u := range p.Users {
		u = strings.ToLower(strings.TrimSpace(u))
		if !names.IsUsername(u) {
			return keyErr(fmt.Sprintf("%s.users[%d]", key, i), "%q is not a user name (1-64 letters, digits and . _ @ -)", p.Users[i])
		}
		p.Users[i] = u
	}
	return nil
}

// underPrefix reports whether the public entry p lies under a route prefix
// (case-insensitively, as prefixes match).
func underPrefix(p, prefix string) bool {
	if prefix == "/" {
		return true
	}
	if strings.HasSuffix(prefix, "/") {
		return len(p) >= len(prefix) && strings.EqualFold(p[:len(prefix)], prefix)
	}
	return strings.EqualFold(p, prefix) || (len(p) > len(prefix) && strings.EqualFold(p[:len(prefix)], prefix) && p[len(prefix)] == '/')
}

// RuleTable describes the routes and their rules, most specific first, one
// line each, for `gateway config check`.
func (c *Config) RuleTable() string {
	var b strings.Builder
	b.WriteString("# access rules, most specific route first (the first match wins):\n")
	order := make([]int, len(c.Routes))
	for i := range order {
		order[i] = i
	}
	// Host routes first, then longer prefixes, as the gateway picks them.
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && moreSpecific(&c.Routes[order[j]], &c.Routes[order[j-1]]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	for _, i := range order {
		rt := &c.Routes[i]
		host := rt.Host
		if host == "" {
			host = "*"
		}
		fmt.Fprintf(&b, "#   %s%s → %s: %s\n", host, rt.PathPrefix, rt.Upstream, describeRules(&rt.RouteRules))
	}
	if c.Upstream != "" {
		fmt.Fprintf(&b, "#   (no route matches) → %s: any signed-in person\n", c.Upstream)
	}
	if len(c.PublicPaths) > 0 {
		fmt.Fprintf(&b, "#   public_paths (every host, no session): %s\n", strings.Join(c.PublicPaths, ", "))
	}
	return b.String()
}

func moreSpecific(a, b *Route) bool {
	if (a.Host != "") != (b.Host != "") {
		return a.Host != ""
	}
	return len(a.PathPrefix) > len(b.PathPrefix)
}

func describeRules(r *RouteRules) string {
	who := "any signed-in person"
	if !r.Allow.Empty() {
		who = "allow " + r.Allow.String()
	}
	parts := []string{who}
	if !r.Deny.Empty() {
		parts = append(parts, "deny "+r.Deny.String())
	}
	if r.MFA != "" {
		parts = append(parts, "second factor required")
	}
	if r.Reauth.Duration > 0 {
		parts = append(parts, "password again after "+r.Reauth.String())
	}
	if len(r.Public) > 0 {
		parts = append(parts, "public "+strings.Join(r.Public, ", "))
	}
	return strings.Join(parts, "; ")
}
