package e2e

import (
	"context"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/redis/go-redis/v9"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// Keys of the shared slot, as the store lays them out (store/keys.go).
const (
	keyRevoked   = "gw:{g}:revoked"
	keySignedOut = "gw:{g}:signedout"
	keyFeed      = "gw:{g}:feed"
	keyFeedSeq   = "gw:{g}:seq"
)

// replicaOn starts a gateway replica with the given redis.url; spare is the
// harness's own server, which these replicas do not use.
func replicaOn(t *testing.T, spare *redistest.Server, url, secret string, more ...func(*config.Config)) *harness.Gateway {
	t.Helper()
	return harness.Start(t, harness.Options{Redis: spare, Secret: secret, Configure: func(c *config.Config) {
		c.Redis.URL = url
		for _, f := range more {
			f(c)
		}
	}})
}

// signInOn signs name in on g and returns its client.
func signInOn(t *testing.T, g *harness.Gateway, name string) *harness.Client {
	t.Helper()
	c := g.NewClient(t)
	c.Login(t, name, harness.TestPassword)
	if got := status(t, c, "/app"); got != http.StatusOK {
		t.Fatalf("%s just signed in: %d", name, got)
	}
	return c
}

// cookieStatus sends one request to /app on g carrying the raw session
// cookie value (no jar: a refusal that clears the cookie does not change
// what the next check sends).
func cookieStatus(t *testing.T, g *harness.Gateway, raw string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, g.URL+"/app", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: g.Config.Cookie.Name, Value: raw})
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// neverAccepted fails if any of the cookies is let through by any of the
// gateways right now (refused: 401, or 503 while the store is unsure).
func neverAccepted(t *testing.T, what string, gws []*harness.Gateway, raws ...string) {
	t.Helper()
	for _, g := range gws {
		for _, raw := range raws {
			if got := cookieStatus(t, g, raw); got == http.StatusOK {
				t.Fatalf("%s: a signed-out cookie is accepted by %s", what, g.URL)
			}
		}
	}
}

// refusedOn polls until raw is refused (401) by g.
func refusedOn(t *testing.T, g *harness.Gateway, raw string, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for cookieStatus(t, g, raw) != http.StatusUnauthorized {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s still does not refuse the cookie after %v", what, g.URL, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// acceptedOn polls until raw is let through by g.
func acceptedOn(t *testing.T, g *harness.Gateway, raw string, d time.Duration, what string) {
	t.Helper()
	deadline := time.Now().Add(d)
	for cookieStatus(t, g, raw) != http.StatusOK {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s still refuses the cookie after %v", what, g.URL, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestLostWriteFailoverKeepsSignOuts runs two replicas on a real Sentinel
// set. With the Redis replica stopped (SIGSTOP), a sign-out-everywhere and a
// single sign-out are made on replica A: the person is told they are not
// yet replicated (503 not_replicated), yet both gateways refuse the cookies.
// Then the master is killed and Sentinel promotes the stale replica, which
// never received them. Both running gateways keep refusing, notice the
// rollback and write the sign-outs back; a gateway started afterwards
// refuses them too. Nobody else is signed out and no user is lost.
func TestLostWriteFailoverKeepsSignOuts(t *testing.T) {
	set := redistest.StartSentinel(t)
	spare := redistest.Start(t)
	secret := rand.Text() + rand.Text()
	fast := func(c *config.Config) { c.Redis.WaitTimeout = config.Duration{Duration: 300 * time.Millisecond} }
	a := replicaOn(t, spare, set.URL(), secret, fast)
	b := replicaOn(t, spare, set.URL(), secret, fast)
	ann := a.CreateUser(t, "ann")
	a.CreateUser(t, "bob")
	a.CreateUser(t, "cat")
	bobClient := signInOn(t, a, "ann")
	ann1 := bobClient.SessionCookie()
	ann2 := signInOn(t, a, "ann").SessionCookie()
	bobClient = signInOn(t, a, "bob")
	bob, bobSID := bobClient.SessionCookie(), sessionID(t, a, bobClient)
	cat := signInOn(t, a, "cat").SessionCookie()
	both := []*harness.Gateway{a, b}
	for _, raw := range []string{ann1, ann2, bob, cat} {
		acceptedOn(t, b, raw, 5*time.Second, "cookie from A on B")
	}

	master, replica := set.Master(t), set.Nodes[1]
	if master == replica {
		t.Fatal("sentinel set started with the replica as master")
	}
	replica.Pause()
	// A stopped process still has its kernel receive a little of the
	// replication stream, which it would apply on waking. Fill that socket
	// first (a 48 MB value, sent as one SET by a script), so what follows
	// stays in the master's memory and dies with it: a really lost write.
	filler := "redis.call('SET', KEYS[1], string.rep('x', tonumber(ARGV[1]))) return 1"
	mc := redis.NewClient(&redis.Options{Addr: master.Addr, ReadTimeout: 30 * time.Second})
	defer mc.Close()
	if err := mc.Eval(context.Background(), filler, []string{"filler"}, 48<<20).Err(); err != nil {
		t.Fatal(err)
	}
	err := a.Sessions.SignOutEverywhere(context.Background(), nil, ann.ID, nil, "", "", store.EndReason{})
	if !errors.Is(err, store.ErrNotReplicated) {
		t.Fatalf("sign out everywhere with the replica stopped: %v, want ErrNotReplicated", err)
	}
	resp := bobClient.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"not_replicated"`) {
		t.Fatalf("sign-out with the replica stopped: %d %s, want 503 not_replicated", resp.StatusCode, body)
	}
	for _, raw := range []string{ann1, ann2, bob} {
		refusedOn(t, a, raw, 2*time.Second, "sign-out on A, seen by A")
		refusedOn(t, b, raw, 2*time.Second, "sign-out on A, seen by B through the feed")
	}

	killed := time.Now()
	master.Kill()
	replica.Resume()
	// The writes really are lost: the replica that will be promoted lacks them.
	rc := replica.Client(t)
	if _, err := rc.ZScore(context.Background(), keyRevoked, bobSID).Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("the stale replica has the revocation (err %v): the test lost nothing", err)
	}
	neverAccepted(t, "master down", both, ann1, ann2, bob)
	set.WaitPromoted(t, master, 30*time.Second)
	promoted := time.Since(killed)

	// Until the sign-outs are back in Redis, and after, no gateway lets
	// the cookies through.
	deadline := time.Now().Add(30 * time.Second)
	for {
		neverAccepted(t, "after the failover", both, ann1, ann2, bob)
		_, zerr := rc.ZScore(context.Background(), keyRevoked, bobSID).Result()
		cut, _ := rc.HGet(context.Background(), keySignedOut, ann.ID).Int64()
		// The first replica to reload writes back; the other then finds
		// the store whole again, so at least one counts a rollback.
		if zerr == nil && cut > 0 && a.Mirror.Rollbacks()+b.Mirror.Rollbacks() > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sign-outs not written back: revoked err %v, cut %d, rollbacks A %d B %d", zerr, cut, a.Mirror.Rollbacks(), b.Mirror.Rollbacks())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("master killed → sentinel promoted the replica: %v; → both replicas wrote back: %v",
		promoted.Round(time.Millisecond), time.Since(killed).Round(time.Millisecond))

	fresh := replicaOn(t, spare, set.URL(), secret)
	neverAccepted(t, "gateway started after the write-back", []*harness.Gateway{fresh, a, b}, ann1, ann2, bob)
	for _, g := range []*harness.Gateway{a, b, fresh} {
		acceptedOn(t, g, cat, 10*time.Second, "a session nobody ended, after the failover")
	}
	signInOn(t, fresh, "ann") // no user lost
	signInOn(t, a, "bob")
}

// TestDeletedSessionRecordIsRefused deletes the record of a session in use:
// within the last-seen interval (1 s here) plus one flush, both replicas
// refuse the cookie, without a restart.
func TestDeletedSessionRecordIsRefused(t *testing.T) {
	srv := redistest.Start(t)
	secret := rand.Text() + rand.Text()
	short := func(c *config.Config) { c.Session.LastSeenInterval = config.Duration{Duration: time.Second} }
	a := replicaOn(t, srv, srv.URL(), secret, short)
	b := replicaOn(t, srv, srv.URL(), secret, short)
	u := a.CreateUser(t, "dee")
	goneClient := signInOn(t, a, "dee")
	gone, kept := goneClient.SessionCookie(), signInOn(t, a, "dee").SessionCookie()
	acceptedOn(t, b, gone, 5*time.Second, "cookie from A on B")
	sid := sessionID(t, a, goneClient)
	if err := srv.Client(t).Del(context.Background(), "gw:session:{"+u.ID+"}:"+sid).Err(); err != nil {
		t.Fatal(err)
	}
	deleted := time.Now()
	for cookieStatus(t, a, gone) == http.StatusOK {
		if time.Since(deleted) > 15*time.Second {
			t.Fatal("a session whose record was deleted is still accepted after 15 s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("record deleted → refused on A after %v (last_seen_interval 1s)", time.Since(deleted).Round(time.Millisecond))
	refusedOn(t, b, gone, 2*time.Second, "deleted record, on B")
	neverAccepted(t, "deleted record", []*harness.Gateway{a, b}, gone)
	acceptedOn(t, a, kept, time.Second, "the user's other session")
}

// TestNeverExistingSessionIsRefused presents a validly signed and encrypted
// cookie (made with the gateway's own secret) for a session id the store
// never held: refused, on every replica.
func TestNeverExistingSessionIsRefused(t *testing.T) {
	srv := redistest.Start(t)
	secret := rand.Text() + rand.Text()
	a := replicaOn(t, srv, srv.URL(), secret)
	b := replicaOn(t, srv, srv.URL(), secret)
	u := a.CreateUser(t, "eve")
	real := signInOn(t, a, "eve").SessionCookie()
	now := time.Now()
	c := store.Claims{
		SessionID: store.NewSessionID(), UserID: u.ID, Generation: a.Mirror.Generation(),
		IssuedAt: now.UnixNano(), Created: now.UnixNano(), AuthAt: now.UnixNano(),
	}
	forged := encodeCookie(t, secret, a.Config.Cookie.Name, &c)
	for _, g := range []*harness.Gateway{a, b} {
		if got := cookieStatus(t, g, forged); got != http.StatusUnauthorized {
			t.Fatalf("signed cookie for a session that never existed, on %s: %d, want 401", g.URL, got)
		}
	}
	neverAccepted(t, "never-existing session", []*harness.Gateway{a, b}, forged)
	acceptedOn(t, a, real, time.Second, "the real session")
}

// TestDroppedFeedWriteIsNotHalfApplied breaks the feed on real Redis (its
// key holds a string, so no entry can be appended) and signs a session out:
// the person gets an error, the revocation is not in Redis without its entry
// (neither is written), and the replica that made it refuses the session at
// once. Once the feed is repaired, that replica writes the revocation with
// its entry and the other replica refuses the session too.
func TestDroppedFeedWriteIsNotHalfApplied(t *testing.T) {
	srv := redistest.Start(t)
	a, b := twoReplicas(t, srv)
	a.CreateUser(t, "fay")
	c := signInOn(t, a, "fay")
	raw := c.SessionCookie()
	acceptedOn(t, b, raw, 5*time.Second, "cookie from A on B")
	sid := sessionID(t, a, c)
	rdb := srv.Client(t)
	ctx := context.Background()
	seq, _ := rdb.Get(ctx, keyFeedSeq).Int64()
	if err := rdb.Del(ctx, keyFeed).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.Set(ctx, keyFeed, "not a stream", 0).Err(); err != nil {
		t.Fatal(err)
	}
	resp := c.Do(t, http.MethodPost, "/.gateway/logout", nil, "Origin", a.URL)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("sign-out with a broken feed: %d, want 503", resp.StatusCode)
	}
	if _, err := rdb.ZScore(ctx, keyRevoked, sid).Result(); !errors.Is(err, redis.Nil) {
		t.Fatalf("revocation written without its feed entry (err %v)", err)
	}
	if now, _ := rdb.Get(ctx, keyFeedSeq).Int64(); now != seq {
		t.Fatalf("feed sequence moved %d → %d without an entry", seq, now)
	}
	neverAccepted(t, "the replica that signed the session out", []*harness.Gateway{a}, raw)

	if err := rdb.Del(ctx, keyFeed).Err(); err != nil {
		t.Fatal(err)
	}
	refusedOn(t, b, raw, 10*time.Second, "revocation retried after the feed was repaired")
	if _, err := rdb.ZScore(ctx, keyRevoked, sid).Result(); err != nil {
		t.Fatalf("revocation not in redis after the retry: %v", err)
	}
	if n, _ := rdb.XLen(ctx, keyFeed).Result(); n == 0 {
		t.Fatal("revocation retried without a feed entry")
	}
	neverAccepted(t, "after the retry", []*harness.Gateway{a, b}, raw)
	signInOn(t, b, "fay")
}

// sessionID finds the id of c's session from its user's device list.
func sessionID(t *testing.T, g *harness.Gateway, c *harness.Client) string {
	t.Helper()
	p, out := g.Sessions.Authenticate(cookieRequest(g, c))
	if out != store.Valid {
		t.Fatalf("session of client: outcome %v", out)
	}
	return p.Claims.SessionID
}

func cookieRequest(g *harness.Gateway, c *harness.Client) *http.Request {
	req, _ := http.NewRequest(http.MethodGet, g.URL+"/app", nil)
	req.RemoteAddr = "127.0.0.1:1"
	req.AddCookie(&http.Cookie{Name: g.Config.Cookie.Name, Value: c.SessionCookie()})
	return req
}

// encodeCookie makes a session cookie the way the gateway does (keys from
// the secret with HKDF-SHA256, securecookie HMAC + AES).
func encodeCookie(t *testing.T, secret, name string, c *store.Claims) string {
	t.Helper()
	hashKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "gateway cookie hmac v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	blockKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "gateway cookie aes v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	sc := securecookie.New(hashKey, blockKey)
	sc.SetSerializer(store.ClaimsSerializer{})
	v, err := sc.Encode(name, c)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
