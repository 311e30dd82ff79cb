package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The example: the map form and the short list form both load.
func TestRouteRulesLoad(t *testing.T) {
	path := writeFile(t, `
secret: "`+testSecret+`"
routes:
  - path_prefix: /admin/
    upstream: http://127.0.0.1:3000
    allow: [admin]
    mfa: required
    reauth: 5m
  - path_prefix: /ops/
    upstream: http://127.0.0.1:3000
    allow: {roles: [support], groups: [Ops, sre], users: [Alice]}
    deny: {users: [mallory]}
    public: [/ops/status, /ops/docs/]
  - path_prefix: /
    upstream: http://127.0.0.1:3000
`)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, o, all := c.Routes[0], c.Routes[1], c.Routes[2]
	if !slices.Equal(a.Allow.Roles, []string{"admin"}) || a.MFA != "required" || a.Reauth.Duration != 5*time.Minute {
		t.Errorf("admin route: %+v", a.RouteRules)
	}
	if !slices.Equal(o.Allow.Groups, []string{"ops", "sre"}) || !slices.Equal(o.Allow.Users, []string{"alice"}) ||
		!slices.Equal(o.Deny.Users, []string{"mallory"}) || len(o.Public) != 2 {
		t.Errorf("ops route: %+v", o.RouteRules)
	}
	if all.HasRules() {
		t.Errorf("plain route has rules: %+v", all.RouteRules)
	}
	table := c.RuleTable()
	for _, want := range []string{
		"*/admin/ → http://127.0.0.1:3000: allow roles admin; second factor required; password again after 5m",
		"*/ops/ → http://127.0.0.1:3000: allow roles support; groups ops,sre; users alice; deny users mallory; public /ops/status, /ops/docs/",
		"*/ → http://127.0.0.1:3000: any signed-in person",
	} {
		if !strings.Contains(table, want) {
			t.Errorf("rule table lacks %q:\n%s", want, table)
		}
	}
	if strings.Index(table, "*/admin/") > strings.Index(table, "*/ →") {
		t.Errorf("rule table not most specific first:\n%s", table)
	}
	if m := c.Masked(); !strings.Contains(m, "allow:") || !strings.Contains(m, "reauth: 5m") {
		t.Errorf("config check output lacks the rules:\n%s", m)
	}
}

func TestRouteRulesInvalid(t *testing.T) {
	for _, tc := range []struct {
		yaml string
		want []string
	}{
		{"allow: [ops]", []string{"routes[0].allow.roles[0]", `"ops" is not a role`, "{groups: [ops]}"}},
		{"allow: {groups: [admin]}", []string{"routes[0].allow.groups[0]", "not a group name"}},
		{"allow: {groups: [\"a b\"]}", []string{"routes[0].allow.groups[0]"}},
		{"deny: {users: [\"x/y\"]}", []string{"routes[0].deny.users[0]", "not a user name"}},
		{"allow: admin", []string{"routes[0].allow", "want a list of roles"}},
		{"allow: [[admin]]", []string{"routes[0].allow[0]", "want a role name"}},
		{"allow: {role: [admin]}", []string{"routes[0].allow.role"}},
		{"mfa: yes", []string{"routes[0].mfa", `write "required"`}},
		{"reauth: 10s", []string{"routes[0].reauth", "between 1m"}},
		{"reauth: 1000h", []string{"routes[0].reauth", "session.lifetime"}},
		{"public: [/other/x]", []string{"routes[0].public[0]", "not under the route's path_prefix"}},
		{"public: [/app//x]", []string{"routes[0].public[0]", "never matches"}},
	} {
		path := writeFile(t, "secret: \""+testSecret+"\"\nroutes:\n  - path_prefix: /app/\n    upstream: http://127.0.0.1:3000\n    "+tc.yaml+"\n")
		_, err := Load(path, nil)
		checkErr(t, err, tc.want...)
	}
}
