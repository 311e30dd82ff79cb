package e2e

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// readmeIdentity is the README's example of an app checking the
// assertion, kept word for word apart from its parameters.
type readmeIdentity struct {
	Name   string   `json:"name"`
	Email  string   `json:"email"`
	Groups []string `json:"groups"`
}

func readmeFetchKeys(jwksURL string) (*jose.JSONWebKeySet, error) {
	resp, err := http.Get(jwksURL)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	return &set, json.NewDecoder(resp.Body).Decode(&set)
}

func readmeWho(r *http.Request, keys *jose.JSONWebKeySet, issuer, host string) (*jwt.Claims, *readmeIdentity, error) {
	tok, err := jwt.ParseSigned(r.Header.Get("X-Gateway-Assertion"), []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		return nil, nil, err
	}
	var std jwt.Claims
	var who readmeIdentity
	if err := tok.Claims(keys, &std, &who); err != nil { // the key named by "kid"
		return nil, nil, err
	}
	err = std.Validate(jwt.Expected{Issuer: issuer, AnyAudience: jwt.Audience{host}, Time: time.Now()})
	return &std, &who, err
}

func TestREADMEAssertionExample(t *testing.T) {
	type seen struct {
		std *jwt.Claims
		who *readmeIdentity
		err error
	}
	got := make(chan seen, 1)
	var keys *jose.JSONWebKeySet
	var portal string
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		std, who, err := readmeWho(r, keys, portal, "127.0.0.1")
		select {
		case got <- seen{std, who, err}:
		default:
		}
		w.WriteHeader(http.StatusNoContent)
	})
	g := portalGateway(t, harness.Options{Upstream: app, Configure: func(c *config.Config) { c.Assertion.Enabled = true }})
	portal = g.PortalURL
	var err error
	if keys, err = readmeFetchKeys(g.URL + "/.gateway/.well-known/jwks.json"); err != nil {
		t.Fatal(err)
	}
	u := g.CreateUser(t, "cleo")
	c := g.NewClient(t)
	cb := portalCallbackURL(t, g, c, "cleo", g.URL+"/")
	portalFollow(t, c, cb)
	if resp := c.Get(t, "/"); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("app: %d", resp.StatusCode)
	}
	s := <-got
	if s.err != nil || s.std.Subject != u.ID || s.who.Name != "cleo" || s.who.Email != "cleo@example.com" {
		t.Fatalf("the README's check: %v %+v %+v", s.err, s.std, s.who)
	}
	// The same check refuses a request that did not come through the
	// gateway (no assertion) and a junk one.
	bare := httptest.NewRequest(http.MethodGet, "/", nil)
	if _, _, err := readmeWho(bare, keys, portal, "127.0.0.1"); err == nil {
		t.Error("a request without an assertion passed")
	}
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("X-Gateway-Assertion", "x")
	if _, _, err := readmeWho(r, keys, portal, "127.0.0.1"); err == nil {
		t.Error("a junk assertion passed")
	}
}
