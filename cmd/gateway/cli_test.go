package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// syncBuffer is a bytes.Buffer safe for the logger and the test at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// cli runs the gateway command line in-process, as main would.
func cli(t *testing.T, environ []string, stdin string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = run(ctx, args, strings.NewReader(stdin), &out, &errOut, environ)
	return out.String(), errOut.String(), err
}

// validEnv is a complete, valid configuration in environment variables.
func validEnv(extra ...string) []string {
	return append([]string{
		"PATH=/usr/bin", // unrelated variables are ignored
		"GATEWAY_SECRET=" + rand.Text() + rand.Text(),
		"GATEWAY_UPSTREAM=http://127.0.0.1:3000",
		"GATEWAY_LISTEN=127.0.0.1:0",
		"GATEWAY_OPS_LISTEN=127.0.0.1:0",
		"GATEWAY_COOKIE_SECURE=false",
	}, extra...)
}

func TestConfigCheckMasksSecrets(t *testing.T) {
	secret, old := "current-"+rand.Text()+rand.Text(), "previous-"+rand.Text()+rand.Text()
	env := append(validEnv(), "GATEWAY_SECRET="+secret, "GATEWAY_PREVIOUS_SECRETS="+old,
		"GATEWAY_REDIS_URL=redis://gateway:hunter2-redis-pass@127.0.0.1:6379/2")
	out, _, err := cli(t, env, "", "config", "check")
	if err != nil {
		t.Fatalf("config check: %v", err)
	}
	for _, leak := range []string{secret, old, "hunter2-redis-pass", secret[:16], old[:16]} {
		if strings.Contains(out, leak) {
			t.Errorf("config check printed a secret (%q):\n%s", leak, out)
		}
	}
	for _, want := range []string{"upstream: http://127.0.0.1:3000", "<set, ", "127.0.0.1:6379", "secure: false"} {
		if !strings.Contains(out, want) {
			t.Errorf("config check output lacks %q:\n%s", want, out)
		}
	}
}

func TestBadConfigurationIsOneLineNamingTheKey(t *testing.T) {
	for _, tc := range []struct{ line, key string }{
		{"GATEWAY_SESSION_IDLE_TIMEOUT=banana", "session.idle_timeout"},
		{"GATEWAY_SESSION_IDLE_TIMEOUT=900h", "session.idle_timeout"},
		{"GATEWAY_COOKIE_SECURE=maybe", "cookie.secure"},
		{"GATEWAY_UPSTREAM=ftp://files.example.com", "upstream"},
		{"GATEWAY_UPSTREAM=", "upstream"},
		{"GATEWAY_SECRET=short", "secret"},
		{"GATEWAY_TRUSTED_PROXIES=10.0.0.0/33", "trusted_proxies"},
		{"GATEWAY_REDIS_URL=mysql://db:3306", "redis.url"},
		{"GATEWAY_LISTEN=nonsense", "listen"},
		{"GATEWAY_REDIRECT_HOSTS=https://x.example.com/", "redirect_hosts"},
		{"GATEWAY_LISTN=:8080", "GATEWAY_LISTN"},
	} {
		t.Run(tc.line, func(t *testing.T) {
			env := append(validEnv(), tc.line)
			for _, cmd := range [][]string{{"config", "check"}, {"serve"}, {}} {
				out, _, err := cli(t, env, "", cmd...)
				if err == nil {
					t.Fatalf("%v accepted %s; printed %s", cmd, tc.line, out)
				}
				msg := err.Error()
				if strings.ContainsAny(msg, "\r\n") {
					t.Errorf("%v: message is not one line: %q", cmd, msg)
				}
				if !strings.Contains(msg, tc.key) {
					t.Errorf("%v: message does not name %s: %q", cmd, tc.key, msg)
				}
			}
		})
	}
}

func TestUsersCommands(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	env := []string{"GATEWAY_REDIS_URL=" + g.Redis.URL()}
	const pw = "tangerine orbit lantern 42"

	out, _, err := cli(t, env, pw+"\n", "users", "add", "Alice", "--email", "alice@example.com", "--role", "user", "--password-stdin")
	if err != nil || !strings.Contains(out, "created user alice") {
		t.Fatalf("users add: %v %q", err, out)
	}
	if _, _, err := cli(t, env, pw+"\n", "users", "add", "alice", "--email", "a2@example.com", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("duplicate users add: %v", err)
	}
	for _, weak := range []struct{ pw, reason string }{
		{"short", "at least 12"},
		{"password1234", "common"},
		{"bob@example.com", "username or email"},
	} {
		_, _, err := cli(t, env, weak.pw+"\n", "users", "add", "bob", "--email", "bob@example.com", "--password-stdin")
		if err == nil || !strings.Contains(err.Error(), weak.reason) {
			t.Errorf("weak password %q: %v, want the reason (%s)", weak.pw, err, weak.reason)
		}
	}
	if _, _, err := cli(t, env, pw+"\n", "users", "add", "carol", "--role", "root", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "--role") {
		t.Errorf("bad role: %v", err)
	}
	if _, _, err := cli(t, env, "", "users", "add", "dave", "--password-stdin"); err == nil {
		t.Error("empty password on stdin accepted")
	}

	out, _, err = cli(t, env, "", "users", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "alice") || !strings.Contains(out, "alice@example.com") || strings.Contains(out, "bob") {
		t.Errorf("users list:\n%s", out)
	}

	// The account works at the gateway, with the hash the CLI wrote.
	c := g.NewClient(t)
	c.Login(t, "alice", pw)
	other := g.NewClient(t)
	other.Login(t, "alice", pw)

	// passwd signs the person out everywhere.
	const pw2 = "saffron glacier piano 77"
	if out, _, err := cli(t, env, pw2+"\n", "users", "passwd", "alice", "--password-stdin"); err != nil || !strings.Contains(out, "signed out") {
		t.Fatalf("users passwd: %v %q", err, out)
	}
	for _, dev := range []*harness.Client{c, other} {
		pollStatus(t, dev, http.StatusUnauthorized)
	}
	if code := loginCode(t, g, "alice", pw); code == http.StatusSeeOther {
		t.Error("the old password still signs in")
	}
	fresh := g.NewClient(t)
	fresh.Login(t, "alice", pw2)
	if _, _, err := cli(t, env, "short\n", "users", "passwd", "alice", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "at least") {
		t.Errorf("users passwd with a weak password: %v", err)
	}
	if _, _, err := cli(t, env, pw2+"\n", "users", "passwd", "nobody", "--password-stdin"); err == nil || !strings.Contains(err.Error(), "nobody") {
		t.Errorf("users passwd for an unknown user: %v", err)
	}

	// disable ends the sessions on the next request, stops sign-in and
	// revokes the API tokens the account owns.
	owner, err := g.Store.FindUserByName(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.Store.CreateAPIToken(context.Background(), &store.APIToken{Name: "bot", Role: store.RoleSupport, OwnerID: owner.ID, CreatedBy: "alice"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	if out, _, err := cli(t, env, "", "users", "disable", "alice"); err != nil || !strings.Contains(out, "disabled") || !strings.Contains(out, "1 API tokens revoked") {
		t.Fatalf("users disable: %v %q", err, out)
	}
	if toks, _ := g.Store.FindAPITokens(context.Background()); len(toks) != 0 {
		t.Fatalf("users disable left the owner's API tokens: %+v", toks)
	}
	cookie := fresh.SessionCookie()
	pollStatus(t, fresh, http.StatusUnauthorized)
	if code := loginCode(t, g, "alice", pw2); code == http.StatusSeeOther {
		t.Error("a disabled user signed in")
	}
	if out, _, _ := cli(t, env, "", "users", "list"); !strings.Contains(out, "disabled") {
		t.Errorf("users list does not show the account disabled:\n%s", out)
	}
	if _, _, err := cli(t, env, "", "users", "enable", "alice"); err != nil {
		t.Fatal(err)
	}
	if code := loginCode(t, g, "alice", pw2); code != http.StatusSeeOther {
		t.Errorf("re-enabled user cannot sign in: %d", code)
	}
	// Disabling signed the sessions out: enabling does not bring them back.
	again := g.NewClient(t)
	again.Login(t, "alice", pw2)
	pollStatus(t, again, http.StatusOK) // the gateway knows the account is enabled
	fresh.SetSessionCookie(cookie)
	if resp := fresh.Get(t, "/app"); resp.StatusCode != http.StatusUnauthorized {
		resp.Body.Close()
		t.Errorf("a session from before users disable works again after users enable: %d", resp.StatusCode)
	} else {
		resp.Body.Close()
	}
}

func TestUsersCommandsNeedRedis(t *testing.T) {
	_, _, err := cli(t, nil, "", "users", "list")
	if err == nil || !strings.Contains(err.Error(), "GATEWAY_REDIS_URL") {
		t.Errorf("users list without redis: %v", err)
	}
	// A Redis that does not answer: the command fails at once, clearly
	// (unlike serve, which waits for it).
	_, _, err = cli(t, []string{"GATEWAY_REDIS_URL=redis://" + closedAddr(t)}, "", "users", "list")
	if err == nil || !strings.Contains(err.Error(), "connect to redis") {
		t.Errorf("users list with redis not answering: %v; want connect to redis", err)
	}
}

// TestServeWithoutRedis: serve starts when its Redis does not answer yet
// (and says so), and on the embedded store it warns that data is lost.
func TestServeWithoutRedis(t *testing.T) {
	for _, tt := range []struct{ name, redisURL, want string }{
		{"redis not answering", "redis://" + closedAddr(t), "redis is not reachable yet: starting anyway, not ready (503) until it answers"},
		{"embedded store", "", "LOST ON EXIT"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, stop := context.WithCancel(context.Background())
			var stdout, stderr syncBuffer
			done := make(chan error, 1)
			env := validEnv("GATEWAY_REDIS_URL="+tt.redisURL, "GATEWAY_LOG_FORMAT=json")
			go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &stdout, &stderr, env) }()
			listeningAddr(t, &stderr, done)
			stop()
			if err := <-done; err != nil {
				t.Errorf("serve: %v", err)
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Errorf("serve log lacks %q:\n%s", tt.want, stderr.String())
			}
		})
	}
}

// closedAddr is a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// pollStatus waits until c's next request to /app answers want.
func pollStatus(t *testing.T, c *harness.Client, want int) {
	t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for {
		resp := c.Get(t, "/app")
		resp.Body.Close()
		if resp.StatusCode == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("/app still %d, want %d", resp.StatusCode, want)
		}
		time.Sleep(15 * time.Millisecond)
	}
}

func loginCode(t *testing.T, g *harness.Gateway, user, pw string) int {
	t.Helper()
	resp := g.NewClient(t).PostForm(t, "/.gateway/login", map[string][]string{"username": {user}, "password": {pw}, "rd": {"/"}})
	resp.Body.Close()
	return resp.StatusCode
}

// TestServeDrainsOnSIGTERM runs `gateway serve` and cancels its context the
// way main does on SIGTERM while a slow request is in flight: the request
// completes, new connections are refused, and serve returns cleanly.
func TestServeDrainsOnSIGTERM(t *testing.T) {
	srv := redistest.Start(t)
	entered, release := make(chan struct{}), make(chan struct{})
	app := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(entered)
		<-release
		io.WriteString(w, "finished")
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Serve(ln)
	t.Cleanup(func() { app.Close() })

	env := validEnv("GATEWAY_UPSTREAM=http://"+ln.Addr().String(), "GATEWAY_REDIS_URL="+srv.URL(),
		"GATEWAY_PUBLIC_PATHS=/slow", "GATEWAY_LOG_FORMAT=json")
	ctx, sigterm := context.WithCancel(context.Background())
	defer sigterm()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, strings.NewReader(""), &stdout, &stderr, env) }()

	addr := listeningAddr(t, &stderr, done)
	got := make(chan string, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/slow")
		if err != nil {
			got <- "error: " + err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		got <- string(b)
	}()
	select {
	case <-entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the slow request never reached the app")
	}
	sigterm()
	// Shutdown has begun once the listener refuses new connections.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("the gateway still accepts connections after SIGTERM")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) while a request was in flight", err)
	default:
	}
	close(release)
	if body := <-got; body != "finished" {
		t.Errorf("in-flight request during shutdown got %q", body)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after draining")
	}
}

// listeningAddr waits for serve's "gateway listening" log line and returns
// the public address from it.
func listeningAddr(t *testing.T, stderr *syncBuffer, done chan error) string {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(stderr.String(), "\n") {
			var rec struct{ Msg, Listen string }
			if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "gateway listening" {
				return rec.Listen
			}
		}
		select {
		case err := <-done:
			t.Fatalf("serve stopped: %v\n%s", err, stderr.String())
		default:
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal(errors.New("serve never logged that it listens:\n" + stderr.String()))
	return ""
}

// TestDemoQuickstart runs `gateway demo` the way the README's first command
// does and signs in as the printed demo user through the demo app.
func TestDemoQuickstart(t *testing.T) {
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0", "--portal-listen", "127.0.0.1:0", "--mail-listen", "127.0.0.1:0"},
			strings.NewReader(""), &stdout, &stderr, nil)
	}()
	var base, portal, password string
	deadline := time.Now().Add(20 * time.Second)
	for base == "" || password == "" || portal == "" {
		for _, line := range strings.Split(stdout.String(), "\n") {
			f := strings.Fields(line)
			if len(f) >= 5 && f[0] == "Demo" && f[1] == "gateway" {
				base = f[4]
			}
			if len(f) >= 2 && f[0] == "Portal" {
				portal = f[len(f)-1]
			}
			if len(f) == 4 && f[0] == "demo" && f[2] == "password:" {
				password = f[3]
			}
		}
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not print its address and users:\n%s", stdout.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(stderr.String(), "EMBEDDED STORE") || !strings.Contains(stderr.String(), "LOST ON EXIT") {
		t.Errorf("demo does not warn that data lives in memory:\n%s", stderr.String())
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodGet, base+"/", nil)
	req.Header.Set("Accept", "text/html")
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	login := resp.Request.URL
	if login.Path != "/.gateway/login" || "http://"+login.Host != portal {
		t.Fatalf("demo without a session ended at %s, want the login page on the portal %s", login, portal)
	}
	// Sign in on the portal; it hands the session back to the app.
	req, _ = http.NewRequest(http.MethodPost, portal+"/.gateway/login",
		strings.NewReader(url.Values{"username": {"demo"}, "password": {password}, "rd": {login.Query().Get("rd")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", portal)
	req.Header.Set("Accept", "text/html")
	resp, err = browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `<strong id="user">demo</strong>`) {
		t.Fatalf("demo app after sign-in: %d %.400s", resp.StatusCode, body)
	}
	if !strings.Contains(string(body), "X-Forwarded-Email") {
		t.Error("demo app does not show the identity headers it received")
	}
	// The console is there, on the portal (a plain user gets 403, not 404).
	req, _ = http.NewRequest(http.MethodGet, portal+"/.gateway/admin", nil)
	req.Header.Set("Accept", "text/html")
	if resp, err = browser.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("console on the demo's portal: %d, want 403 for a plain user", resp.StatusCode)
	}
	demoSeesMail(t, &stdout, portal, password)

	stop()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("demo: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo did not stop")
	}
}

// config check prints the resolved rule table after the settings.
func TestConfigCheckPrintsRuleTable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	yaml := "routes:\n" +
		"  - {path_prefix: /, upstream: \"http://127.0.0.1:3000\"}\n" +
		"  - {path_prefix: /admin/, upstream: \"http://127.0.0.1:3001\", allow: [admin], mfa: required, reauth: 5m}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := cli(t, validEnv(), "", "--config", path, "config", "check")
	if err != nil {
		t.Fatalf("config check: %v", err)
	}
	admin := strings.Index(out, "*/admin/ → http://127.0.0.1:3001: allow roles admin; second factor required; password again after 5m")
	all := strings.Index(out, "*/ → http://127.0.0.1:3000: any signed-in person")
	if admin < 0 || all < admin {
		t.Errorf("rule table missing or not most specific first:\n%s", out)
	}
}

// demoSeesMail signs the demo user in from a second browser and finds the
// new-device alert announced on the terminal and shown, with a working
// "This wasn't me" link, on the demo mailbox page.
func demoSeesMail(t *testing.T, stdout *syncBuffer, portal, password string) {
	t.Helper()
	mailbox := ""
	for _, line := range strings.Split(stdout.String(), "\n") {
		if strings.HasPrefix(line, "Mail the gateway sends") {
			f := strings.Fields(line)
			mailbox = f[len(f)-1]
		}
	}
	if mailbox == "" {
		t.Fatalf("demo does not print its mailbox:\n%s", stdout.String())
	}
	jar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, portal+"/.gateway/login",
		strings.NewReader(url.Values{"username": {"demo"}, "password": {password}, "rd": {"/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", portal)
	resp, err := other.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var page string
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(page, "New sign-in") {
		if time.Now().After(deadline) {
			t.Fatalf("no new-device alert on the demo mailbox:\n%s", page)
		}
		time.Sleep(50 * time.Millisecond)
		resp, err := http.Get(mailbox)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page = string(b)
	}
	if !strings.Contains(stdout.String(), "[demo mail]") || strings.Contains(stdout.String(), "token=") {
		t.Errorf("the terminal should announce the mail without its links:\n%s", stdout.String())
	}
	link := regexp.MustCompile(`href="(http://[^"]+/\.gateway/wasntme\?token=[^"]+)"`).FindStringSubmatch(page)
	if link == nil {
		t.Fatalf("no \"This wasn't me\" link on the mailbox page:\n%s", page)
	}
	jar2, _ := cookiejar.New(nil)
	resp, err = (&http.Client{Jar: jar2, Timeout: 10 * time.Second}).Get(html.UnescapeString(link[1]))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), "wasntme-confirm") {
		t.Fatalf("the link from the demo mailbox: %d %.300s", resp.StatusCode, b)
	}
}
