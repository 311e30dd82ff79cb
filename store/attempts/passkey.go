package attempts

import (
	"context"

	"github.com/authgate/gateway/store"
)

// Passkey guards one passkey answer (an assertion) from the client address
// ip, on the account uid it names ("" when it names none). Failed answers
// are counted like wrong passwords from that client, so one address cannot
// try forged answers without limit, and like wrong codes on the account,
// so a known account's failures slow down further tries on it. The client
// counter is taken first; on success the account counter is reset and the
// client gets this attempt back.
func (g *Guard) Passkey(ctx context.Context, uid, ip string, verify Verify) (Result, error) {
	ipKey, pIP := store.PasswordIPThrottleKey(ClientKey(ip)), g.policies.PasswordIP
	r, err := g.counters.ThrottleTake(ctx, ipKey, pIP)
	if err != nil {
		return Result{}, err
	}
	if r.Wait > 0 {
		g.onThrottled(KindPasswordIP)
		return Result{Wait: r.Wait, Kind: KindPasswordIP}, nil
	}
	var ra store.ThrottleResult
	acctKey, pAcct := store.MFAThrottleKey(uid), g.policies.MFA
	if uid != "" {
		if ra, err = g.counters.ThrottleTake(ctx, acctKey, pAcct); err != nil {
			g.refund(ctx, ipKey, pIP)
			return Result{}, err
		}
		if ra.Wait > 0 {
			g.refund(ctx, ipKey, pIP)
			g.onThrottled(KindMFA)
			return Result{Wait: ra.Wait, Kind: KindMFA}, nil
		}
	}
	ok, err := verify(ctx)
	if err != nil {
		g.refund(ctx, ipKey, pIP)
		if uid != "" {
			g.refund(ctx, acctKey, pAcct)
		}
		return Result{}, err
	}
	if !ok {
		return Result{Delay: max(r.Delay, ra.Delay), DelayStarted: uid != "" && ra.Delay > 0 && ra.Fails == int64(pAcct.Free)+1}, nil
	}
	g.refund(ctx, ipKey, pIP)
	if uid != "" {
		g.bookkeep(ctx, func(c context.Context) error { return g.counters.ThrottleReset(c, acctKey) })
	}
	return Result{OK: true}, nil
}
