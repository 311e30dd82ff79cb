package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
)

const usageUnthrottle = "usage: gateway users unthrottle NAME [--ip ADDRESS] | gateway users unthrottle --ip ADDRESS"

// usersUnthrottle shows and clears the brute-force counters of an account
// (password and two-step code attempts), and with --ip the password counter
// of a client address, for someone a stranger has slowed down. Counters
// expire by themselves; this is for when waiting is not an option.
func (e *env) usersUnthrottle(ctx context.Context, st *store.Store, args []string) error {
	fs := flag.NewFlagSet("users unthrottle", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	ip := fs.String("ip", "", "also clear the password attempts counted against this client address (an IPv6 address clears its /64)")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 || (len(pos) == 0 && *ip == "") {
		return errors.New(usageUnthrottle)
	}
	var client string
	if *ip != "" {
		a, err := netip.ParseAddr(*ip)
		if err != nil {
			return fmt.Errorf("--ip %q is not an IP address", *ip)
		}
		client = attempts.ClientKey(a.String())
	}
	if len(pos) == 1 {
		if err := e.unthrottleUser(ctx, st, pos[0]); err != nil {
			return err
		}
	}
	if client != "" {
		key := store.PasswordIPThrottleKey(client)
		t, err := st.FindThrottle(ctx, key)
		if err != nil {
			return err
		}
		if err := st.ThrottleReset(ctx, key); err != nil {
			return err
		}
		if t.Fails == 0 {
			fmt.Fprintf(e.stdout, "client %s had no failed attempts counted; nothing to clear\n", client)
		} else {
			fmt.Fprintf(e.stdout, "client %s: cleared %s\n", client, describeThrottle(t))
		}
	}
	return nil
}

func (e *env) unthrottleUser(ctx context.Context, st *store.Store, name string) error {
	u, err := st.FindUserByName(ctx, store.CanonicalUsername(name))
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no user %q", name)
	}
	if err != nil {
		return err
	}
	states, err := st.FindUserThrottles(ctx, u)
	if err != nil {
		return err
	}
	if err := st.ResetUserThrottles(ctx, u); err != nil {
		return err
	}
	if len(states) == 0 {
		fmt.Fprintf(e.stdout, "user %s had no failed attempts counted; nothing to clear\n", u.Username)
		return nil
	}
	for _, t := range states {
		what := "two-step code attempts"
		if t.Key != store.MFAThrottleKey(u.ID) {
			what = "password attempts"
		}
		fmt.Fprintf(e.stdout, "user %s: cleared %s: %s\n", u.Username, what, describeThrottle(t))
	}
	_ = st.AppendEvent(ctx, u.ID, store.Event{Type: store.EventThrottled,
		Detail: "limits on failed attempts cleared by an operator (command line)", Actor: "operator"})
	return nil
}

// describeThrottle says what a counter held: "4 failures, paused for
// another 2 minutes" or "2 failures".
func describeThrottle(t store.ThrottleState) string {
	s := fmt.Sprintf("%d failure", t.Fails)
	if t.Fails != 1 {
		s += "s"
	}
	if wait := time.Until(t.Until); !t.Until.IsZero() && wait > 0 {
		s += ", paused for another " + attempts.In(wait)
	}
	return s
}
