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
// It must run before markKnownBrowser, which makes the browser known.
func (g *Gateway) noteNewDevice(r *http.Request, u *store.User, secondFactorDue bool) {
	if _, known := g.knownBrowser(r, u); known {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 2*time.Second)
	defer cancel()
	events, err := g.Users.FindEvents(ctx, u.ID, 200)
	if err != nil {
		g.Log.Warn("new-device check: read activity", "err", err.Error())
		return
	}
	signedInBefore := false
	for _, e := range events {
		if e.Type == store.EventSignIn {
			signedInBefore = true
			break
		}
	}
	if !signedInBefore {
		return
	}
	detail := "your password was entered on a browser that has not signed in before"
	if secondFactorDue {
		detail += "; a two-step verification code is still needed"
	}
	g.event(r, u.ID, store.Event{Type: store.EventNewDevice, Detail: detail})
}
