package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestDemoInFrontOfYourOwnApp runs `gateway demo --upstream URL` as the
// README shows: the person's own app (here a test server) is what the
// gateway serves after sign-in, with the identity headers, and the portal's
// pages lead back to it.
func TestDemoInFrontOfYourOwnApp(t *testing.T) {
	app := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<p>my own app, user <b id=me>"+r.Header.Get("X-Forwarded-User")+"</b></p>")
	}))
	defer app.Close()

	d := startDemo(t, "--upstream", app.URL)
	base, portal, password := d.base, d.portal, d.password
	out := d.stdout.String()
	for _, want := range []string{"Your app at " + app.URL + " is behind it", `<a href="/.gateway/account">`, `action="/.gateway/logout"`} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	get := func(u string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Accept", "text/html")
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	resp, _ := get(base + "/")
	login := resp.Request.URL
	req, _ := http.NewRequest(http.MethodPost, portal+"/.gateway/login",
		strings.NewReader(url.Values{"username": {"demo"}, "password": {password}, "rd": {login.Query().Get("rd")}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", portal)
	req.Header.Set("Accept", "text/html")
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "my own app, user <b id=me>demo</b>") {
		t.Fatalf("after sign-in: %d %.300s, want the upstream's page for demo", resp.StatusCode, body)
	}
	// The account page on the portal leads back to the app.
	_, page := get(portal + "/.gateway/account")
	if !strings.Contains(page, `<a href="`+base+`/" id="back-to-app">Back to the app</a>`) {
		t.Errorf("account page has no way back to %s/:\n%.2000s", base, page)
	}

	d.stopAndWait(t)
}

// demo is a running `gateway demo`, with what it printed.
type demo struct {
	base, portal, password, mail string
	stdout, stderr               *syncBuffer
	stop                         context.CancelFunc
	done                         chan error
}

// startDemo runs `gateway demo` with args on loopback ports of its own and
// waits for it to print its addresses and the demo user's password. It is
// stopped at the end of the test.
func startDemo(t *testing.T, args ...string) *demo {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	d := &demo{stdout: &syncBuffer{}, stderr: &syncBuffer{}, stop: stop, done: make(chan error, 1)}
	t.Cleanup(stop)
	go func() {
		d.done <- run(ctx, append([]string{"demo", "--listen", "127.0.0.1:0", "--ops-listen", "127.0.0.1:0", "--portal-listen", "127.0.0.1:0", "--mail-listen", "127.0.0.1:0"}, args...),
			strings.NewReader(""), d.stdout, d.stderr, nil)
	}()
	for deadline := time.Now().Add(20 * time.Second); d.base == "" || d.password == "" || d.portal == "" || d.mail == "" || !strings.Contains(d.stdout.String(), "Ctrl-C"); time.Sleep(20 * time.Millisecond) {
		for _, line := range strings.Split(d.stdout.String(), "\n") {
			f := strings.Fields(line)
			switch {
			case len(f) >= 5 && f[0] == "Demo" && f[1] == "gateway":
				d.base = f[4]
			case len(f) >= 2 && f[0] == "Portal":
				d.portal = f[len(f)-1]
			case len(f) >= 2 && f[0] == "Mail":
				d.mail = f[len(f)-1]
			case len(f) == 4 && f[0] == "demo" && f[2] == "password:":
				d.password = f[3]
			}
		}
		select {
		case err := <-d.done:
			t.Fatalf("demo stopped: %v\n%s", err, d.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("demo did not print its address and users:\n%s", d.stdout.String())
		}
	}
	return d
}

// stopAndWait stops the demo as Ctrl-C does and fails unless it ends cleanly.
func (d *demo) stopAndWait(t *testing.T) {
	t.Helper()
	d.stop()
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("demo: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("demo did not stop")
	}
}

func TestDemoRefusesABadUpstream(t *testing.T) {
	var stdout, stderr syncBuffer
	err := run(context.Background(), []string{"demo", "--upstream", "localhost:3000"}, strings.NewReader(""), &stdout, &stderr, nil)
	if err == nil || !strings.Contains(err.Error(), "--upstream") || !strings.Contains(err.Error(), "http://localhost:3000") {
		t.Fatalf("demo --upstream localhost:3000: %v, want a message naming the flag and an example", err)
	}
}
