package e2e

import (
	"bufio"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// identityNames are the default identity headers.
var identityNames = []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups"}

// rawRequest sends a hand-written HTTP/1.1 request (so header names go out
// exactly as spelled) and returns the response.
func rawRequest(t *testing.T, addr, head string) *http.Response {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, strings.ReplaceAll(head, "\n", "\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// identitySeen lists every header the upstream received whose name is an
// identity header in some spelling, with its values.
func identitySeen(e *harness.Echoed) map[string][]string {
	out := map[string][]string{}
	for k, vs := range e.Header {
		n := httpsafe.NormalizeHeaderName(k)
		for _, id := range identityNames {
			if n == httpsafe.NormalizeHeaderName(id) {
				out[k] = vs
			}
		}
	}
	return out
}

func TestSpoofedIdentityHeadersStripped(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.PublicPaths = []string{"/public/"} }})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	cookie := g.Config.Cookie.Name + "=" + c.SessionCookie()
	addr := strings.TrimPrefix(g.URL, "http://")

	spoofs := map[string]string{
		"canonical":           "X-Forwarded-User: mallory\nX-Forwarded-Email: m@evil.example\nX-Forwarded-Groups: admin\n",
		"lower case":          "x-forwarded-user: mallory\nx-forwarded-groups: admin\n",
		"underscores":         "X_Forwarded_User: mallory\nX_FORWARDED_GROUPS: admin\n",
		"mixed":               "X-FORWARDED_USER: mallory\nx_forwarded-Email: m@evil.example\n",
		"several values":      "X-Forwarded-User: mallory\nX-Forwarded-User: eve\nX-Forwarded-Groups: admin, support\n",
		"named in Connection": "Connection: keep-alive, X-Forwarded-User, x_forwarded_groups\nX-Forwarded-User: mallory\n",
		"dotted":              "X.Forwarded.User: mallory\n",
	}
	for name, spoof := range spoofs {
		for _, tc := range []struct {
			path, cookie string
			want         map[string]string
		}{
			{"/app", cookie, map[string]string{"X-Forwarded-User": "alice", "X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "user"}},
			{"/public/page", "", nil},
			{"/public/page", cookie, map[string]string{"X-Forwarded-User": "alice", "X-Forwarded-Email": "alice@example.com", "X-Forwarded-Groups": "user"}},
		} {
			t.Run(fmt.Sprintf("%s %s cookie=%v", name, tc.path, tc.cookie != ""), func(t *testing.T) {
				head := "GET " + tc.path + " HTTP/1.1\nHost: " + addr + "\n" + spoof
				if tc.cookie != "" {
					head += "Cookie: " + tc.cookie + "\n"
				}
				resp := rawRequest(t, addr, head+"\n")
				defer resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					t.Fatalf("status %d", resp.StatusCode)
				}
				var e harness.Echoed
				if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
					t.Fatal(err)
				}
				got := identitySeen(&e)
				for k, vs := range got {
					if want, ok := tc.want[k]; !ok || len(vs) != 1 || vs[0] != want {
						t.Errorf("upstream received %s: %q (want %q)", k, vs, tc.want[k])
					}
				}
				for k := range tc.want {
					if _, ok := got[k]; !ok {
						t.Errorf("upstream did not receive %s", k)
					}
				}
				if strings.Contains(strings.ToLower(strings.Join(e.Header.Values("Connection"), ",")), "forwarded") {
					t.Errorf("Connection still names an identity header: %q", e.Header.Values("Connection"))
				}
			})
		}
	}
}

func TestSpoofedIdentityInTrailersStripped(t *testing.T) {
	trailers := make(chan http.Header, 1)
	g := harness.Start(t, harness.Options{Upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		trailers <- r.Trailer
	})})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	addr := strings.TrimPrefix(g.URL, "http://")
	resp := rawRequest(t, addr, "POST /upload HTTP/1.1\nHost: "+addr+"\nCookie: "+g.Config.Cookie.Name+"="+c.SessionCookie()+
		"\nTrailer: X-Forwarded-User\nTransfer-Encoding: chunked\n\n3\nabc\n0\nX-Forwarded-User: mallory\nX-Checksum: 1\n\n")
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	tr := <-trailers
	for k, vs := range tr {
		if httpsafe.NormalizeHeaderName(k) == "x-forwarded-user" {
			t.Errorf("upstream received trailer %s: %q", k, vs)
		}
	}
}

func TestForwardedForFromUntrustedAndTrustedPeers(t *testing.T) {
	for _, tc := range []struct {
		name      string
		trusted   []string
		wantXFF   string
		wantProto string
		wantHost  string
	}{
		{"untrusted peer", nil, "127.0.0.1", "http", ""},
		{"trusted proxy", []string{"127.0.0.1/32"}, "203.0.113.7, 10.0.0.1, 127.0.0.1", "https", "app.example.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
				c.TrustedProxies = tc.trusted
				c.PublicPaths = []string{"/public/"}
			}})
			c := g.NewClient(t)
			e, resp := c.Echo(t, "/public/x",
				"X-Forwarded-For", "203.0.113.7, 10.0.0.1",
				"X-Forwarded-Proto", "https",
				"X-Forwarded-Host", "app.example.com",
				"Forwarded", "for=198.51.100.1;proto=https",
				"X-Real-IP", "198.51.100.2")
			if e == nil {
				t.Fatalf("not proxied: %d", resp.StatusCode)
			}
			if got := e.Header.Values("X-Forwarded-For"); len(got) != 1 || got[0] != tc.wantXFF {
				t.Errorf("X-Forwarded-For = %q, want %q", got, tc.wantXFF)
			}
			if got := e.Header.Get("X-Forwarded-Proto"); got != tc.wantProto {
				t.Errorf("X-Forwarded-Proto = %q, want %q", got, tc.wantProto)
			}
			wantHost := tc.wantHost
			if wantHost == "" {
				wantHost = strings.TrimPrefix(g.URL, "http://")
			}
			if got := e.Header.Get("X-Forwarded-Host"); got != wantHost {
				t.Errorf("X-Forwarded-Host = %q, want %q", got, wantHost)
			}
			for _, h := range []string{"Forwarded", "X-Real-Ip"} {
				if v := e.Header.Get(h); v != "" {
					t.Errorf("client-sent %s reached the upstream: %q", h, v)
				}
			}
		})
	}
}

func TestWebSocketUpgradePassesThrough(t *testing.T) {
	// Also through the access log's response writer, which must let the
	// proxy flush and hijack.
	for _, access := range []bool{false, true} {
		t.Run(fmt.Sprintf("access_log=%v", access), func(t *testing.T) { testWebSocketUpgradePassesThrough(t, access) })
	}
}

func testWebSocketUpgradePassesThrough(t *testing.T, access bool) {
	users := make(chan string, 1)
	g := harness.Start(t, withAccessLog(access, harness.Options{Upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "want an upgrade", http.StatusBadRequest)
			return
		}
		users <- r.Header.Get("X-Forwarded-User")
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
			base64.StdEncoding.EncodeToString(sum[:]))
		_ = rw.Flush()
		// Echo bytes back until the client closes: the tunnel must carry
		// both directions.
		buf := make([]byte, 64)
		for {
			n, err := rw.Read(buf)
			if err != nil {
				return
			}
			if _, err := conn.Write(buf[:n]); err != nil {
				return
			}
		}
	})}))
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	addr := strings.TrimPrefix(g.URL, "http://")

	upgrade := "GET /ws HTTP/1.1\nHost: " + addr + "\nUpgrade: websocket\nConnection: Upgrade\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\nOrigin: " + g.URL + "\n"

	// Without a session the upgrade is refused before reaching the app.
	if resp := rawRequest(t, addr, upgrade+"\n"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("upgrade without a session: %d", resp.StatusCode)
	}

	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	head := upgrade + "Cookie: " + g.Config.Cookie.Name + "=" + c.SessionCookie() + "\nX-Forwarded-User: mallory\n\n"
	if _, err := io.WriteString(conn, strings.ReplaceAll(head, "\n", "\r\n")); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %d", resp.StatusCode)
	}
	if want := "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="; resp.Header.Get("Sec-WebSocket-Accept") != want {
		t.Errorf("Sec-WebSocket-Accept = %q", resp.Header.Get("Sec-WebSocket-Accept"))
	}
	if u := <-users; u != "alice" {
		t.Errorf("upstream saw X-Forwarded-User %q on the upgrade, want alice", u)
	}
	for _, msg := range []string{"hello", "second frame"} {
		if _, err := io.WriteString(conn, msg); err != nil {
			t.Fatal(err)
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(br, got); err != nil {
			t.Fatalf("reading the echo through the tunnel: %v", err)
		}
		if string(got) != msg {
			t.Errorf("tunnel echoed %q, want %q", got, msg)
		}
	}
}

func TestServerSentEventsStreamIncrementally(t *testing.T) {
	// Also through the access log's response writer, which must let the
	// proxy flush and hijack.
	for _, access := range []bool{false, true} {
		t.Run(fmt.Sprintf("access_log=%v", access), func(t *testing.T) { testServerSentEventsStreamIncrementally(t, access) })
	}
}

func testServerSentEventsStreamIncrementally(t *testing.T, access bool) {
	release := make(chan struct{})
	g := harness.Start(t, withAccessLog(access, harness.Options{Upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
		fmt.Fprint(w, "data: first\n\n")
		_ = http.NewResponseController(w).Flush()
		select { // the stream stays open until the test has seen the first event
		case <-release:
		case <-r.Context().Done():
			return
		}
		fmt.Fprint(w, "data: second\n\n")
	})}))
	defer close(release)
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)

	resp := c.Get(t, "/events", "Accept", "text/event-stream")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	br := bufio.NewReader(resp.Body)
	first := make(chan string, 1)
	go func() {
		line, _ := br.ReadString('\n')
		first <- line
	}()
	select {
	case line := <-first:
		if line != "data: first\n" {
			t.Fatalf("first line %q", line)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the first event did not arrive while the upstream kept the stream open: the gateway buffers")
	}
	release <- struct{}{}
	rest, _ := io.ReadAll(br)
	if !strings.Contains(string(rest), "data: second") {
		t.Errorf("rest of the stream: %q", rest)
	}
}

func TestUpstreamDownGives502(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := "http://" + ln.Addr().String()
	ln.Close() // nothing listens here any more
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.Upstream = dead }})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)

	for range 2 { // a second request proves the first did not break anything
		resp := c.Get(t, "/app", "Accept", "text/html")
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusBadGateway || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("browser: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(string(body), "did not answer") || strings.Contains(string(body), ln.Addr().String()) {
			t.Errorf("502 page: %s", body)
		}
		resp = c.Get(t, "/api/x")
		var j struct{ Error, Code string }
		if resp.StatusCode != http.StatusBadGateway || json.NewDecoder(resp.Body).Decode(&j) != nil || j.Code == "" {
			t.Fatalf("API: %d %+v", resp.StatusCode, j)
		}
	}
	// The gateway's own pages still work.
	if code := codeOf(t, c, "/.gateway/login", "Accept", "text/html"); code != http.StatusFound && code != http.StatusOK {
		t.Errorf("login page with the upstream down: %d", code)
	}
}

func TestPublicPathsMatchTheCleanedPath(t *testing.T) {
	var hits []string
	var mu sync.Mutex
	g := harness.Start(t, harness.Options{
		Configure: func(c *config.Config) { c.PublicPaths = []string{"/public/", "/status"} },
		Upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			hits = append(hits, r.URL.EscapedPath())
			mu.Unlock()
			harness.EchoHandler().ServeHTTP(w, r)
		}),
	})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	cookie := "Cookie: " + g.Config.Cookie.Name + "=" + c.SessionCookie() + "\n"
	addr := strings.TrimPrefix(g.URL, "http://")
	get := func(path, extra string) *http.Response {
		t.Helper()
		mu.Lock()
		hits = nil
		mu.Unlock()
		resp := rawRequest(t, addr, "GET "+path+" HTTP/1.1\nHost: "+addr+"\n"+extra+"\n")
		resp.Body.Close()
		return resp
	}
	upstreamSaw := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), hits...)
	}

	for _, path := range []string{"/public/x", "/public/", "/public/a/b?q=1", "/status"} {
		if resp := get(path, ""); resp.StatusCode != http.StatusOK || len(upstreamSaw()) != 1 {
			t.Errorf("public %s: %d, upstream saw %q", path, resp.StatusCode, upstreamSaw())
		}
	}
	for _, path := range []string{
		"/public", "/publicity", "/PUBLIC/x", "/status/x", "/statusx", "/secret",
		"/public/../secret", "/public/..%2fsecret", "/public/..%2Fsecret", "/public/%2e%2e/secret",
		"/public/..;/secret", "/public/.%2e/secret", "/public/..%252fsecret", "/public/..\\secret",
		"/public/%2e%2e%5csecret", "/public/./x", "//public/../secret", "/public/x/../../secret",
	} {
		resp := get(path, "")
		if resp.StatusCode == http.StatusOK || len(upstreamSaw()) != 0 {
			t.Errorf("anonymous %s: %d, upstream saw %q; want refused", path, resp.StatusCode, upstreamSaw())
		}
	}
	// With a session the same requests go through, and the upstream gets
	// the path as sent (the decision was made on its cleaned reading).
	// Literal dot segments are first redirected to the clean path by the
	// router (the browser then asks for it, and is checked again).
	for path, want := range map[string]string{
		"/public/../secret":      "/secret",
		"/public/..%2fsecret":    "/public/..%2fsecret",
		"/public/%2e%2e/secret":  "/public/%2e%2e/secret",
		"/public/x/../../secret": "/secret",
		"/public/./x":            "/public/x",
	} {
		resp := get(path, cookie)
		saw := upstreamSaw()
		switch {
		case resp.StatusCode == http.StatusOK && len(saw) == 1 && saw[0] == want:
		case resp.StatusCode/100 == 3 && resp.Header.Get("Location") == want && len(saw) == 0:
		default:
			t.Errorf("signed-in %s: %d to %q, upstream saw %q, want %q", path, resp.StatusCode, resp.Header.Get("Location"), saw, want)
		}
	}
}

func TestSignedInPersonOnPublicPathGetsIdentity(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.PublicPaths = []string{"/public/"} }})
	u := g.CreateUser(t, "alice")
	c := g.NewClient(t)
	e, _ := c.Echo(t, "/public/home")
	if e == nil || len(identitySeen(e)) != 0 {
		t.Fatalf("anonymous on a public path: %+v", e)
	}
	c.Login(t, "alice", harness.TestPassword)
	e, _ = c.Echo(t, "/public/home")
	if e == nil || e.Header.Get("X-Forwarded-User") != "alice" {
		t.Fatalf("signed in on a public path: %+v", e)
	}
	// A session that ended is forgotten on a public path, which still answers.
	disableUser(t, g, u.ID)
	deadline := time.Now().Add(2 * time.Second)
	for {
		e, resp := c.Echo(t, "/public/home")
		if e == nil {
			t.Fatalf("public path with an ended session: %d", resp.StatusCode)
		}
		if e.Header.Get("X-Forwarded-User") == "" {
			if c.SessionCookie() != "" {
				t.Error("the ended session's cookie was not cleared on the public path")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a disabled user still gets identity headers on a public path")
		}
		time.Sleep(15 * time.Millisecond)
	}
}

func TestRoutesByHostAndPathPrefix(t *testing.T) {
	named := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"app": name, "path": r.URL.Path, "user": r.Header.Get("X-Forwarded-User")})
		}))
		t.Cleanup(s.Close)
		return s
	}
	api, admin, docs, fallback := named("api"), named("admin"), named("docs"), named("fallback")
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.Upstream = fallback.URL
		c.Routes = []config.Route{
			{PathPrefix: "/api/", Upstream: api.URL},
			{PathPrefix: "/api/admin/", Upstream: admin.URL},
			{Host: "docs.example.com", PathPrefix: "/", Upstream: docs.URL + "/base"},
		}
	}})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	for _, tc := range []struct{ host, path, app, upstreamPath string }{
		{"", "/api/items", "api", "/api/items"},
		{"", "/api", "api", "/api"},
		{"", "/api/admin/users", "admin", "/api/admin/users"}, // longest prefix wins
		{"", "/api/../api/admin/x", "admin", "/api/admin/x"},
		{"", "/apiary", "fallback", "/apiary"},
		{"", "/", "fallback", "/"},
		{"docs.example.com", "/api/items", "docs", "/base/api/items"}, // host routes first
		{"DOCS.example.com:8080", "/guide", "docs", "/base/guide"},
	} {
		req, _ := http.NewRequest(http.MethodGet, g.URL+tc.path, nil)
		if tc.host != "" {
			req.Host = tc.host
		}
		req.Header.Set("Cookie", g.Config.Cookie.Name+"="+c.SessionCookie())
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		err = json.NewDecoder(resp.Body).Decode(&got)
		resp.Body.Close()
		if resp.StatusCode/100 == 3 { // the router cleans literal dot segments first
			continue
		}
		if err != nil || got["app"] != tc.app || got["path"] != tc.upstreamPath || got["user"] != "alice" {
			t.Errorf("%s%s: %d %v, want app %s path %s", tc.host, tc.path, resp.StatusCode, got, tc.app, tc.upstreamPath)
		}
	}
}

func TestPathOverrideAndClientIPHeadersStripped(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		kept    []string // connection headers the upstream may see
	}{
		{"untrusted peer", nil, nil},
		{"trusted proxy", []string{"127.0.0.1/32"}, []string{"X-Forwarded-Prefix", "X-Forwarded-Port", "True-Client-Ip"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
				c.PublicPaths = []string{"/public/"}
				c.TrustedProxies = tc.trusted
			}})
			addr := strings.TrimPrefix(g.URL, "http://")
			// A public path, asking the app to serve another one instead.
			resp := rawRequest(t, addr, "GET /public/x HTTP/1.1\nHost: "+addr+"\n"+
				"X-Original-URL: /admin\nX-Rewrite-URL: /admin\nX_Original_URL: /admin\nx-original-uri: /admin\n"+
				"X-Forwarded-Uri: /admin\nX-Forwarded-Prefix: /evil\nX-Forwarded-Port: 8443\n"+
				"X_Forwarded_For: 6.6.6.6\nX-FORWARDED_HOST: evil.example\nTrue-Client-IP: 6.6.6.6\n"+
				"Forwarded: for=6.6.6.6\nX_Real_IP: 6.6.6.6\n\n")
			defer resp.Body.Close()
			var e harness.Echoed
			if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
				t.Fatalf("status %d: %v", resp.StatusCode, err)
			}
			if e.Path != "/public/x" {
				t.Errorf("upstream path %q", e.Path)
			}
			kept := map[string]bool{}
			for _, k := range tc.kept {
				kept[k] = true
			}
			for k, vs := range e.Header {
				if kept[k] {
					continue
				}
				for _, v := range vs {
					if strings.Contains(v, "admin") || strings.Contains(v, "evil") || strings.Contains(v, "6.6.6.6") || v == "8443" {
						t.Errorf("upstream received %s: %q", k, v)
					}
				}
			}
			for _, k := range tc.kept {
				if e.Header.Get(k) == "" {
					t.Errorf("a trusted proxy's %s did not reach the upstream", k)
				}
			}
		})
	}
}

func TestTraceAndConnectAreRefused(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.PublicPaths = []string{"/public/"} }})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	for _, path := range []string{"/app", "/public/x"} {
		resp := c.Do(t, http.MethodTrace, path, nil)
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("TRACE %s: %d, want 405 (the app must never echo the request)", path, resp.StatusCode)
		}
	}
}

// withAccessLog turns the access log on in o when on is set.
func withAccessLog(on bool, o harness.Options) harness.Options {
	if on {
		o.AccessLog = &lockedBuffer{}
		o.Configure = func(c *config.Config) { c.Log.Access = true }
	}
	return o
}
