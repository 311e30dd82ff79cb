package e2e

import (
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/gateway/internal/testkit/harness"
)

// TestAPIRefusesWeakPasswords sends the weak passwords of the black-box
// run to POST me/password: each is refused 422 weak_password with a reason
// in plain words, nothing changes, and a 16-character random password is
// then accepted.
func TestAPIRefusesWeakPasswords(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)

	weak := []struct{ pw, reason string }{
		{strings.Repeat(" ", 12), "no visible characters"},
		{strings.Repeat("\t", 12), "no visible characters"},
		{strings.Repeat("\u00a0", 12), "no visible characters"},
		{strings.Repeat("\u200b", 12), "no visible characters"},
		{"aaaaaaaaaaaa", "one character repeated"},
		{"111111111111", "one character repeated"},
		{"123456789012", "sequence"},
		{"abcdefghijkl", "sequence"},
		{"qwertyuiopas", "sequence"},
		{"passwordpassword", "repeats a short pattern"},
		{"abcabcabcabc", "repeats a short pattern"},
		{"password1234 ", "too common"},
		{"alice2024!alice", "username or email"},
		{"monkeydragon1", "too easy to guess"},
	}
	for _, w := range weak {
		var e apiErr
		resp := acctCall(t, c, "POST", "/me/password", passwordBody(harness.TestPassword, w.pw), &e)
		if resp.StatusCode != http.StatusUnprocessableEntity || e.Code != "weak_password" || !strings.Contains(e.Error, w.reason) {
			t.Errorf("new password %q: %d %+v; want 422 weak_password saying %q", w.pw, resp.StatusCode, e, w.reason)
		}
	}

	strong := rand.Text()[:16]
	if resp := acctCall(t, c, "POST", "/me/password", passwordBody(harness.TestPassword, strong), nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("random 16-character password: status %d, want 204", resp.StatusCode)
	}
	acctLogin(t, g, "alice", strong, uaFirefox)
}

func passwordBody(current, next string) string {
	b, _ := json.Marshal(map[string]string{"current_password": current, "new_password": next})
	return string(b)
}

// TestPasswordCheckAPI: the meter's endpoint judges without changing
// anything, and only the password page may run the gateway's own script.
func TestPasswordCheckAPI(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)

	var got struct{ Strength, Reason string }
	if resp := acctCall(t, c, "POST", "/me/password/check", `{"new_password":"alice@example.com"}`, &got); resp.StatusCode != http.StatusOK ||
		got.Strength != "weak" || !strings.Contains(got.Reason, "username or email") {
		t.Errorf("check of the email: %d %+v; want weak with the reason", resp.StatusCode, got)
	}
	got.Reason = ""
	if resp := acctCall(t, c, "POST", "/me/password/check", `{"new_password":"`+rand.Text()[:16]+`"}`, &got); resp.StatusCode != http.StatusOK ||
		got.Strength != "strong" || got.Reason != "" {
		t.Errorf("check of a random password: %d %+v; want strong", resp.StatusCode, got)
	}
	if resp := acctCall(t, g.NewClient(t), "POST", "/me/password/check", `{"new_password":"x"}`, nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("check without a session: %d, want 401", resp.StatusCode)
	}
	acctLogin(t, g, "alice", harness.TestPassword, uaFirefox) // the password is unchanged

	csp := func(path string) string {
		resp := c.Get(t, path)
		resp.Body.Close()
		return resp.Header.Get("Content-Security-Policy")
	}
	if p := csp("/.gateway/account/password"); !strings.Contains(p, "script-src 'self'") || strings.Contains(p, "unsafe") {
		t.Errorf("password page CSP %q; want script-src 'self' and nothing unsafe", p)
	}
	if p := csp("/.gateway/account"); strings.Contains(p, "script-src") || !strings.Contains(p, "default-src 'none'") {
		t.Errorf("account page CSP %q; want no script at all", p)
	}
	resp := c.Get(t, "/.gateway/static/password-strength.js")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Header.Get("Content-Type"), "javascript") {
		t.Errorf("the meter's script: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}
