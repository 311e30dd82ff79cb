package totp

import (
	"context"
	"fmt"
	"time"

	"github.com/authgate/gateway/store"
)

// Store is what checking a code needs from persistence (*store.Store):
// both calls are atomic in Redis, so a code is accepted once even when two
// replicas see it at the same moment.
type Store interface {
	ConsumeMFAStep(ctx context.Context, uid string, step int64) (bool, error)
	ConsumeRecoveryCode(ctx context.Context, uid, hash string) (bool, int, error)
}

var _ Store = (*store.Store)(nil)

// Factor is how a person passed the second step.
type Factor int

// Factors.
const (
	FactorNone     Factor = iota // refused
	FactorApp                    // a code from the authenticator app
	FactorRecovery               // a recovery code
)

// Describe is the factor in words, for the activity stream.
func (f Factor) Describe() string {
	switch f {
	case FactorApp:
		return "authenticator app"
	case FactorRecovery:
		return "recovery code"
	}
	return "none"
}

// Outcome is the answer of Check.
type Outcome struct {
	// Factor is FactorNone when the code was refused.
	Factor Factor
	// Replayed is true for a right app code whose time step was already
	// used (the same code again, or an older one after a newer one).
	Replayed bool
	// RecoveryLeft is how many recovery codes remain after using one.
	RecoveryLeft int
}

// OK reports whether the code was accepted.
func (o Outcome) OK() bool { return o.Factor != FactorNone }

// Check verifies what a person typed for user u at now: an app code
// against u's secret (its time step is then consumed), or, when
// allowRecovery, one of u's recovery codes (which is then used up). It also
// checks a secret not yet confirmed, so enrolment can use it. An error means
// the check could not be made (Redis, or a secret that no configured key
// opens).
func (c *Codec) Check(ctx context.Context, st Store, u *store.User, typed string, now time.Time, allowRecovery bool) (Outcome, error) {
	if u.MFASecret == "" {
		return Outcome{}, nil
	}
	if _, isCode := NormalizeCode(typed); isCode {
		secret, err := c.Open(u.ID, u.MFASecret)
		if err != nil {
			return Outcome{}, err
		}
		step, ok, err := Validate(secret, typed, now)
		if err != nil || !ok {
			return Outcome{}, err
		}
		fresh, err := st.ConsumeMFAStep(ctx, u.ID, step)
		if err != nil {
			return Outcome{}, fmt.Errorf("consume totp step: %w", err)
		}
		if !fresh {
			return Outcome{Replayed: true}, nil
		}
		return Outcome{Factor: FactorApp}, nil
	}
	if !allowRecovery || !u.MFAEnabled {
		return Outcome{}, nil
	}
	hashes, ok := c.RecoveryHashes(u.ID, typed)
	if !ok {
		return Outcome{}, nil
	}
	for _, h := range hashes {
		used, left, err := st.ConsumeRecoveryCode(ctx, u.ID, h)
		if err != nil {
			return Outcome{}, fmt.Errorf("consume recovery code: %w", err)
		}
		if used {
			return Outcome{Factor: FactorRecovery, RecoveryLeft: left}, nil
		}
	}
	return Outcome{}, nil
}
