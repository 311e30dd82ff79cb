package e2e

import (
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// A YAML file of two routes, as the README writes them: an admin route
// (role admin, a second factor, the password again after 5 minutes) and
// a route open to any signed-in person with the signed identity on. A
// plain user is refused on the first and reaches the second, whose app
// receives an assertion that an independent verifier accepts with the
// published keys and that names the user; an escaped slash reaches the
// app as sent; a NUL in the path answers 400.
func TestTwoRoutesFromYAMLRulesAssertionAndPaths(t *testing.T) {
	admin := appServer(t, "admin")
	open := appServer(t, "open")
	file := filepath.Join(t.TempDir(), "gateway.yaml")
	yaml := "routes:\n" +
		"  - path_prefix: /admin/\n" +
		"    upstream: " + admin.URL + "\n" +
		"    allow: [admin]\n" +
		"    mfa: required\n" +
		"    reauth: 5m\n" +
		"  - path_prefix: /\n" +
		"    upstream: " + open.URL + "\n" +
		"    assertion: true\n"
	if err := os.WriteFile(file, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	fromFile, err := config.Load(file, []string{"GATEWAY_SECRET=" + rand.Text() + rand.Text(), "GATEWAY_COOKIE_SECURE=false"})
	if err != nil {
		t.Fatalf("the README's two routes do not load: %v", err)
	}
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.Routes = fromFile.Routes
		c.Upstream, c.UpstreamURL = "", nil
	}})
	g.CreateUser(t, "pat")
	pat := g.NewClient(t)
	pat.Login(t, "pat", harness.TestPassword)

	if status, code, _ := ruleCode(t, pat, "/admin/users"); status != http.StatusForbidden || code != "forbidden" {
		t.Errorf("plain user on the admin route: %d %q, want 403 forbidden", status, code)
	}
	if resp := pat.Get(t, "/admin/users", "Accept", "text/html"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("plain user's browser on the admin route: %d, want the 403 page", resp.StatusCode)
	} else {
		resp.Body.Close()
	}

	e, resp := pat.Echo(t, "/reports")
	if e == nil || resp.StatusCode != http.StatusOK || resp.Header.Get("X-App") != "open" {
		t.Fatalf("plain user on the open route: %d", resp.StatusCode)
	}
	tok := e.Header.Get(assertionHeader)
	if tok == "" {
		t.Fatal("the open route's app received no assertion")
	}
	claims, _, err := verifyAssertion(tok, jwksKeys(t, g.URL), g.URL, "127.0.0.1", time.Now())
	if err != nil {
		t.Fatalf("an independent verifier refuses the assertion: %v", err)
	}
	if claims.Name != "pat" || claims.Subject == "" || claims.Subject == "pat" {
		t.Errorf("the assertion names %q (sub %q), want pat and a stable id", claims.Name, claims.Subject)
	}

	// The path as sent: the app sees the escaped slash.
	e, resp = pat.Echo(t, "/a%2Fb")
	if e == nil || e.URI != "/a%2Fb" {
		got := ""
		if e != nil {
			got = e.URI
		}
		t.Errorf("/a%%2Fb reached the app as %q (%d), want /a%%2Fb", got, resp.StatusCode)
	}
	// A NUL is refused before anything else, signed in or not.
	anon := g.NewClient(t)
	for _, c := range []*harness.Client{pat, anon} {
		resp := c.Get(t, "/x%00y")
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("/x%%00y: %d, want 400", resp.StatusCode)
		}
	}
}
