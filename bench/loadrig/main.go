// Command loadrig measures how fast a revocation on one replica reaches
// another (-propagation) and how long a password sign-in takes (-signins).
// The throughput comparison runs each server in a process of its own
// (bench/bareproxy, bench/upstream, the gateway binary), not here.
//
// It is driven by bench/load.sh; it is not part of the product.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/server"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passwords"
)

func main() {
	redisURL := flag.String("redis", "", "redis URL (required)")
	propagation := flag.Int("propagation", 0, "measure propagation with this many revocations instead of serving")
	signins := flag.Int("signins", 0, "time this many sign-ins with the production argon2id parameters instead of serving")
	flag.Parse()
	if *redisURL == "" {
		fmt.Fprintln(os.Stderr, "loadrig: -redis is required")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch {
	case *propagation > 0:
		err = measurePropagation(ctx, *redisURL, *propagation)
	case *signins > 0:
		err = measureSignIns(ctx, *redisURL, *signins)
	default:
		err = errors.New("give -propagation N or -signins N")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadrig:", err)
		os.Exit(1)
	}
}

const password = "load test password 1234"

// upstreamApp answers like a small JSON API endpoint.
func upstreamApp() http.Handler {
	body := []byte(`{"ok":true,"message":"hello from the app"}` + "\n")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
}

func listen(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go (&http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}).Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

func startGateway(ctx context.Context, redisURL, upstream, secret string) (*server.App, error) {
	return startGatewayWith(ctx, redisURL, upstream, secret, passwords.TestParams())
}

func startGatewayWith(ctx context.Context, redisURL, upstream, secret string, hash passwords.Params) (*server.App, error) {
	cfg := config.Defaults()
	cfg.Listen, cfg.OpsListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Upstream, cfg.Redis.URL, cfg.Secret = upstream, redisURL, secret
	cfg.Cookie.Secure = false
	cfg.Log.Level = "error"
	// The limiter stays on, so its cost is measured, but high enough that
	// one session driven by wrk is never refused.
	rate, err := config.ParseRate("1000000/s")
	if err != nil {
		return nil, err
	}
	cfg.RateLimit.PerSession, cfg.RateLimit.SessionBurst = rate, 1000000
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	a, err := server.New(ctx, &cfg, log, server.Options{HashParams: hash})
	if err != nil {
		return nil, err
	}
	return a, a.Listen()
}

// signIn creates a user on a and signs in over HTTP, returning the cookie.
func signIn(ctx context.Context, a *server.App, name string) (*http.Cookie, error) {
	hash, err := a.Hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	if err := a.Store.CreateUser(ctx, &store.User{Username: name, Email: name + "@example.com", PasswordHash: hash}); err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	base := "http://" + a.PublicAddr
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodPost, base+"/.gateway/login", strings.NewReader(url.Values{"username": {name}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := c.Do(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	u, _ := url.Parse(base)
	for _, ck := range jar.Cookies(u) {
		if ck.Name == a.Config.Cookie.Name {
			return ck, nil
		}
	}
	return nil, fmt.Errorf("sign-in gave no cookie (status %d)", resp.StatusCode)
}

// measurePropagation signs n sessions in on replica A, then for each one
// revokes it on A (logout over HTTP) and times until replica B refuses the
// same cookie, polling B's session check in a tight loop.
func measurePropagation(ctx context.Context, redisURL string, n int) error {
	upstream, err := listen(upstreamApp())
	if err != nil {
		return err
	}
	secret := rand.Text() + rand.Text()
	a, err := startGateway(ctx, redisURL, upstream, secret)
	if err != nil {
		return err
	}
	defer a.Shutdown(time.Second)
	b, err := startGateway(ctx, redisURL, upstream, secret)
	if err != nil {
		return err
	}
	defer b.Shutdown(time.Second)
	var cookies []*http.Cookie
	for i := range n {
		ck, err := signIn(ctx, a, fmt.Sprintf("prop%d", i))
		if err != nil {
			return err
		}
		cookies = append(cookies, ck)
	}
	var took, fromStart []time.Duration
	for _, ck := range cookies {
		probe := httptest.NewRequest(http.MethodGet, "/", nil)
		probe.AddCookie(ck)
		if _, out := b.Sessions.Authenticate(probe); out != store.Valid {
			return fmt.Errorf("replica B does not accept a fresh session (outcome %v)", out)
		}
		asked := time.Now()
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.PublicAddr+"/.gateway/logout", nil)
		req.AddCookie(ck)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return fmt.Errorf("logout on A: status %d", resp.StatusCode)
		}
		start := time.Now()
		for {
			if _, out := b.Sessions.Authenticate(probe); out != store.Valid {
				break
			}
			if time.Since(start) > 5*time.Second {
				return errors.New("replica B still accepts a revoked session after 5 s")
			}
			time.Sleep(50 * time.Microsecond)
		}
		took = append(took, time.Since(start))
		fromStart = append(fromStart, time.Since(asked))
	}
	report := func(what string, d []time.Duration) {
		slices.Sort(d)
		pct := func(p float64) time.Duration { return d[int(float64(len(d)-1)*p)].Round(10 * time.Microsecond) }
		fmt.Printf("  %-44s p50 %-9v p99 %-9v max %v\n", what, pct(0.50), pct(0.99), pct(1))
	}
	fmt.Printf("propagation of %d revocations from replica A to replica B (target p99 <= 100ms):\n", n)
	report("after A answered the sign-out, until B refuses:", took)
	report("from the start of the sign-out request:", fromStart)
	return nil
}

// measureSignIns times complete password sign-ins over HTTP (form post to
// the 303 with a session cookie) with the production argon2id parameters.
func measureSignIns(ctx context.Context, redisURL string, n int) error {
	upstream, err := listen(upstreamApp())
	if err != nil {
		return err
	}
	a, err := startGatewayWith(ctx, redisURL, upstream, rand.Text()+rand.Text(), passwords.DefaultParams())
	if err != nil {
		return err
	}
	defer a.Shutdown(time.Second)
	var took []time.Duration
	for i := range n {
		start := time.Now()
		if _, err := signIn(ctx, a, fmt.Sprintf("signin%d", i)); err != nil {
			return err
		}
		took = append(took, time.Since(start))
	}
	// signIn also hashes the new user's password; time the sign-in alone.
	took = took[:0]
	for i := range n {
		name := fmt.Sprintf("signin%d", i)
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		body := url.Values{"username": {name}, "password": {password}}.Encode()
		start := time.Now()
		req, _ := http.NewRequest(http.MethodPost, "http://"+a.PublicAddr+"/.gateway/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			return fmt.Errorf("sign-in %s: status %d", name, resp.StatusCode)
		}
		took = append(took, time.Since(start))
	}
	slices.Sort(took)
	fmt.Printf("sign-in with argon2id m=64MiB t=3 p=4 (%d sequential sign-ins): p50 %v  p99 %v\n", n,
		took[len(took)/2].Round(time.Millisecond), took[int(float64(len(took)-1)*0.99)].Round(time.Millisecond))
	return nil
}
