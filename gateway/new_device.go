package gateway

import (
	"context"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
)

// noteNewDevice writes a "sign-in from a new device" event when the right
// password for u is entered on a browser that has not signed in to this
// account before (it carries no known-browser cookie for u). The Login &
// Security page shows such events as alerts, so a person notices a sign-in
// they did not make — also one still waiting for its second factor, since
// then their password is what leaked. An account's very first sign-in is
// not news and raises nothing.
//
// It must run before markKnownBrowser, which makes the browser known. It
// returns the event's detail when it wrote one, for recordNewSignIn once
// the session exists.
func (g *Gateway) noteNewDevice(r *http.Request, u *store.User, secondFactorDue bool) string {
	if _, known := g.knownBrowser(r, u); known {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	events, err := g.Users.FindEvents(ctx, u.ID, 200)
	if err != nil {
		g.Log.Warn("new-device check: read activity", "err", err.Error())
		return ""
	}
	signedInBefore := false
	for _, e := range events {
		if e.Type == store.EventSignIn {
			signedInBefore = true
			break
		}
	}
	if !signedInBefore {
		return ""
	}
	detail := "your password was entered on a browser that has not signed in before"
	if secondFactorDue {
		detail += "; a two-step verification code is still needed"
	}
	g.event(r, u.ID, store.Event{Type: store.EventNewDevice, Detail: detail})
	return detail
}

// newSignInStore keeps the per-device record the Login & Security page
// offers to answer ("Yes, that was me" / "No, secure my account").
type newSignInStore interface {
	AddNewSignIn(ctx context.Context, uid string, n store.NewSignIn) error
}

// recordNewSignIn keeps the new sign-in of session sid (noteNewDevice said
// detail) for 14 days, keyed by the session so a device is flagged once
// and the device itself is never asked about its own sign-in. A failure is
// logged: the activity entry and the mail still tell the person.
func (g *Gateway) recordNewSignIn(r *http.Request, uid, sid, detail string) {
	st, ok := g.Users.(newSignInStore)
	if detail == "" || !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	n := store.NewSignIn{SessionID: sid, Time: time.Now().UTC(), IP: g.clientIP(r),
		Device: r.UserAgent(), Detail: detail}
	if err := st.AddNewSignIn(ctx, uid, n); err != nil {
		g.Log.Warn("new-device check: keep for the account page", "err", err.Error())
	}
}
