// Package attempts guards every place that checks a password or a
// second-factor code against guessing. It keeps counters in Redis through
// the store, so all replicas share them, and it is imported by both the
// sign-in flows (gateway) and the account pages and API (admin), which must
// not import each other.
//
// Password attempts are counted per account (the user id of a known user,
// the canonical username of an unknown one) and per client address (an
// IPv4 address or an IPv6 /64). Second-factor codes are counted per
// account. After a few free failures each counter imposes growing delays;
// counters expire, so nobody can lock an account for good.
package attempts

import (
	"context"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/store"
)

// Kind names the limit that refused an attempt; it is also the label of
// gateway_throttled_total.
type Kind string

// Kinds of brute-force limits.
const (
	KindPasswordAccount Kind = "password_account"
	KindPasswordIP      Kind = "password_ip"
	KindMFA             Kind = "mfa"
)

// Counters is what the guard needs from the store (*store.Store).
type Counters interface {
	ThrottleTake(ctx context.Context, key string, p store.ThrottlePolicy) (store.ThrottleResult, error)
	ThrottleRefund(ctx context.Context, key string, p store.ThrottlePolicy) error
	ThrottleReset(ctx context.Context, keys ...string) error
}

var _ Counters = (*store.Store)(nil)

// Policies are the limits of each kind.
type Policies struct {
	PasswordAccount store.ThrottlePolicy
	PasswordIP      store.ThrottlePolicy
	MFA             store.ThrottlePolicy
}

// Guard applies the limits. It is safe for concurrent use.
type Guard struct {
	counters    Counters
	policies    Policies
	onThrottled func(Kind)
}

// New returns a guard over counters. onThrottled (may be nil) is called for
// every refused attempt, for metrics.
func New(c Counters, p Policies, onThrottled func(Kind)) *Guard {
	if onThrottled == nil {
		onThrottled = func(Kind) {}
	}
	return &Guard{counters: c, policies: p, onThrottled: onThrottled}
}

// Result is the outcome of one guarded attempt.
type Result struct {
	// OK is true when the secret was right (never when throttled).
	OK bool
	// Wait > 0 means the attempt was refused without checking the secret:
	// try again after Wait (whole seconds). Right and wrong secrets get the
	// same refusal, so a delay tells a guesser nothing.
	Wait time.Duration
	// Kind is the limit that refused the attempt.
	Kind Kind
	// Delay > 0 after a failure means the next attempt must wait that long
	// (the longer of the account's and the client's delays): worth telling
	// the person now, rather than letting their next try bounce.
	Delay time.Duration
	// DelayStarted is true when this failure used up the account's free
	// attempts, so the first delay begins: worth an activity event.
	DelayStarted bool
}

// Throttled reports whether the attempt was refused by a limit.
func (r Result) Throttled() bool { return r.Wait > 0 }

// Verify checks the secret; it is called only when no limit refuses the
// attempt. An error means the check could not be made (the attempt is not
// counted).
type Verify func(ctx context.Context) (bool, error)

// Account names the per-account counter of a password attempt.
type Account struct {
	key string
	// browser: the counter of a known browser, which also stands in for
	// the client-address counter (see Password).
	browser bool
}

// User is the account counter of a known user, shared by sign-in,
// re-authentication, password change and the API.
func User(uid string) Account {
	return Account{key: store.PasswordUserThrottleKey(uid)}
}

// KnownBrowser is the account counter of a browser that has signed in to
// the account before (id is its cookie's random id): a stranger keeping the
// account's own counter in a delay does not slow down such a browser. On
// success only this counter is reset, so the owner signing in does not hand
// the stranger a fresh set of free attempts.
func KnownBrowser(id string) Account {
	return Account{key: store.PasswordBrowserThrottleKey(id), browser: true}
}

// Name is the account counter of a username that does not exist, in its
// canonical spelling, so "Bob", " bob" and "BOB" share one counter.
func Name(canonical string) Account {
	return Account{key: store.PasswordNameThrottleKey(canonical)}
}

// Password guards one password attempt on acct from the client address ip
// (as returned by the vetted client-IP function). The client counter is
// taken first, so a client already in a delay touches no account counter.
// On success the account counter is reset, but the client counter only
// gets this attempt back: one good password must not wipe out the
// failures the same client made on other accounts.
//
// A known browser's attempts skip the client counter. Everybody behind one
// address (an office, a carrier-grade NAT, an IPv6 /64) shares it, so a
// stranger there could otherwise keep it in a delay for good and every
// person behind the address out of every account; and a known-browser
// counter already limits its browser's guesses, on the one account its
// cookie was made for, so it cannot be used to spray guesses across
// accounts.
func (g *Guard) Password(ctx context.Context, acct Account, ip string, verify Verify) (Result, error) {
	ipKey := store.PasswordIPThrottleKey(ClientKey(ip))
	pIP, pAcct := g.policies.PasswordIP, g.policies.PasswordAccount
	refundIP := func() {
		if !acct.browser {
			g.refund(ctx, ipKey, pIP)
		}
	}

	var r store.ThrottleResult
	if !acct.browser {
		var err error
		if r, err = g.counters.ThrottleTake(ctx, ipKey, pIP); err != nil {
			return Result{}, err
		}
		if r.Wait > 0 {
			g.onThrottled(KindPasswordIP)
			return Result{Wait: r.Wait, Kind: KindPasswordIP}, nil
		}
	}
	ra, err := g.counters.ThrottleTake(ctx, acct.key, pAcct)
	if err != nil {
		refundIP()
		return Result{}, err
	}
	if ra.Wait > 0 {
		refundIP()
		g.onThrottled(KindPasswordAccount)
		return Result{Wait: ra.Wait, Kind: KindPasswordAccount}, nil
	}

	ok, err := verify(ctx)
	if err != nil {
		refundIP()
		g.refund(ctx, acct.key, pAcct)
		return Result{}, err
	}
	if !ok {
		return Result{Delay: max(r.Delay, ra.Delay), DelayStarted: ra.Delay > 0 && ra.Fails == int64(pAcct.Free)+1}, nil
	}
	refundIP()
	// If this reset fails the password was still right; a counter left
	// behind only brings the next delay sooner. Not worth refusing for.
	g.bookkeep(ctx, func(c context.Context) error { return g.counters.ThrottleReset(c, acct.key) })
	return Result{OK: true}, nil
}

// Code guards one second-factor code attempt on the account uid. The count
// survives signing in with the password again and is reset only by a right
// code (or by staff).
func (g *Guard) Code(ctx context.Context, uid string, verify Verify) (Result, error) {
	key, p := store.MFAThrottleKey(uid), g.policies.MFA
	r, err := g.counters.ThrottleTake(ctx, key, p)
	if err != nil {
		return Result{}, err
	}
	if r.Wait > 0 {
		g.onThrottled(KindMFA)
		return Result{Wait: r.Wait, Kind: KindMFA}, nil
	}
	ok, err := verify(ctx)
	if err != nil {
		g.refund(ctx, key, p)
		return Result{}, err
	}
	if !ok {
		return Result{Delay: r.Delay, DelayStarted: r.Delay > 0 && r.Fails == int64(p.Free)+1}, nil
	}
	g.bookkeep(ctx, func(c context.Context) error { return g.counters.ThrottleReset(c, key) })
	return Result{OK: true}, nil
}

// refund gives an attempt back, best effort: if Redis fails here the
// attempt simply stays counted, which errs on the safe side.
func (g *Guard) refund(ctx context.Context, key string, p store.ThrottlePolicy) {
	g.bookkeep(ctx, func(c context.Context) error { return g.counters.ThrottleRefund(c, key, p) })
}

// bookkeep runs a best-effort counter update that must happen even when the
// client hangs up mid-request, with a short deadline of its own.
func (g *Guard) bookkeep(ctx context.Context, fn func(context.Context) error) {
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	_ = fn(c)
}

// PoliciesFrom turns the throttle section of the configuration into
// policies.
func PoliciesFrom(t config.Throttle) Policies {
	conv := func(p config.ThrottlePolicy) store.ThrottlePolicy {
		return store.ThrottlePolicy{Free: p.Free, Base: p.Base.Duration, Max: p.Max.Duration, Forget: p.Forget.Duration}
	}
	return Policies{PasswordAccount: conv(t.PasswordAccount), PasswordIP: conv(t.PasswordIP), MFA: conv(t.MFA)}
}
