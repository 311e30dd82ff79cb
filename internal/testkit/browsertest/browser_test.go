package browsertest

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// newFormServer serves a login form on 127.0.0.1. Posting the form sets a
// cookie, and /whoami shows the user of the cookie.
func newFormServer(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><html><body>
<form method="post" action="/login">
<input id="username" name="username" type="text">
<button id="submit" type="submit">Sign in</button>
</form></body></html>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		user := r.PostFormValue("username")
		http.SetCookie(w, &http.Cookie{Name: "user", Value: user, Path: "/", HttpOnly: true})
		fmt.Fprintf(w, `<!doctype html><html><body><p id="result">Hello, %s!</p></body></html>`, html.EscapeString(user))
	})
	mux.HandleFunc("GET /whoami", func(w http.ResponseWriter, r *http.Request) {
		user := "anonymous"
		if c, err := r.Cookie("user"); err == nil {
			user = c.Value
		}
		fmt.Fprintf(w, `<!doctype html><html><body><p id="who">%s</p></body></html>`, html.EscapeString(user))
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("test server on %s, want 127.0.0.1", srv.URL)
	}
	return srv
}

func TestFormSubmit(t *testing.T) {
	srv := newFormServer(t)
	ctx := New(t)

	if err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
	); err != nil {
		t.Fatalf("fill the form: %v", err)
	}
	// RunResponse waits for the page that the click loads.
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("submit")))
	if err != nil {
		t.Fatalf("submit the form: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("POST /login status = %d, want 200", resp.Status)
	}
	body, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatalf("read the body: %v", err)
	}
	if !strings.Contains(body, "Hello, alice!") {
		t.Fatalf("body = %q, want it to contain %q", body, "Hello, alice!")
	}

	// A second tab of the same browser shares the cookie.
	if who := whoami(t, NewTab(t, ctx), srv.URL); who != "alice" {
		t.Errorf("whoami in a second tab = %q, want %q", who, "alice")
	}
	// A second browser has its own cookie jar, like a second device.
	if who := whoami(t, NewIsolated(t), srv.URL); who != "anonymous" {
		t.Errorf("whoami in an isolated browser = %q, want %q", who, "anonymous")
	}
	// The first tab still works after the others.
	if who := whoami(t, ctx, srv.URL); who != "alice" {
		t.Errorf("whoami in the first tab = %q, want %q", who, "alice")
	}
}

// whoami opens /whoami in the tab of ctx and returns the user that it shows.
func whoami(t *testing.T, ctx context.Context, base string) string {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/whoami")); err != nil {
		t.Fatalf("open /whoami: %v", err)
	}
	who, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("who")))
	if err != nil {
		t.Fatalf("read /whoami: %v", err)
	}
	return who
}
