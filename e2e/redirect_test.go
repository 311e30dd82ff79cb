package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// redirectHosts is the allow-list the rd tests run with.
var redirectHosts = []string{"allowed.example.com", ".corp.example.com"}

// safeLocation reports whether a Location header keeps the browser on the
// gateway's origin or sends it to an allow-listed host, judged the way a
// browser reads it (backslashes as slashes, tabs and newlines dropped).
func safeLocation(loc string) bool {
	b := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(loc)
	if strings.HasPrefix(b, "/") {
		return !strings.HasPrefix(b, "//")
	}
	u, err := url.Parse(b)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil {
		return false
	}
	h := u.Hostname()
	return h == "allowed.example.com" || h == "corp.example.com" || strings.HasSuffix(h, ".corp.example.com")
}

func TestRedirectAttacksThroughLoginForm(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.RedirectHosts = redirectHosts }})
	g.CreateUser(t, "alice")

	attacks := []string{
		"//evil.com",
		"///evil.com",
		"////evil.com/x",
		"/\\evil.com",
		"\\\\evil.com",
		"\\/evil.com",
		"/\t/evil.com",
		"/\n/evil.com",
		"/\r\n/evil.com",
		"/ /evil.com",
		" //evil.com",
		"https://evil.com",
		"http://evil.com/",
		"HTTPS://EVIL.COM",
		"https:evil.com",
		"https:/evil.com",
		"https:\\\\evil.com",
		"javascript:alert(1)",
		"JavaScript:alert(document.cookie)",
		"java\tscript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"vbscript:msgbox(1)",
		"ftp://allowed.example.com/",
		"https://allowed.example.com@evil.com",
		"https://allowed.example.com:443@evil.com",
		"https://user:pass@allowed.example.com/",
		"https://allowed.example.com.evil.com",
		"https://allowed.example.com.evil.com/",
		"https://evilallowed.example.com/",
		"https://corp.example.com.evil.com/",
		"https://evil.com/allowed.example.com",
		"https://evil.com?allowed.example.com",
		"https://evil.com#allowed.example.com",
		"https://evil.com\\@allowed.example.com",
		"https://allowed.example.com\\@evil.com",
		"https://allowed.example.com%2F@evil.com",
		"https://allowed.example.com%00.evil.com/",
		"https://\u0430llowed.example.com/", // Cyrillic a
		"https://allowed.example.com./",
		"%2F%2Fevil.com",
		"/%2F%2Fevil.com",
		"/%2fevil.com",
		"/%5cevil.com",
		"/%5Cevil.com",
		"/%252F%252Fevil.com",
		"/%09/evil.com",
		"/%0d%0aSet-Cookie:x=1",
		"/\u3000/evil.com",      // ideographic space
		"/\u200b/evil.com",      // zero-width space
		"/\uff0f\uff0fevil.com", // fullwidth solidus: may stay, percent-encoded, as a local path
		"evil.com",
		"@evil.com",
		"//allowed.example.com@evil.com",
		"http://0x7f000001/",
		"http://2130706433/",
		"http://[::1]/",
		"/" + strings.Repeat("a", 5000),
	}
	for _, rd := range attacks {
		t.Run(rd, func(t *testing.T) {
			c := g.NewClient(t)
			resp := signIn(t, c, "alice", harness.TestPassword, rd)
			loc := resp.Header.Get("Location")
			if resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d", resp.StatusCode)
			}
			if !safeLocation(loc) {
				t.Fatalf("rd %q led to Location %q", rd, loc)
			}
			// Anything doubtful falls back to the start page, not to a
			// "repaired" version of the attacker's string.
			if strings.Contains(strings.ToLower(loc), "evil") && !strings.HasPrefix(loc, "/%EF%BC%8F") {
				t.Errorf("rd %q led to Location %q", rd, loc)
			}
			// The login page itself, when already signed in, follows rd
			// the same way.
			resp = c.Get(t, "/.gateway/login?rd="+url.QueryEscape(rd), "Accept", "text/html")
			if loc2 := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !safeLocation(loc2) || loc2 != loc {
				t.Errorf("signed-in GET login with rd %q: %d to %q, want %q as after the form", rd, resp.StatusCode, loc2, loc)
			}
		})
	}
}

func TestAllowedRedirectsThroughLoginForm(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.RedirectHosts = redirectHosts }})
	g.CreateUser(t, "alice")
	for _, tc := range []struct{ rd, want string }{
		{"", "/"},
		{"/", "/"},
		{"/app/page?x=1&y=2#frag", "/app/page?x=1&y=2#frag"},
		{"/app/../other/", "/other/"},
		{"/app//double", "/app/double"},
		{"https://allowed.example.com/dash?x=1", "https://allowed.example.com/dash?x=1"},
		{"HTTPS://allowed.example.com/p", "https://allowed.example.com/p"},
		{"https://allowed.example.com:8443/p", "https://allowed.example.com:8443/p"},
		{"https://corp.example.com/", "https://corp.example.com/"},
		{"https://deep.sub.corp.example.com/x", "https://deep.sub.corp.example.com/x"},
	} {
		t.Run(tc.rd, func(t *testing.T) {
			resp := signIn(t, g.NewClient(t), "alice", harness.TestPassword, tc.rd)
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != tc.want {
				t.Errorf("rd %q: %d to %q, want %q", tc.rd, resp.StatusCode, loc, tc.want)
			}
		})
	}
}

func TestProtectedPathSendsBrowserToLoginAndBack(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	resp := c.Get(t, "/reports/2024?sort=date&dir=up", "Accept", "text/html")
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/.gateway/login?") {
		t.Fatalf("browser without a session: %d to %q", resp.StatusCode, loc)
	}
	u, _ := url.Parse(loc)
	rd := u.Query().Get("rd")
	if rd != "/reports/2024?sort=date&dir=up" {
		t.Fatalf("rd = %q", rd)
	}
	// The form carries rd through the sign-in and lands where the person was going.
	resp = c.Get(t, loc, "Accept", "text/html")
	if got := pageHiddenRD(t, resp); got != rd {
		t.Errorf("login form rd = %q, want %q", got, rd)
	}
	resp = signIn(t, c, "alice", harness.TestPassword, rd)
	if got := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || got != rd {
		t.Errorf("after sign-in: %d to %q, want %q", resp.StatusCode, got, rd)
	}

	// POST from a browser without a session is not redirected (the body
	// would be lost): it gets 401.
	anon := g.NewClient(t)
	resp = anon.Do(t, http.MethodPost, "/reports", strings.NewReader("x=1"), "Accept", "text/html")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("anonymous browser POST: %d, want 401", resp.StatusCode)
	}
}

// pageHiddenRD reads the rd field of the login form.
func pageHiddenRD(t *testing.T, resp *http.Response) string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	v, _ := doc.Find(`form input[name="rd"]`).Attr("value")
	return v
}
