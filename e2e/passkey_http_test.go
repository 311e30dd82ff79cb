package e2e

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// localhostClient is a browser-like client that reaches the gateway as
// http://localhost:PORT (a valid relying-party id), keeping cookies and
// not following redirects.
func localhostClient() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// localhostSignIn signs user in with the password form at base (a
// localhost origin, where passkeys work) and returns the signed-in client.
func localhostSignIn(t *testing.T, base, user string) *http.Client {
	t.Helper()
	c := localhostClient()
	form := url.Values{"username": {user}, "password": {harness.TestPassword}, "rd": {"/"}}
	req, _ := http.NewRequest(http.MethodPost, base+"/.gateway/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", base)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in as %s: %d", user, resp.StatusCode)
	}
	return c
}

func passkeyPost(t *testing.T, c *http.Client, u, ctype, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "text/html")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// TestPasskeyLoginPageByHost: reached by a host name, the login page offers
// passkeys (button, autofill hint, its script allowed by the CSP and
// nothing else); reached by an IP address it says why not instead, and the
// ceremony answers 409; with mfa.passkeys false nothing of it is there.
func TestPasskeyLoginPageByHost(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	c := localhostClient()
	resp, err := c.Get(passkeyURL(g.URL) + "/.gateway/login")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if doc.Find("#passkey-signin").Length() != 1 || doc.Find(`input[autocomplete="username webauthn"]`).Length() != 1 ||
		doc.Find(`script[src="/.gateway/static/passkey.js"]`).Length() != 1 {
		t.Fatal("login page by host name: no passkey button, autofill hint or script")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "default-src 'none'") {
		t.Fatalf("CSP with passkeys: %q", csp)
	}
	if js, err := c.Get(passkeyURL(g.URL) + "/.gateway/static/passkey.js"); err != nil || js.StatusCode != http.StatusOK {
		t.Fatalf("passkey.js: %v %v", js, err)
	}

	ip := g.NewClient(t) // http://127.0.0.1:PORT
	resp = ip.Get(t, "/.gateway/login", "Accept", "text/html")
	doc, _ = goquery.NewDocumentFromReader(resp.Body)
	if resp.StatusCode != http.StatusOK || doc.Find("#passkey-signin").Length() != 0 ||
		!strings.Contains(doc.Find("#passkey-note").Text(), "IP address") {
		t.Fatalf("login page by IP address: %d, note %q", resp.StatusCode, doc.Find("#passkey-note").Text())
	}
	if csp := resp.Header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") {
		t.Fatalf("CSP without passkeys allows scripts: %q", csp)
	}
	begin := ip.Do(t, "POST", "/.gateway/login/passkey/begin", nil)
	var e struct{ Code string }
	_ = json.NewDecoder(begin.Body).Decode(&e)
	if begin.StatusCode != http.StatusConflict || e.Code != "passkeys_unavailable" {
		t.Fatalf("begin by IP address: %d %q", begin.StatusCode, e.Code)
	}

	off := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.MFA.Passkeys = false }})
	resp, err = localhostClient().Get(passkeyURL(off.URL) + "/.gateway/login")
	if err != nil {
		t.Fatal(err)
	}
	doc, _ = goquery.NewDocumentFromReader(resp.Body)
	resp.Body.Close()
	if doc.Find("#passkey-signin").Length() != 0 || doc.Find("script").Length() != 0 {
		t.Fatal("mfa.passkeys false: the login page still offers passkeys")
	}
	if r, _ := passkeyPost(t, localhostClient(), passkeyURL(off.URL)+"/.gateway/login/passkey/begin", "", ""); r.StatusCode != http.StatusNotFound {
		t.Fatalf("mfa.passkeys false: begin answers %d", r.StatusCode)
	}
}

// TestPasskeyForgedAnswersAreThrottled: answers that do not verify count
// against the client's limit like wrong passwords; past the free ones the
// client waits (429 with Retry-After), and an answer without its ceremony
// is refused without being checked.
func TestPasskeyForgedAnswersAreThrottled(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.Throttle.PasswordIP = config.ThrottlePolicy{Free: 3, Base: config.Duration{Duration: time.Minute},
			Max: config.Duration{Duration: time.Hour}, Forget: config.Duration{Duration: 2 * time.Hour}}
	}})
	base := passkeyURL(g.URL)
	c := localhostClient()
	forged := url.Values{"rd": {"/"}, "credential": {`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AAAA","signature":"AAAA","userHandle":"AAAA"}}`}}.Encode()
	var last *http.Response
	for i := range 4 {
		r, _ := passkeyPost(t, c, base+"/.gateway/login/passkey/begin", "", "")
		if r.StatusCode != http.StatusOK {
			t.Fatalf("begin %d: %d", i, r.StatusCode)
		}
		if i == 0 {
			// The ceremony: kept server-side for at most 3 minutes, bound
			// to this browser by a cookie scripts cannot read, sent only
			// to the sign-in pages.
			ck := r.Header.Get("Set-Cookie")
			if !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Strict") || !strings.Contains(ck, "Path=/.gateway/login") {
				t.Fatalf("ceremony cookie: %q", ck)
			}
			rdb := g.Redis.Client(t)
			keys, _ := rdb.Keys(context.Background(), "gw:webauthn:signin:*").Result()
			if len(keys) != 1 {
				t.Fatalf("ceremonies in Redis: %v", keys)
			}
			if ttl := rdb.TTL(context.Background(), keys[0]).Val(); ttl <= 0 || ttl > 3*time.Minute {
				t.Fatalf("ceremony lives %v", ttl)
			}
		}
		last, _ = passkeyPost(t, c, base+"/.gateway/login/passkey/finish", "application/x-www-form-urlencoded", forged)
		if i < 3 && last.StatusCode != http.StatusUnauthorized {
			t.Fatalf("forged answer %d: %d, want 401", i, last.StatusCode)
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("fourth forged answer: %d Retry-After %q, want 429", last.StatusCode, last.Header.Get("Retry-After"))
	}
	// No ceremony (this browser's was used by the answer above): refused as expired.
	if r, body := passkeyPost(t, c, base+"/.gateway/login/passkey/finish", "application/x-www-form-urlencoded", forged); r.StatusCode != http.StatusBadRequest || !strings.Contains(body, "took too long or was already used") {
		t.Fatalf("answer without a ceremony: %d", r.StatusCode)
	}
}

// TestPasskeyForgedAnswersCountOnTheAccount: forged answers that name an
// account (its user handle) count against that account's second-factor
// limit, and the person sees them in the activity.
func TestPasskeyForgedAnswersCountOnTheAccount(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.Throttle.MFA.Free = 2
	}})
	ivy := g.CreateUser(t, "ivy")
	handle, err := g.Store.PasskeyHandle(context.Background(), ivy.ID)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	// Well-formed, so it is read and names ivy; signed by nobody.
	authData := make([]byte, 37)
	authData[32] = 0x05 // user present, user verified
	clientData := b64([]byte(`{"type":"webauthn.get","challenge":"AAAAAAAAAAAAAAAAAAAAAA","origin":"` + passkeyURL(g.URL) + `"}`))
	forged := url.Values{"rd": {"/"}, "credential": {`{"id":"AAAA","rawId":"AAAA","type":"public-key","response":{"clientDataJSON":"` +
		clientData + `","authenticatorData":"` + b64(authData) + `","signature":"AAAA","userHandle":"` + b64(handle) + `"}}`}}.Encode()
	base := passkeyURL(g.URL)
	var codes []int
	for range 3 {
		c := localhostClient() // a new browser each time: only the account links them
		passkeyPost(t, c, base+"/.gateway/login/passkey/begin", "", "")
		r, _ := passkeyPost(t, c, base+"/.gateway/login/passkey/finish", "application/x-www-form-urlencoded", forged)
		codes = append(codes, r.StatusCode)
	}
	if codes[0] != http.StatusUnauthorized || codes[1] != http.StatusUnauthorized || codes[2] != http.StatusTooManyRequests {
		t.Fatalf("forged answers naming ivy: %v, want 401 401 429", codes)
	}
	failed, paused := 0, 0
	for _, e := range staffEvents(t, g, ivy.ID) {
		if strings.Contains(e.Detail, "passkey not accepted") {
			failed++
		}
		if strings.Contains(e.Detail, "passkey sign-ins paused") {
			paused++
		}
	}
	if failed != 3 || paused != 1 {
		t.Fatalf("ivy's activity: %d failures, %d pauses; want 3 and 1", failed, paused)
	}
}

// TestPasskeyBeginNeedsItsSession: a ceremony bound to a session starts
// only for the session it is for — the second step and forced enrolment
// for a session that owes them, a route's reauth for a signed-in one with
// a passkey — and a refused begin keeps nothing in Redis.
func TestPasskeyBeginNeedsItsSession(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "nina")
	base := passkeyURL(g.URL)
	type refusal struct {
		status int
		code   string
	}
	check := func(who string, c *http.Client, want map[string]refusal) {
		t.Helper()
		for path, w := range want {
			resp, body := passkeyPost(t, c, base+"/.gateway"+path, "", "")
			var e struct {
				Code string `json:"code"`
			}
			_ = json.Unmarshal([]byte(body), &e)
			if resp.StatusCode != w.status || e.Code != w.code {
				t.Errorf("%s: %s answered %d %q, want %d %q", who, path, resp.StatusCode, e.Code, w.status, w.code)
			}
		}
	}
	check("no session", localhostClient(), map[string]refusal{
		"/login/2fa/passkey/begin":     {http.StatusConflict, "no_pending_step"},
		"/login/passkey/setup/begin":   {http.StatusConflict, "no_pending_step"},
		"/login/confirm/passkey/begin": {http.StatusUnauthorized, "unauthenticated"},
	})

	signedIn := localhostSignIn(t, base, "nina")
	check("signed in, no passkey", signedIn, map[string]refusal{
		"/login/2fa/passkey/begin":     {http.StatusConflict, "no_pending_step"},
		"/login/passkey/setup/begin":   {http.StatusConflict, "no_pending_step"},
		"/login/confirm/passkey/begin": {http.StatusConflict, "no_passkey"},
	})
	if keys, _ := g.Redis.Client(t).Keys(context.Background(), "gw:webauthn:*").Result(); len(keys) != 0 {
		t.Errorf("refused begins kept ceremonies: %v", keys)
	}
}

// At the most passkeys an account can hold, adding one is refused up
// front, on the JSON API with the code the README gives and on the page
// with words, and no ceremony is kept.
func TestPasskeyLimitRefusesABegin(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "lena")
	base := passkeyURL(g.URL)
	c := localhostSignIn(t, base, "lena")
	// Passkeys added after the sign-in (as from other devices), up to the limit.
	now := time.Now().UTC()
	for i := range store.MaxPasskeys {
		k := &store.Passkey{ID: []byte{byte(i + 1), 7}, Name: fmt.Sprintf("key %d", i), RPID: "localhost", Created: now, PublicKey: []byte("pk"), Flags: 0x5d}
		if err := g.Store.CreatePasskey(t.Context(), u.ID, k); err != nil {
			t.Fatal(err)
		}
	}
	resp, body := passkeyPost(t, c, base+"/.gateway/api/v1/me/passkeys/register/begin", "application/json", "{}")
	var e struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal([]byte(body), &e)
	if resp.StatusCode != http.StatusConflict || e.Code != "too_many_passkeys" {
		t.Errorf("begin at the limit: %d %q, want 409 too_many_passkeys", resp.StatusCode, e.Code)
	}
	if keys, _ := g.Redis.Client(t).Keys(context.Background(), "gw:webauthn:*").Result(); len(keys) != 0 {
		t.Errorf("a refused begin kept a ceremony: %v", keys)
	}
}
