package config

import "testing"

func TestAssertionPerRouteFromFile(t *testing.T) {
	path := writeFile(t, `
secret: "`+testSecret+`"
upstream: http://127.0.0.1:3000
routes:
  - path_prefix: /on/
    upstream: http://127.0.0.1:3000
    assertion: true
  - path_prefix: /off/
    upstream: http://127.0.0.1:3000
    assertion: false
  - path_prefix: /
    upstream: http://127.0.0.1:3000
`)
	c, err := Load(path, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !c.AssertionOn(0) || c.AssertionOn(1) || c.AssertionOn(2) || c.AssertionOn(-1) || !c.AssertionUsed() {
		t.Errorf("assertion.enabled off: on %v %v %v fallback %v", c.AssertionOn(0), c.AssertionOn(1), c.AssertionOn(2), c.AssertionOn(-1))
	}
	// The environment turns it on for the rest; a route's false still wins.
	c, err = Load(path, []string{"GATEWAY_ASSERTION_ENABLED=true", "GATEWAY_HEADERS_ASSERTION=X-App-Jwt"})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if !c.AssertionOn(0) || c.AssertionOn(1) || !c.AssertionOn(2) || !c.AssertionOn(-1) || c.Headers.Assertion != "X-App-Jwt" {
		t.Errorf("assertion.enabled on: on %v %v %v fallback %v, header %q", c.AssertionOn(0), c.AssertionOn(1), c.AssertionOn(2), c.AssertionOn(-1), c.Headers.Assertion)
	}
}
