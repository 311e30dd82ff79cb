package config

import "testing"

func TestEscapedSlashes(t *testing.T) {
	for _, v := range []string{"keep", "reject", "decode"} {
		c := validConfig()
		c.EscapedSlashes = v
		if err := c.Validate(); err != nil {
			t.Errorf("%s: %v", v, err)
		}
	}
	c := validConfig()
	c.EscapedSlashes = "allow"
	checkErr(t, c.Validate(), "escaped_slashes", "GATEWAY_ESCAPED_SLASHES", "keep", "reject", "decode")
	if d := Defaults(); d.EscapedSlashes != "keep" {
		t.Errorf("default %q, want keep", d.EscapedSlashes)
	}
}

func TestRoutePrefixesDifferingOnlyInCaseRefused(t *testing.T) {
	c := validConfig()
	c.Routes = []Route{{PathPrefix: "/admin/", Upstream: testUpstream}, {PathPrefix: "/Admin/", Upstream: testUpstream}}
	checkErr(t, c.Validate(), "routes[1]", "GATEWAY_ROUTES", "without regard to case")
}
