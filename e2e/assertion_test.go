package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// The assertion tests verify with golang-jwt, a library the gateway does
// not use, and read the key set by hand: an app's verifier, not ours.

const assertionHeader = "X-Gateway-Assertion"

// jwksKeys fetches {base}/.gateway/.well-known/jwks.json over HTTP and
// returns its P-256 public keys by kid.
func jwksKeys(t *testing.T, base string) map[string]*ecdsa.PublicKey {
	t.Helper()
	resp, err := http.Get(base + "/.gateway/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/jwk-set+json" {
		t.Fatalf("jwks: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var set struct {
		Keys []struct{ Kty, Crv, Alg, Use, Kid, X, Y, D string }
	}
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	keys := map[string]*ecdsa.PublicKey{}
	for _, k := range set.Keys {
		if k.Kty != "EC" || k.Crv != "P-256" || k.Alg != "ES256" || k.Use != "sig" || k.Kid == "" {
			t.Fatalf("jwks key %+v", k)
		}
		if k.D != "" {
			t.Fatal("the key set publishes a private key")
		}
		x, err1 := base64.RawURLEncoding.DecodeString(k.X)
		y, err2 := base64.RawURLEncoding.DecodeString(k.Y)
		if err1 != nil || err2 != nil {
			t.Fatalf("jwks key coordinates: %v %v", err1, err2)
		}
		keys[k.Kid] = &ecdsa.PublicKey{Curve: elliptic.P256(), X: new(big.Int).SetBytes(x), Y: new(big.Int).SetBytes(y)}
	}
	return keys
}

// assertionClaims are the claims an app reads.
type assertionClaims struct {
	jwt.RegisteredClaims
	Name   string   `json:"name"`
	Email  string   `json:"email"`
	Groups []string `json:"groups"`
	Roles  []string `json:"roles"`
	SID    string   `json:"sid"`
}

// verifyAssertion checks tok as an app would: ES256 only, a key of the
// set, the issuer and audience expected, not expired (at now).
func verifyAssertion(tok string, keys map[string]*ecdsa.PublicKey, iss, aud string, now time.Time) (*assertionClaims, string, error) {
	var c assertionClaims
	parsed, err := jwt.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if k := keys[kid]; k != nil {
			return k, nil
		}
		return nil, errors.New("unknown kid " + kid)
	}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(iss), jwt.WithAudience(aud),
		jwt.WithIssuedAt(), jwt.WithExpirationRequired(), jwt.WithTimeFunc(func() time.Time { return now }))
	if err != nil {
		return nil, "", err
	}
	kid, _ := parsed.Header["kid"].(string)
	return &c, kid, nil
}

// assertionOf fetches path with c and returns the assertion the upstream
// received ("" when none), failing unless the request was proxied.
func assertionOf(t *testing.T, c *harness.Client, path string, header ...string) string {
	t.Helper()
	e, resp := c.Echo(t, path, header...)
	if e == nil {
		t.Fatalf("%s: %d, not proxied", path, resp.StatusCode)
	}
	vs := e.Header.Values(assertionHeader)
	if len(vs) > 1 {
		t.Fatalf("the upstream got %d assertion headers", len(vs))
	}
	for k := range e.Header {
		if k != assertionHeader && strings.EqualFold(strings.ReplaceAll(k, "_", "-"), assertionHeader) {
			t.Fatalf("a client's %s reached the upstream", k)
		}
	}
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}

func TestAssertionVerifiesWithThePublishedKeysOnEveryReplica(t *testing.T) {
	srv := redistest.Start(t)
	secret := rand.Text() + rand.Text()
	conf := func(c *config.Config) {
		c.Assertion.Enabled = true
		off := false
		c.Routes = []config.Route{
			{PathPrefix: "/plain/", Upstream: c.Upstream, Assertion: &off},
			{PathPrefix: "/", Upstream: c.Upstream},
		}
	}
	opts := harness.Options{Redis: srv, Secret: secret, Configure: conf, AssertionRefresh: 50 * time.Millisecond}
	a := harness.Start(t, opts)
	b := harness.Start(t, opts)
	ctx := context.Background()
	u := a.CreateUser(t, "ada")
	if err := a.Store.UpdateUser(ctx, u.ID, store.UserUpdate{Groups: &[]string{"eng"}}); err != nil {
		t.Fatal(err)
	}
	c := a.NewClient(t)
	c.Login(t, "ada", harness.TestPassword)

	// A forged header in any spelling never reaches the app; the app gets
	// the gateway's own.
	const forged = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJyb290In0."
	tok := assertionOf(t, c, "/app", assertionHeader, forged, "X_Gateway_Assertion", forged)
	if tok == "" || tok == forged {
		t.Fatalf("assertion %q", tok)
	}
	keys := jwksKeys(t, a.URL)
	iss, aud := a.URL, "127.0.0.1" // no portal: the app host's own origin
	claims, kid, err := verifyAssertion(tok, keys, iss, aud, time.Now())
	if err != nil {
		t.Fatalf("an independent verifier refuses the assertion: %v", err)
	}
	if claims.Subject != u.ID || claims.Name != "ada" || claims.Email != "ada@example.com" ||
		strings.Join(claims.Groups, ",") != "eng" || strings.Join(claims.Roles, ",") != "user" {
		t.Errorf("claims %+v", claims)
	}
	if life := claims.ExpiresAt.Sub(claims.IssuedAt.Time); life != 5*time.Minute {
		t.Errorf("lifetime %v, want 5m", life)
	}
	if claims.SID == "" || strings.Contains(c.SessionCookie(), claims.SID) {
		t.Errorf("sid %q", claims.SID)
	}
	// The same session and route gets the same (cached) assertion.
	if again := assertionOf(t, c, "/app/other"); again != tok {
		t.Error("a second request was signed again")
	}
	// A route with the assertion off gets none, and no forged one either.
	if got := assertionOf(t, c, "/plain/x", assertionHeader, forged); got != "" {
		t.Errorf("a route with the assertion off got %q", got)
	}

	// The other replica signs with the same keys: the key set of either
	// verifies its assertion, and names the same person and session. (Its
	// issuer is its own origin, another port here; behind one load
	// balancer, replicas share the origin.)
	onB := c.For(b)
	tokB := assertionOf(t, onB, "/app")
	claimsB, kidB, err := verifyAssertion(tokB, jwksKeys(t, a.URL), b.URL, aud, time.Now())
	if err != nil {
		t.Fatalf("replica B's assertion with A's key set: %v", err)
	}
	if kidB != kid || claimsB.Subject != u.ID || claimsB.SID != claims.SID {
		t.Errorf("replica B: kid %s (A %s), claims %+v", kidB, kid, claimsB)
	}

	// A change of groups is signed afresh on the next request.
	if err := a.Store.UpdateUser(ctx, u.ID, store.UserUpdate{Groups: &[]string{"eng", "ops"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		got := assertionOf(t, c, "/app")
		cl, _, err := verifyAssertion(got, keys, iss, aud, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(cl.Groups, ",") == "eng,ops" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("groups in the assertion after the change: %v", cl.Groups)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Rotation: the new key is published on both replicas before it signs;
	// the old key stays published, and what it signed verifies until it
	// expires.
	if err := a.Assertions.Rotate(ctx); err != nil {
		t.Fatal(err)
	}
	var newKid string
	for deadline := time.Now().Add(5 * time.Second); newKid == ""; {
		got := assertionOf(t, onB, "/app")
		setB := jwksKeys(t, b.URL)
		cl, k, err := verifyAssertion(got, setB, b.URL, aud, time.Now())
		if err != nil {
			t.Fatalf("after the rotation, B's assertion with B's key set: %v", err)
		}
		if k != kid {
			newKid = k
			if cl.Subject != u.ID {
				t.Errorf("claims under the new key: %+v", cl)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("the new key never signed")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, base := range []string{a.URL, b.URL} {
		set := jwksKeys(t, base)
		if set[kid] == nil || set[newKid] == nil {
			t.Fatalf("%s publishes %d keys, want the old and the new", base, len(set))
		}
		if _, _, err := verifyAssertion(tok, set, iss, aud, time.Now()); err != nil {
			t.Errorf("the old assertion after the rotation: %v", err)
		}
		if _, _, err := verifyAssertion(tok, set, iss, aud, claims.ExpiresAt.Add(time.Second)); !errors.Is(err, jwt.ErrTokenExpired) {
			t.Errorf("the old assertion past its expiry: %v, want expired", err)
		}
	}

	// A signed-out session gets no assertion: its requests are refused
	// before anything is proxied, on both replicas.
	if resp := c.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	refusedWithin(t, onB, 2*time.Second, "logout on A")
	if e, resp := c.Echo(t, "/app"); e != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("a signed-out session: %d", resp.StatusCode)
	}
}

func TestAssertionWithAPortalNamesThePortalAsIssuer(t *testing.T) {
	g := portalGateway(t, harness.Options{Configure: func(c *config.Config) { c.Assertion.Enabled = true }})
	g.CreateUser(t, "bea")
	c := portalSignIn(t, g, "bea")
	tok := assertionOf(t, c, "/app")
	onPortal, onApp := jwksKeys(t, g.PortalURL), jwksKeys(t, g.URL)
	if len(onPortal) != 1 || len(onApp) != 1 {
		t.Fatalf("key sets: portal %d keys, app host %d", len(onPortal), len(onApp))
	}
	cl, _, err := verifyAssertion(tok, onApp, g.PortalURL, "127.0.0.1", time.Now())
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	if cl.Name != "bea" {
		t.Errorf("claims %+v", cl)
	}
}
