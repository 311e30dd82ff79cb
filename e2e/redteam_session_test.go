package e2e

// Red-team tests for sign-in, sessions, the revocation mirror and the proxy:
// attacks that earlier tests did not name. Each test failed before the fix
// that came with it.

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// rtChangePassword sets a new password the way `gateway users passwd` and
// every other password change do: a new hash, then everybody signed out.
func rtChangePassword(t *testing.T, g *harness.Gateway, u *store.User, password string) {
	t.Helper()
	ctx := context.Background()
	hash, err := g.Hasher.Hash(ctx, password)
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Store.UpdateUser(ctx, u.ID, store.UserUpdate{PasswordHash: &hash}); err != nil {
		t.Fatal(err)
	}
	if err := g.Sessions.SignOutEverywhere(ctx, nil, u.ID, nil, "", "", store.EndReason{}); err != nil {
		t.Fatal(err)
	}
}

// A browser that once entered the right password gets a known-browser
// cookie: its attempts are counted on a counter of its own, and signing in
// there raises no new-device alert. Someone who learnt the password (a
// phished or shared one — a 2FA code still due is enough) keeps that cookie
// after the owner changes the password, so they must not keep either
// privilege: the owner's remedy is exactly the password change.
func TestKnownBrowserCookieDiesWithThePassword(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.Throttle.PasswordAccount = thrPolicy(2) }})
	u := g.CreateUser(t, "lena")
	intruder := g.NewClient(t)
	intruder.Login(t, "lena", harness.TestPassword) // with the leaked password
	const newPassword = "a brand new passphrase 42"
	rtChangePassword(t, g, u, newPassword)

	// A stranger keeps the account in a delay...
	for i := range 3 {
		thrSignIn(t, g.NewClient(t), "lena", "stranger "+strconv.Itoa(i))
	}
	thrWantThrottled(t, thrSignIn(t, g.NewClient(t), "lena", newPassword), "new browser during the delay")
	// ...and the intruder's old browser is held by the same delay: it no
	// longer knows the password, so it is not the owner's browser.
	got := thrSignIn(t, intruder, "lena", "guess 1")
	if got.Status != http.StatusTooManyRequests {
		t.Fatalf("intruder's browser guessing after the password change: %+v, want the account's delay (429)", got)
	}

	// Once the intruder learns the new password too, the sign-in is news.
	if err := g.Store.ResetUserThrottles(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	before := countEvents(t, g, u.ID, store.EventNewDevice)
	resp := intruder.PostForm(t, "/.gateway/login", url.Values{"username": {"lena"}, "password": {newPassword}, "rd": {"/"}})
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in with the new password: %d", resp.StatusCode)
	}
	if n := countEvents(t, g, u.ID, store.EventNewDevice) - before; n != 1 {
		t.Fatalf("sign-in with the new password from a browser that only knew the old one: %d new-device alerts, want 1", n)
	}
}

// rtStreamingApp is an upstream with a server-sent event stream at /events
// (a tick every 20 ms until the client goes away) and an echoing WebSocket
// at /ws.
func rtStreamingApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ws" {
			conn, rw, err := http.NewResponseController(w).Hijack()
			if err != nil {
				return
			}
			defer conn.Close()
			sum := sha1.Sum([]byte(r.Header.Get("Sec-WebSocket-Key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
			fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n",
				base64.StdEncoding.EncodeToString(sum[:]))
			_ = rw.Flush()
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
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; ; i++ {
			if _, err := fmt.Fprintf(w, "data: %d for %s\n\n", i, r.Header.Get("X-Forwarded-User")); err != nil {
				return
			}
			_ = http.NewResponseController(w).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// rtOpenStream opens /events with c's session cookie on gateway addr and
// returns a reader positioned at the first event.
func rtOpenStream(t *testing.T, addr, cookie string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /events HTTP/1.1\r\nHost: "+addr+"\r\nAccept: text/event-stream\r\nCookie: "+cookie+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("event stream: %d", resp.StatusCode)
	}
	return conn, br
}

// rtOpenWebSocket upgrades /ws with the cookie and returns the tunnel.
func rtOpenWebSocket(t *testing.T, addr, cookie string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	head := "GET /ws HTTP/1.1\r\nHost: " + addr + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nCookie: " + cookie + "\r\n\r\n"
	if _, err := io.WriteString(conn, head); err != nil {
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
	return conn, br
}

// rtStreamEnds waits until the connection stops carrying data: reads (for
// a WebSocket, after writing a ping through it) keep succeeding while it is
// open. It fails the test if data still flows after d.
func rtStreamEnds(t *testing.T, conn net.Conn, br *bufio.Reader, ws bool, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	_ = conn.SetDeadline(deadline)
	buf := make([]byte, 256)
	for time.Now().Before(deadline) {
		if ws {
			if _, err := conn.Write([]byte("ping")); err != nil {
				return
			}
		}
		if _, err := br.Read(buf); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				break
			}
			return // closed: what we want
		}
		if ws {
			time.Sleep(10 * time.Millisecond)
		}
	}
	t.Fatalf("%s: the open connection still carries data %v later", what, d)
}

// A session is checked when a request starts; a request that is still open
// when the session ends — a WebSocket, an event stream, a long download —
// must not outlive it. Otherwise a stolen cookie used to open a stream keeps
// working after the owner signs that device out, signs out everywhere, or
// support disables the account.
func TestOpenStreamsEndWithTheSession(t *testing.T) {
	srv := redistest.Start(t)
	secret := rand.Text() + rand.Text()
	a := harness.Start(t, harness.Options{Redis: srv, Secret: secret, Upstream: rtStreamingApp()})
	b := harness.Start(t, harness.Options{Redis: srv, Secret: secret, Upstream: rtStreamingApp()})
	addrA, addrB := strings.TrimPrefix(a.URL, "http://"), strings.TrimPrefix(b.URL, "http://")
	cookieOf := func(c *harness.Client) string { return a.Config.Cookie.Name + "=" + c.SessionCookie() }

	t.Run("logout on the same replica ends an event stream", func(t *testing.T) {
		a.CreateUser(t, "sse1")
		c := a.NewClient(t)
		c.Login(t, "sse1", harness.TestPassword)
		conn, br := rtOpenStream(t, addrA, cookieOf(c))
		if resp := c.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		rtStreamEnds(t, conn, br, false, 2*time.Second, "event stream after logout")
	})

	t.Run("logout on another replica ends a WebSocket", func(t *testing.T) {
		a.CreateUser(t, "ws1")
		c := a.NewClient(t)
		c.Login(t, "ws1", harness.TestPassword)
		conn, br := rtOpenWebSocket(t, addrB, cookieOf(c))
		if resp := c.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout: %d", resp.StatusCode)
		}
		rtStreamEnds(t, conn, br, true, 2*time.Second, "WebSocket on B after logout on A")
	})

	t.Run("sign out everywhere and disabling end open requests", func(t *testing.T) {
		u := a.CreateUser(t, "ws2")
		c := a.NewClient(t)
		c.Login(t, "ws2", harness.TestPassword)
		wsConn, wsBr := rtOpenWebSocket(t, addrB, cookieOf(c))
		if err := a.Sessions.SignOutEverywhere(context.Background(), nil, u.ID, nil, "", "", store.EndReason{}); err != nil {
			t.Fatal(err)
		}
		rtStreamEnds(t, wsConn, wsBr, true, 2*time.Second, "WebSocket after sign-out everywhere")

		v := a.CreateUser(t, "sse2")
		d := a.NewClient(t)
		d.Login(t, "sse2", harness.TestPassword)
		conn, br := rtOpenStream(t, addrB, cookieOf(d))
		disabled := true
		if err := a.Store.UpdateUser(context.Background(), v.ID, store.UserUpdate{Disabled: &disabled}); err != nil {
			t.Fatal(err)
		}
		rtStreamEnds(t, conn, br, false, 2*time.Second, "event stream after the user was disabled")
	})

	t.Run("a stream of a live session keeps going", func(t *testing.T) {
		a.CreateUser(t, "sse3")
		c := a.NewClient(t)
		c.Login(t, "sse3", harness.TestPassword)
		other := a.NewClient(t)
		other.Login(t, "sse3", harness.TestPassword) // another device of the same person
		conn, br := rtOpenStream(t, addrB, cookieOf(c))
		if resp := other.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("logout of the other device: %d", resp.StatusCode)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		for n := 0; n < 20; { // 20 events, about 400 ms, well past a re-check
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("the stream of a session still signed in ended after %d events: %v", n, err)
			}
			if strings.HasPrefix(line, "data: ") {
				n++
			}
		}
	})
}

// rtHangUp is a context key: the request's cancel function, called by
// rtHangUpHook as soon as one Redis command made with that context has
// succeeded — a client hanging up at that very moment.
type rtHangUp struct{}

type rtHangUpHook struct{}

func (rtHangUpHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (rtHangUpHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if cancel, ok := ctx.Value(rtHangUp{}).(context.CancelFunc); ok && err == nil {
			cancel()
		}
		return err
	}
}

func (rtHangUpHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		err := next(ctx, cmds)
		if cancel, ok := ctx.Value(rtHangUp{}).(context.CancelFunc); ok && err == nil {
			cancel()
		}
		return err
	}
}

// rtHangingUpContext is a request context whose client goes away right
// after the first Redis command made with it.
func rtHangingUpContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	return context.WithValue(ctx, rtHangUp{}, cancel)
}

// A revocation is a write (the revocation list, the user's "signed out
// before" time, the disabled flag) followed by an entry in the feed every
// replica follows. Handlers pass their request's context, which ends when
// the client hangs up: if that happened between the two, the write stayed
// in Redis but no replica — not even the one that made it — heard of it,
// and each kept the session alive from its memory until its next full
// reload, which may be days away. A recovery-code sign-in (which signs the
// thief with the lost phone out everywhere) or a sign-out-everywhere whose
// browser was closed a moment too early would silently not happen.
func TestRevocationSurvivesTheClientHangingUp(t *testing.T) {
	srv := redistest.Start(t)
	secret := rand.Text() + rand.Text()
	a := harness.Start(t, harness.Options{Redis: srv, Secret: secret})
	b := harness.Start(t, harness.Options{Redis: srv, Secret: secret})
	a.Store.Client().AddHook(rtHangUpHook{})

	setup := func(t *testing.T, name string) (*store.User, *harness.Client, *harness.Client) {
		u := a.CreateUser(t, name)
		onA := a.NewClient(t)
		onA.Login(t, name, harness.TestPassword)
		onB := onA.For(b)
		if got := status(t, onB, "/app"); got != http.StatusOK {
			t.Fatalf("cookie from A on B: %d", got)
		}
		return u, onA, onB
	}
	refusedOnBoth := func(t *testing.T, onA, onB *harness.Client, what string) {
		t.Helper()
		deadline := time.Now().Add(2 * time.Second)
		for {
			ca, cb := status(t, onA, "/app"), status(t, onB, "/app")
			if ca == http.StatusUnauthorized && cb == http.StatusUnauthorized {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s, client gone mid-way: replica A answers %d, B %d; want both 401", what, ca, cb)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	t.Run("sign out everywhere", func(t *testing.T) {
		u, onA, onB := setup(t, "hang1")
		_ = a.Sessions.SignOutEverywhere(rtHangingUpContext(t), nil, u.ID, nil, "", "", store.EndReason{})
		refusedOnBoth(t, onA, onB, "sign-out everywhere")
	})
	t.Run("sign out one device", func(t *testing.T) {
		_, onA, onB := setup(t, "hang2")
		sid := rtSessionID(t, a, onA)
		_ = a.Sessions.Revoke(rtHangingUpContext(t), sid.UserID, sid.SessionID, sid.Created)
		refusedOnBoth(t, onA, onB, "revocation of one session")
	})
	t.Run("disable the user", func(t *testing.T) {
		u, onA, onB := setup(t, "hang3")
		disabled := true
		_ = a.Store.UpdateUser(rtHangingUpContext(t), u.ID, store.UserUpdate{Disabled: &disabled})
		refusedOnBoth(t, onA, onB, "disabling the user")
	})
}

// rtSessionID decodes the claims of c's session cookie on g.
func rtSessionID(t *testing.T, g *harness.Gateway, c *harness.Client) store.Claims {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/", nil)
	req.AddCookie(&http.Cookie{Name: g.Config.Cookie.Name, Value: c.SessionCookie()})
	cur, outcome := g.Sessions.Authenticate(req)
	if outcome != store.Valid {
		t.Fatalf("session of the client: outcome %v", outcome)
	}
	return cur.Claims
}

// rtSnapshot is every key of a Redis, as DUMP gives them.
type rtSnapshot map[string]struct {
	data string
	ttl  time.Duration
}

func rtTakeSnapshot(t *testing.T, rdb *redis.Client) rtSnapshot {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	snap := rtSnapshot{}
	for _, k := range keys {
		d, err := rdb.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		ttl, _ := rdb.PTTL(ctx, k).Result()
		if ttl < 0 {
			ttl = 0
		}
		snap[k] = struct {
			data string
			ttl  time.Duration
		}{d, ttl}
	}
	return snap
}

// rtRollBack puts Redis back to the snapshot in one transaction — what a
// Sentinel failover to a replica that had not received the latest writes
// yet, or a restart from an older RDB file, looks like — and drops every
// client connection, as the failover would.
func rtRollBack(t *testing.T, rdb *redis.Client, snap rtSnapshot) {
	t.Helper()
	ctx := context.Background()
	_, err := rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.FlushAll(ctx)
		for k, v := range snap {
			p.RestoreReplace(ctx, k, v.ttl, v.data)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.Do(ctx, "CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes").Err(); err != nil {
		t.Fatal(err)
	}
}

// Losing the newest writes (a lossy failover, a restart from an older
// snapshot) keeps the store generation, so cookies from before still count.
// The replicas had seen the lost revocations, but on reconnecting they
// replaced what they knew with the older list from Redis: a session signed
// out just before the loss came back to life — on every replica, though each
// of them had refused it a moment earlier. What a replica has seen revoked
// (a session id, a "signed out before" time) stays revoked while the data
// set is the same.
func TestRedisRollbackDoesNotReviveWhatReplicasSawRevoked(t *testing.T) {
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	a, b := twoReplicas(t, srv)
	_, revokedB, _ := signedInOnBoth(t, a, b, "rb1")
	revokedA := revokedB.For(a)
	thief, _, u2 := signedInOnBoth(t, a, b, "rb2")
	thiefB := thief.For(b)
	// A session revoked after the rollback point, through the store only,
	// so each replica learns of it from the feed; once both refuse it,
	// both have reloaded.
	marker := a.NewClient(t)
	a.CreateUser(t, "rb3")
	marker.Login(t, "rb3", harness.TestPassword)
	markerClaims := rtSessionID(t, a, marker)
	markerB := marker.For(b)

	snap := rtTakeSnapshot(t, rdb)
	// Refused cookies are cleared from a client's jar: keep copies.
	replay := func(g *harness.Gateway, c *harness.Client) *harness.Client {
		r := g.NewClient(t)
		r.SetSessionCookie(c.SessionCookie())
		return r
	}
	copies := map[string]*harness.Client{
		"signed-out session on A": replay(a, revokedA), "signed-out session on B": replay(b, revokedB),
		"signed-out-everywhere session on A": replay(a, thief), "signed-out-everywhere session on B": replay(b, thiefB),
	}

	if resp := revokedA.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	if err := a.Sessions.SignOutEverywhere(context.Background(), nil, u2.ID, nil, "", "", store.EndReason{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*harness.Client{revokedA, revokedB, thief, thiefB} {
		refusedWithin(t, c, 2*time.Second, "before the rollback")
	}

	rtRollBack(t, rdb, snap)
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := a.Store.RevokeSession(context.Background(), markerClaims.UserID, markerClaims.SessionID, time.Now().Add(time.Hour))
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoke the marker after the rollback: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	refusedWithin(t, marker, 5*time.Second, "marker on A")
	refusedWithin(t, markerB, 5*time.Second, "marker on B")

	for name, c := range copies {
		if got := status(t, c, "/app"); got != http.StatusUnauthorized {
			t.Errorf("%s after Redis lost its newest writes: %d, want 401", name, got)
		}
	}
}

// The upstream never sees the gateway's cookies; it must not set them
// either. One gateway fronts several apps (routes), and a response from any
// of them reaches the browser on the gateway's host: an app — or a page of
// it that lets people choose headers, or a compromised one — answering
// Set-Cookie with the gateway's session cookie name swaps a signed-in
// person onto another account everywhere (their uploads and messages then
// land in the attacker's account), or signs them out; with a longer Path it
// does so for one part of the site only.
func TestUpstreamCannotSetTheGatewaysCookies(t *testing.T) {
	var planted string
	g := harness.Start(t, harness.Options{
		Configure: func(c *config.Config) { c.PublicPaths = []string{"/public/"} },
		Upstream: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			name := "gateway_session"
			http.SetCookie(w, &http.Cookie{Name: name, Value: planted, Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: name, Value: planted, Path: "/app/uploads"})
			w.Header().Add("Set-Cookie", " "+name+"=; Max-Age=0")
			http.SetCookie(w, &http.Cookie{Name: name + "_known", Value: "x.y", Path: "/.gateway/login"})
			http.SetCookie(w, &http.Cookie{Name: name + "_device", Value: "x", Path: "/.gateway/login"})
			http.SetCookie(w, &http.Cookie{Name: "app_pref", Value: "dark", Path: "/"})
			http.SetCookie(w, &http.Cookie{Name: "gateway_sessions_seen", Value: "1", Path: "/"})
			w.WriteHeader(http.StatusOK)
		}),
	})
	if g.Config.Cookie.Name != "gateway_session" {
		t.Fatalf("cookie name %q: adjust the test", g.Config.Cookie.Name)
	}
	g.CreateUser(t, "mallory")
	g.CreateUser(t, "victim")
	attacker := g.NewClient(t)
	attacker.Login(t, "mallory", harness.TestPassword)
	planted = attacker.SessionCookie()

	victim := g.NewClient(t)
	victim.Login(t, "victim", harness.TestPassword)
	for _, path := range []string{"/app/page", "/public/page"} {
		resp := victim.Get(t, path)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		var names []string
		for _, ck := range resp.Cookies() {
			names = append(names, ck.Name)
		}
		if got := strings.Join(names, ","); got != "app_pref,gateway_sessions_seen" {
			t.Errorf("%s: cookies the app set that reach the browser: %q, want only the app's own", path, got)
		}
	}
	if got := victim.SessionCookie(); got == planted || got == "" {
		t.Fatalf("the victim's session cookie was replaced (by the attacker's: %v)", got == planted)
	}
}

// Everyone behind one address — an office, a school, a carrier-grade NAT,
// an IPv6 /64 — shares the client-address counter. A stranger there (or one
// infected machine) making a wrong guess whenever the delay ends kept that
// counter in a delay for good, and with it every person behind the address
// out of every account, their usual browsers included. A browser that
// signed in to an account before has that account's attempts counted on a
// counter of its own, and a known-browser cookie only ever works for the
// one account it was made for, so it cannot be used to spray guesses across
// accounts: the shared address's delay does not apply to it.
func TestStrangerOnTheSameAddressDoesNotLockOutKnownBrowsers(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.Throttle.PasswordIP = thrPolicy(3)
		c.Throttle.PasswordIP.Base.Duration, c.Throttle.PasswordIP.Max.Duration = time.Minute, time.Minute // outlasts the test
		c.Throttle.PasswordIP.Forget.Duration = time.Hour
		c.Throttle.PasswordAccount = thrPolicy(2)
	}})
	g.CreateUser(t, "office")
	g.CreateUser(t, "other")
	owner := g.NewClient(t)
	owner.Login(t, "office", harness.TestPassword)

	// A stranger behind the same address guesses at other accounts.
	for i := range 4 {
		thrSignIn(t, g.NewClient(t), "someone"+strconv.Itoa(i), "guess")
	}
	rtWantThrottled(t, thrSignIn(t, g.NewClient(t), "office", harness.TestPassword), "right password from a new browser on the address in a delay")
	if got := thrSignIn(t, owner, "office", harness.TestPassword); got.Status != http.StatusSeeOther {
		t.Fatalf("the owner's usual browser on the shared address: %+v, want signed in", got)
	}
	// Its cookie is no key to other accounts: there the address's delay holds.
	rtWantThrottled(t, thrSignIn(t, owner, "other", "guess"), "known browser of one account guessing at another")
	// And its own guesses at its own account are limited by its own counter.
	for i := range 2 {
		if got := thrSignIn(t, owner, "office", "typo "+strconv.Itoa(i)); got.Status != http.StatusUnauthorized {
			t.Fatalf("typo %d: %+v", i+1, got)
		}
	}
	if got := thrSignIn(t, owner, "office", "typo 3"); got.Status != http.StatusTooManyRequests {
		t.Fatalf("third typo: %+v, want its own delay to start", got)
	}
}

// rtWantThrottled fails unless a is a refusal by a limit.
func rtWantThrottled(t *testing.T, a thrAnswer, what string) {
	t.Helper()
	if a.Status != http.StatusTooManyRequests || a.RetryAfter == "" || !strings.HasPrefix(a.Message, "Too many attempts.") {
		t.Fatalf("%s: %+v, want 429 with Retry-After", what, a)
	}
}

// A refused sign-in attempt (a name or an address in a delay) costs the
// attacker nothing and can be repeated at will, so its timing must not tell
// which usernames exist. A known name cost one more Redis read (the user
// record) than an unknown one: some 50 µs, plain to see in a few thousand
// refused attempts (measured: p50 566 µs against 509 µs on loopback). Both
// now make the same Redis reads; the test compares the commands, not times.
func TestRefusedSignInCostsTheSameForUnknownNames(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.Throttle.PasswordAccount = thrPolicy(1)
		c.Throttle.PasswordAccount.Base.Duration, c.Throttle.PasswordAccount.Max.Duration = time.Minute, time.Minute
		c.Throttle.PasswordAccount.Forget.Duration = time.Hour
	}})
	g.CreateUser(t, "existing")
	c := g.NewClient(t)
	for _, name := range []string{"existing", "nobody"} {
		for range 3 { // two to start the delay, one refused (loads every script)
			thrSignIn(t, c, name, "wrong")
		}
	}
	cost := func(name string) map[string]int64 {
		cmds := []string{"get", "hgetall", "hmget", "evalsha", "eval", "exists", "xadd"}
		before := map[string]int64{}
		for _, cmd := range cmds {
			before[cmd] = g.Redis.CommandCount(t, cmd)
		}
		for range 5 {
			rtWantThrottled(t, thrSignIn(t, c, name, "wrong"), name+" in a delay")
		}
		out := map[string]int64{}
		for _, cmd := range cmds {
			if d := g.Redis.CommandCount(t, cmd) - before[cmd]; d != 0 && cmd != "get" { // the mirror GETs the generation every second
				out[cmd] = d
			}
		}
		return out
	}
	known, unknown := cost("existing"), cost("nobody")
	if fmt.Sprint(known) != fmt.Sprint(unknown) {
		t.Fatalf("Redis commands of 5 refused attempts: existing user %v, unknown name %v; want the same", known, unknown)
	}
}

// A cookie whose session went idle is refused, but finding that out takes a
// Redis read (when did another replica last see it?), and nothing
// remembered the answer: every further request with that cookie paid the
// read again, with no rate limit on refused requests. Anybody with an old
// cookie of their own account could turn each cheap request into a Redis
// round trip on every replica, and load the Redis every request depends on.
// An idle session is now signed out like any other, once: later requests
// are refused from memory, on every replica.
func TestIdleCookieCostsOneRedisReadNotOnePerRequest(t *testing.T) {
	clock := &harness.Clock{}
	configure := func(c *config.Config) {
		c.Session.Lifetime = config.Duration{Duration: 8 * time.Hour}
		c.Session.IdleTimeout = config.Duration{Duration: 30 * time.Minute}
	}
	a := harness.Start(t, harness.Options{Clock: clock, Configure: configure})
	b := harness.Start(t, harness.Options{Clock: clock, Configure: configure, Redis: a.Redis, Secret: a.Config.Secret})
	a.CreateUser(t, "sleepy")
	c := a.NewClient(t)
	c.Login(t, "sleepy", harness.TestPassword)
	stale := c.SessionCookie()
	clock.Advance(35 * time.Minute) // beyond what an unwritten last-seen time on a replica could hide

	first := a.NewClient(t)
	first.SetSessionCookie(stale)
	if got := status(t, first, "/app"); got != http.StatusUnauthorized {
		t.Fatalf("idle session: %d, want 401", got)
	}
	// Give B the feed entry, if there is one, before counting.
	deadline := time.Now().Add(2 * time.Second)
	for time.Now().Before(deadline) && status(t, rtReplay(t, b, stale), "/app") != http.StatusUnauthorized {
		time.Sleep(10 * time.Millisecond)
	}
	before := a.Redis.CommandCount(t, "hgetall")
	for _, g := range []*harness.Gateway{a, b} {
		for range 10 {
			if got := status(t, rtReplay(t, g, stale), "/app"); got != http.StatusUnauthorized {
				t.Fatalf("idle session again: %d", got)
			}
		}
	}
	if n := a.Redis.CommandCount(t, "hgetall") - before; n > 0 {
		t.Fatalf("20 more requests with an idle session's cookie made %d Redis reads of the session, want none", n)
	}
}

// rtReplay is a fresh client on g carrying the session cookie value.
func rtReplay(t *testing.T, g *harness.Gateway, cookie string) *harness.Client {
	c := g.NewClient(t)
	c.SetSessionCookie(cookie)
	return c
}

// rtTunnelApp switches to any protocol asked for except WebSocket (as an
// h2c-capable server does for "Upgrade: h2c") and then serves every request
// that comes through the tunnel — here in HTTP/1.1 for simplicity, with h2c
// it would be HTTP/2 frames — answering with what it saw.
func rtTunnelApp() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto := r.Header.Get("Upgrade")
		if proto == "" || strings.EqualFold(proto, "websocket") {
			fmt.Fprintf(w, "plain %s", r.URL.Path)
			return
		}
		conn, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintf(rw, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: %s\r\n\r\n", proto)
		_ = rw.Flush()
		for {
			req, err := http.ReadRequest(rw.Reader)
			if err != nil {
				return
			}
			body := fmt.Sprintf("tunnelled %s as %q", req.URL.Path, req.Header.Get("X-Forwarded-User"))
			fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			_ = rw.Flush()
		}
	})
}

// The reverse proxy passed any protocol switch on, not only WebSocket. After
// a "101 Switching Protocols" it only copies bytes, so with an app that
// accepts "Upgrade: h2c" (Go's h2c handler, Apache with mod_http2, many
// gRPC stacks) a client — anonymous, through a public path, or signed in —
// got a connection straight to the app and sent it whatever requests it
// liked, to any path, with any X-Forwarded-User (h2c request smuggling).
// Only WebSocket upgrades pass now; any other Upgrade is dropped and the
// request goes on as an ordinary one.
func TestOnlyWebSocketUpgradesPass(t *testing.T) {
	g := harness.Start(t, harness.Options{
		Upstream:  rtTunnelApp(),
		Configure: func(c *config.Config) { c.PublicPaths = []string{"/public/"} },
	})
	g.CreateUser(t, "eve")
	c := g.NewClient(t)
	c.Login(t, "eve", harness.TestPassword)
	addr := strings.TrimPrefix(g.URL, "http://")
	for _, tc := range []struct{ name, path, cookie, upgrade string }{
		{"anonymous on a public path", "/public/x", "", "h2c"},
		{"signed in", "/app", g.Config.Cookie.Name + "=" + c.SessionCookie(), "h2c"},
		{"other protocol", "/public/x", "", "TLS/1.2"},
		{"websocket listed first", "/public/x", "", "websocket, h2c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
			head := "GET " + tc.path + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade, HTTP2-Settings\r\n" +
				"Upgrade: " + tc.upgrade + "\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n"
			if tc.cookie != "" {
				head += "Cookie: " + tc.cookie + "\r\n"
			}
			if _, err := io.WriteString(conn, head+"\r\n"); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(conn)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			if resp.StatusCode == http.StatusSwitchingProtocols {
				_, _ = io.WriteString(conn, "GET /admin/users HTTP/1.1\r\nHost: app\r\nX-Forwarded-User: admin\r\n\r\n")
				if inner, err := http.ReadResponse(br, nil); err == nil {
					b, _ := io.ReadAll(inner.Body)
					t.Fatalf("Upgrade: %s was switched to; through the tunnel the app answered: %s", tc.upgrade, b)
				}
				t.Fatalf("Upgrade: %s was switched to", tc.upgrade)
			}
			if resp.StatusCode != http.StatusOK || string(body) != "plain "+tc.path {
				t.Fatalf("Upgrade: %s: %d %q, want the ordinary answer", tc.upgrade, resp.StatusCode, body)
			}
		})
	}
}

// While its feed is down a replica asks Redis for every check. After a
// rollback (see above) Redis no longer holds revocations the replica saw,
// so a replica whose follower could not reload yet — it takes a few seconds
// for the mirror to count as stale, and a failover takes longer — let a
// session it had refused through again. The direct check consults what the
// replica already knows too.
func TestStaleReplicaAfterRollbackKeepsWhatItSawRevoked(t *testing.T) {
	t.Parallel() // waits for the mirror to go stale; let other tests run meanwhile
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	a := harness.Start(t, harness.Options{Redis: srv})
	a.CreateUser(t, "rb4")
	c := a.NewClient(t)
	c.Login(t, "rb4", harness.TestPassword)
	cookie := c.SessionCookie()
	snap := rtTakeSnapshot(t, rdb)
	if resp := c.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	// The follower can neither read the feed nor reload; direct checks
	// still work.
	ctx := context.Background()
	if err := rdb.Do(ctx, "ACL", "SETUSER", "default", "-xread", "-xrevrange").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Do(context.Background(), "ACL", "SETUSER", "default", "+xread", "+xrevrange") })
	rtRollBack(t, rdb, snap)
	deadline := time.Now().Add(10 * time.Second)
	for a.Mirror.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("the mirror never went stale")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := status(t, rtReplay(t, a, cookie), "/app"); got != http.StatusUnauthorized {
		t.Fatalf("signed-out session on a replica checking Redis directly after the rollback: %d, want 401", got)
	}
}

// Client-address headers reach the app only from trusted proxies, but the
// list missed the ones the most common PHP idiom reads first
// (HTTP_CLIENT_IP, HTTP_X_FORWARDED, HTTP_FORWARDED_FOR) and a few other
// widespread ones: any client could tell such an app it came from an
// address of its choosing (an allow-listed office, 127.0.0.1).
func TestLesserKnownClientAddressHeadersStripped(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.PublicPaths = []string{"/public/"} }})
	addr := strings.TrimPrefix(g.URL, "http://")
	resp := rawRequest(t, addr, "GET /public/x HTTP/1.1\nHost: "+addr+"\n"+
		"Client-IP: 6.6.6.6\nX-Forwarded: for=6.6.6.6\nForwarded-For: 6.6.6.6\n"+
		"X-Remote-IP: 6.6.6.6\nX-Remote-Addr: 6.6.6.6\nX-Originating-IP: 6.6.6.6\nX-ProxyUser-Ip: 6.6.6.6\n\n")
	defer resp.Body.Close()
	var e harness.Echoed
	if err := json.NewDecoder(resp.Body).Decode(&e); err != nil {
		t.Fatalf("status %d: %v", resp.StatusCode, err)
	}
	for k, vs := range e.Header {
		for _, v := range vs {
			if strings.Contains(v, "6.6.6.6") {
				t.Errorf("upstream received %s: %q from an untrusted client", k, v)
			}
		}
	}
}
