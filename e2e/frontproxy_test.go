package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// runFrontProxy starts a fronting proxy (Caddy, nginx) and waits until it
// listens on 127.0.0.1:port; the test's cleanup stops it with stop (killed
// after 5 s). busy reports that it exited because another process took the
// port meanwhile, so the caller can try another; any other exit, or no
// listener within 10 s, fails the test with the proxy's output and, when
// logFile is set, its log.
func runFrontProxy(t *testing.T, cmd *exec.Cmd, port int, stop os.Signal, logFile string) (base string, busy bool) {
	t.Helper()
	name := filepath.Base(cmd.Path)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var out bytes.Buffer // written by exec's copier until Wait returns
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	said := func() string { // only once exited: out is no longer written
		s := out.String()
		if logFile != "" {
			log, _ := os.ReadFile(logFile)
			s += "\n" + string(log)
		}
		return s
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			c.Close()
			t.Cleanup(func() {
				_ = cmd.Process.Signal(stop)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					_ = cmd.Process.Kill()
					<-exited
				}
			})
			return "http://" + addr, false
		}
		select {
		case <-exited:
			s := said()
			if strings.Contains(strings.ToLower(s), "address already in use") {
				return "", true
			}
			t.Fatalf("%s exited: %s", name, s)
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			<-exited
			t.Fatalf("%s did not start listening: %s", name, said())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// fronted is a browser-like client of a fronting proxy.
type fronted struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newFronted(t *testing.T, base string) *fronted {
	jar, _ := cookiejar.New(nil)
	return &fronted{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (f *fronted) do(method, path string, body io.Reader, header ...string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.base+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/html")
	for i := 0; i+1 < len(header); i += 2 { // names go out as spelled
		req.Header[header[i]] = append(req.Header[header[i]], header[i+1])
	}
	resp, err := f.c.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func (f *fronted) signIn(name string) {
	f.t.Helper()
	form := url.Values{"username": {name}, "password": {harness.TestPassword}, "rd": {"/"}}
	resp, body := f.do(http.MethodPost, "/.gateway/login", strings.NewReader(form.Encode()),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", f.base)
	if resp.StatusCode != http.StatusSeeOther {
		f.t.Fatalf("sign-in of %s through the proxy: %d %.300s", name, resp.StatusCode, body)
	}
}

// rulesGateway runs a gateway for forward-auth with a rule on /admin/ and
// a public path, and the app behind the fronting proxy.
func rulesGateway(t *testing.T) (*harness.Gateway, *httptest.Server) {
	t.Helper()
	app := httptest.NewServer(harness.EchoHandler())
	t.Cleanup(app.Close)
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.1/32"} // the fronting proxy
		c.MFA.Require = "off"
		c.Assertion.Enabled = true
		c.PublicPaths = []string{"/public/"}
		c.Routes = []config.Route{
			{PathPrefix: "/admin/", Upstream: app.URL, RouteRules: config.RouteRules{Allow: config.Principals{Roles: []string{"admin"}}}},
			{PathPrefix: "/", Upstream: app.URL},
		}
	}})
	g.CreateUser(t, "alice", "user", "admin")
	g.CreateUser(t, "pat")
	return g, app
}

// spoofedIdentity is a client's copy of each identity header in spellings
// that many app stacks (PHP, CGI, WSGI, Rack) read as the real name.
var spoofedIdentity = []string{
	"X_Forwarded_User", "eve", "x_FORWARDED_user", "eve", "X-Forwarded_User", "eve", "X.Forwarded.User", "eve",
	"x-forwarded-USER", "eve", "X_Forwarded_Email", "eve@example.com", "X-FORWARDED-EMAIL", "eve@example.com",
	"X_Forwarded_Groups", "admin", "x-forwarded-groups", "admin", "X_Gateway_Assertion", "forged",
	"X-Gateway-Assertion", "forged",
}

// checkFrontedSpoofing sends spoofedIdentity through a fronting proxy as an
// anonymous client and as alice, on a protected and a public path: the app
// sees the gateway's own identity for alice and nothing else in any
// spelling, and no unexpanded placeholder of the proxy's config.
func checkFrontedSpoofing(t *testing.T, base string) {
	anon, alice := newFronted(t, base), newFronted(t, base)
	alice.signIn("alice")
	if resp, body := anon.do(http.MethodGet, "/app/x", nil, spoofedIdentity...); resp.StatusCode != http.StatusFound {
		t.Errorf("anonymous with spoofed headers on /app/x: %d %.300s", resp.StatusCode, body)
	}
	for _, tc := range []struct {
		who    *fronted
		path   string
		signed bool
	}{{anon, "/public/x", false}, {alice, "/public/x", true}, {alice, "/app/x", true}} {
		resp, body := tc.who.do(http.MethodGet, tc.path, nil, spoofedIdentity...)
		var e harness.Echoed
		if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s (signed in %v): %d %.300s", tc.path, tc.signed, resp.StatusCode, body)
		}
		for k, vs := range e.Header {
			if strings.Contains(strings.Join(vs, " "), "{") {
				t.Errorf("%s (signed in %v): app got %s = %q", tc.path, tc.signed, k, vs)
			}
		}
		got := identitySeen(&e)
		for k, vs := range e.Header {
			if httpsafe.NormalizeHeaderName(k) == "x-gateway-assertion" {
				got[k] = vs
			}
		}
		want := map[string][]string{}
		if tc.signed {
			want = map[string][]string{"X-Forwarded-User": {"alice"}, "X-Forwarded-Email": {"alice@example.com"}, "X-Forwarded-Groups": {"user,admin"}}
			if vs := got["X-Gateway-Assertion"]; len(vs) != 1 {
				t.Errorf("%s: app got assertions %q", tc.path, vs)
			} else if cl, _, err := verifyAssertion(vs[0], jwksKeys(t, base), base, "127.0.0.1", time.Now()); err != nil || cl.Name != "alice" {
				t.Errorf("%s: the assertion the app got: %v %+v", tc.path, err, cl)
			}
			delete(got, "X-Gateway-Assertion")
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s (signed in %v): app got identity headers %q, want %q", tc.path, tc.signed, got, want)
		}
	}
}

// checkFrontedRules runs the same story through any fronting proxy: the
// way to sign in, the identity the app sees (never the client's), route
// rules, public paths and refused paths.
func checkFrontedRules(t *testing.T, base string, refusedPage bool) {
	anon := newFronted(t, base)
	resp, _ := anon.do(http.MethodGet, "/app/page?x=1", nil)
	if resp.StatusCode != http.StatusFound || loginRD(t, resp.Header.Get("Location")) != "/app/page?x=1" {
		t.Fatalf("anonymous: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body := anon.do(http.MethodGet, "/public/x", nil, "X-Forwarded-User", "mallory")
	if resp.StatusCode != http.StatusOK || strings.Contains(body, "mallory") {
		t.Errorf("anonymous on a public path: %d %.300s", resp.StatusCode, body)
	}
	if resp, _ := anon.do(http.MethodGet, "/public", nil); resp.StatusCode == http.StatusOK {
		t.Error(`anonymous on /public: the prefix "/public/" must not open it`)
	}

	alice, pat := newFronted(t, base), newFronted(t, base)
	alice.signIn("alice")
	pat.signIn("pat")
	resp, body = alice.do(http.MethodGet, "/admin/x", nil, "X-Forwarded-User", "mallory")
	var e harness.Echoed
	if err := json.Unmarshal([]byte(body), &e); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("admin on /admin/x: %d %.300s", resp.StatusCode, body)
	}
	if got := e.Header.Values("X-Forwarded-User"); len(got) != 1 || got[0] != "alice" {
		t.Errorf("app saw X-Forwarded-User %q, want alice", got)
	}
	resp, body = pat.do(http.MethodGet, "/admin/x", nil)
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("plain user on /admin/x: %d, want 403", resp.StatusCode)
	}
	if refusedPage && !strings.Contains(body, "signed in as pat") {
		t.Errorf("403 page does not say who is signed in: %.300s", body)
	}
	if resp, _ := pat.do(http.MethodGet, "/ADMIN/x", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("plain user on /ADMIN/x: %d, want 403", resp.StatusCode)
	}
	if resp, _ := pat.do(http.MethodGet, "/app/x", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("plain user on /app/x: %d, want 200", resp.StatusCode)
	}
	// A path the gateway refuses never reaches the app.
	for _, path := range []string{"/app/x%00y", "/admin/..%2F..%2Fapp/x", "/admin;x/y"} {
		if resp, body := alice.do(http.MethodGet, path, nil); resp.StatusCode == http.StatusOK {
			t.Errorf("%s through the proxy: 200 %.200s", path, body)
		}
	}
}
