package assertion

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// testClock is a clock the test moves.
type testClock struct{ t atomic.Int64 }

func (c *testClock) now() time.Time          { return time.Unix(0, c.t.Load()) }
func (c *testClock) advance(d time.Duration) { c.t.Add(int64(d)) }
func newTestClock() *testClock               { c := &testClock{}; c.t.Store(time.Now().UnixNano()); return c }

func openStore(tb testing.TB, srv *redistest.Server) *store.Store {
	tb.Helper()
	s, err := store.Open(context.Background(), srv.URL(), slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func newIssuer(tb testing.TB, st KeyStore, clock *testClock, secrets ...string) *Issuer {
	tb.Helper()
	iss, err := New(st, Options{
		Secrets: secrets, Lifetime: 5 * time.Minute, KeyRotation: time.Hour, Refresh: 10 * time.Second,
		Issuer: "https://auth.example.com", Now: clock.now,
	})
	if err != nil {
		tb.Fatal(err)
	}
	if err := iss.Load(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return iss
}

func principal(groups ...string) *store.Principal {
	return &store.Principal{
		Claims: store.Claims{SessionID: "s-1234567890abcdef"},
		User: &store.UserState{ID: "u1", Username: "ada", Email: "ada@example.com", Roles: []string{"user"},
			Groups: groups, GroupsHeader: strings.Join(append([]string{"user"}, groups...), ",")},
	}
}

// decode reads a token's kid and claims without verifying (the e2e tests
// verify with an independent library).
func decode(t *testing.T, tok string) (string, Claims) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q", tok)
	}
	var h struct{ Kid, Alg, Typ string }
	var c Claims
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	cb, _ := base64.RawURLEncoding.DecodeString(parts[1])
	if json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil || h.Alg != "ES256" || h.Typ != "JWT" {
		t.Fatalf("token header %s claims %s", hb, cb)
	}
	return h.Kid, c
}

func published(t *testing.T, iss *Issuer) []string {
	t.Helper()
	var set struct{ Keys []struct{ Kid string } }
	if err := json.Unmarshal(iss.keys.state.Load().jwks, &set); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, k := range set.Keys {
		ids = append(ids, k.Kid)
	}
	return ids
}

func header(t *testing.T, iss *Issuer, p *store.Principal) string {
	t.Helper()
	v, ok := iss.Header(p, 0, "app.example.com", "app.example.com")
	if !ok || len(v) != 1 {
		t.Fatalf("no assertion: %v %v", v, ok)
	}
	return v[0]
}

func TestKeysRotateWithOverlapAndArePruned(t *testing.T) {
	st := openStore(t, redistest.Start(t))
	clock := newTestClock()
	a := newIssuer(t, st, clock, "secret one, long enough to be a real secret")
	b := newIssuer(t, st, clock, "secret one, long enough to be a real secret") // a second replica
	p := principal("eng")
	tok := header(t, a, p)
	kid1, c := decode(t, tok)
	if c.Issuer != "https://auth.example.com" || c.Audience != "app.example.com" || c.Subject != "u1" ||
		c.Expiry-c.IssuedAt != 300 || c.Session == "" || strings.Contains(c.Session, "s-1234") {
		t.Fatalf("claims %+v", c)
	}
	if got := published(t, b); len(got) != 1 || got[0] != kid1 {
		t.Fatalf("replica b publishes %v, want [%s]", got, kid1)
	}

	// Due for rotation: the next key is published at once by whichever
	// replica refreshes, but signs only after the publication delay.
	clock.advance(time.Hour)
	if err := b.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := published(t, a)
	if len(ids) != 2 || len(published(t, b)) != 2 {
		t.Fatalf("after rotation a publishes %v, b %v", ids, published(t, b))
	}
	kid2 := ids[1]
	if k, _ := decode(t, header(t, a, p)); k != kid1 {
		t.Errorf("the new key signed before its publication delay")
	}
	clock.advance(a.keys.prepublish())
	tok2 := header(t, a, p)
	if k, _ := decode(t, tok2); k != kid2 {
		t.Errorf("after the delay the assertion is signed by %s, want the new key %s", k, kid2)
	}
	// The old key stays published until everything it signed expired.
	clock.advance(a.keys.retention() - time.Second)
	_ = a.Load(context.Background())
	if ids := published(t, a); len(ids) != 2 {
		t.Fatalf("the old key was dropped while its assertions may live: %v", ids)
	}
	clock.advance(2 * time.Second)
	_ = a.Load(context.Background())
	_ = b.Load(context.Background())
	if ids := published(t, b); len(ids) != 1 || ids[0] != kid2 {
		t.Fatalf("after the retention b publishes %v, want [%s]", ids, kid2)
	}
}

func TestAnotherSecretMakesAKeyItCanUse(t *testing.T) {
	st := openStore(t, redistest.Start(t))
	clock := newTestClock()
	old := newIssuer(t, st, clock, "the old secret, long enough to be real")
	kid1, _ := decode(t, header(t, old, principal()))
	// A replica with only a new secret cannot open the stored key: it
	// makes one it can, and the old key stays published for the others.
	fresh := newIssuer(t, st, clock, "the new secret, long enough to be real")
	kid2, _ := decode(t, header(t, fresh, principal()))
	if kid2 == kid1 || len(published(t, fresh)) != 2 {
		t.Fatalf("new secret: signs with %s (old %s), publishes %v", kid2, kid1, published(t, fresh))
	}
	// One with the old secret among the previous ones opens both.
	both := newIssuer(t, st, clock, "the new secret, long enough to be real", "the old secret, long enough to be real")
	if n := len(both.keys.state.Load().usable); n != 2 {
		t.Errorf("with the old secret as a previous one, %d keys open, want 2", n)
	}
}

func TestCachedAssertionFollowsTheUser(t *testing.T) {
	st := openStore(t, redistest.Start(t))
	clock := newTestClock()
	iss := newIssuer(t, st, clock, "secret one, long enough to be a real secret")
	p := principal("eng")
	tok := header(t, iss, p)
	if header(t, iss, p) != tok {
		t.Fatal("the same session and route was signed twice")
	}
	// The mirror reloaded the user without a change: still the same.
	same := *p.User
	if header(t, iss, &store.Principal{Claims: p.Claims, User: &same}) != tok {
		t.Error("an unchanged user was signed again")
	}
	// Any change of name, e-mail, role or group signs again.
	for _, change := range []func(u *store.UserState){
		func(u *store.UserState) { u.Username = "ada2" },
		func(u *store.UserState) { u.Email = "other@example.com" },
		func(u *store.UserState) { u.Roles, u.GroupsHeader = []string{"admin"}, "admin,eng" },
		func(u *store.UserState) { u.Groups, u.GroupsHeader = []string{"eng", "ops"}, "user,eng,ops" },
	} {
		u := *p.User
		change(&u)
		got := header(t, iss, &store.Principal{Claims: p.Claims, User: &u})
		_, c := decode(t, got)
		if got == tok || c.Name != u.Username || c.Email != u.Email || strings.Join(c.Groups, ",") != strings.Join(u.Groups, ",") ||
			strings.Join(c.Roles, ",") != strings.Join(u.Roles, ",") {
			t.Errorf("after a change to %+v the assertion says %+v", u, c)
		}
	}
	// Near expiry it is signed again, before the app could get a stale one.
	tok = header(t, iss, p)
	clock.advance(4*time.Minute + time.Second)
	if again := header(t, iss, p); again == tok {
		t.Error("an assertion with under a minute left was served")
	}
	// Another route (another audience) has its own.
	v, _ := iss.Header(p, 1, "other.example.com", "other.example.com")
	if _, c := decode(t, v[0]); c.Audience != "other.example.com" {
		t.Errorf("audience %q", c.Audience)
	}
	if n := iss.cache.len(); n != 2 {
		t.Errorf("cache holds %d entries, want 2", n)
	}
}

// BenchmarkHeaderCached is the request path with the assertion on: one
// cached assertion per session and route. allocs/op should be 0.
func BenchmarkHeaderCached(b *testing.B) {
	st := openStore(b, redistest.Start(b))
	iss := newIssuer(b, st, newTestClock(), "secret one, long enough to be a real secret")
	p := principal("eng")
	if _, ok := iss.Header(p, 0, "", "app.example.com:8443"); !ok {
		b.Fatal("no assertion")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := iss.Header(p, 0, "", "app.example.com:8443"); !ok {
			b.Fatal("no assertion")
		}
	}
}

// BenchmarkHeaderSign is a cache miss: one ES256 signature.
func BenchmarkHeaderSign(b *testing.B) {
	st := openStore(b, redistest.Start(b))
	iss := newIssuer(b, st, newTestClock(), "secret one, long enough to be a real secret")
	p := principal("eng")
	key := iss.keys.state.Load().current(time.Now().UnixNano())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := iss.sign(p, key, time.Now().UnixNano(), "app.example.com", "app.example.com"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestNoKeyNoAssertion(t *testing.T) {
	st := openStore(t, redistest.Start(t))
	iss, err := New(st, Options{Secrets: []string{"secret one, long enough to be a real secret"}, Lifetime: time.Minute, KeyRotation: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	// Not loaded yet (Redis did not answer at start-up): the caller is
	// told, and answers 503 instead of proxying without it.
	if v, ok := iss.Header(principal(), -1, "", "app.example.com"); ok || v != nil {
		t.Fatalf("an assertion without a key: %v", v)
	}
	if err := iss.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := iss.Header(principal(), -1, "", "app.example.com"); !ok {
		t.Fatal("no assertion after the keys loaded")
	}
}

// TestKeysLostFromRedisAreWrittenBack: when Redis loses the signing keys
// (a flush, a failover to a replica that had not received them, an older
// snapshot restored), a replica that knew them writes them back, so what
// they signed still verifies and no replica makes a key of its own; an old
// key pruned on purpose is not brought back.
func TestKeysLostFromRedisAreWrittenBack(t *testing.T) {
	srv := redistest.Start(t)
	st := openStore(t, srv)
	clock := newTestClock()
	const secret = "secret one, long enough to be a real secret"
	a := newIssuer(t, st, clock, secret)
	kid1, _ := decode(t, header(t, a, principal()))

	// Everything lost.
	if err := st.Client().Del(context.Background(), "gw:assertion:keys").Err(); err != nil {
		t.Fatal(err)
	}
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ids := published(t, a); len(ids) != 1 || ids[0] != kid1 {
		t.Fatalf("after Redis lost the keys, a publishes %v, want [%s] back", ids, kid1)
	}
	b := newIssuer(t, st, clock, secret) // a replica started afterwards
	if kid, _ := decode(t, header(t, b, principal())); kid != kid1 {
		t.Errorf("a replica started after the loss signs with %s, want the restored %s", kid, kid1)
	}

	// Rotated, then rolled back to a state without the new key.
	clock.advance(time.Hour)
	if err := a.Load(context.Background()); err != nil {
		t.Fatal(err)
	}
	ids := published(t, a)
	if len(ids) != 2 {
		t.Fatalf("after rotation: %v", ids)
	}
	kid2 := ids[1]
	if err := b.Load(context.Background()); err != nil { // b refreshes and sees it too
		t.Fatal(err)
	}
	rdb := st.Client()
	ctx := context.Background()
	if err := rdb.HDel(ctx, "gw:assertion:keys", kid2).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, "gw:assertion:keys", "newest", kid1).Err(); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := published(t, b); len(ids) != 2 || ids[1] != kid2 {
		t.Fatalf("after the rollback b publishes %v, want [%s %s]", ids, kid1, kid2)
	}

	// The old key, pruned once nothing it signed lives, stays gone.
	clock.advance(a.keys.prepublish() + a.keys.retention() + time.Second)
	if err := a.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Load(ctx); err != nil {
		t.Fatal(err)
	}
	if ids := published(t, b); len(ids) != 1 || ids[0] != kid2 {
		t.Fatalf("after pruning b publishes %v, want [%s]", ids, kid2)
	}
}
