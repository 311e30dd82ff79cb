package gateway

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/templates"
)

// Messages of throttled sign-in attempts.
const (
	throttledTitle  = "Too many attempts"
	throttledDetail = "To protect accounts, sign-in slows down after several wrong passwords. " +
		"The wait ends by itself; each further wrong password makes the next wait longer."
)

// checkPasswordThrottled verifies a password under the brute-force limits:
// per account (the user id of a known user, the canonical username of an
// unknown one) and per client address. The limits are checked before the
// password, so during a delay even the right password is refused, with the
// same answer. u is nil for an unknown user; known and unknown users take
// the same path and about the same time (a dummy hash for unknown ones). A
// browser that signed in to the account before is counted on its own.
func (g *Gateway) checkPasswordThrottled(r *http.Request, username, password, ip string) (*store.User, attempts.Result, error) {
	ctx := r.Context()
	u, err := g.Users.FindUserByName(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		u = nil
		// A known name costs a second read (the user record); make an
		// unknown one cost the same, or the answer's timing would tell
		// which names exist — measurably so on refused attempts, which
		// cost nothing and can be repeated at will.
		_, err = g.Users.FindUserByID(ctx, unknownUserID)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, attempts.Result{}, err
	}
	acct := attempts.Name(username)
	if u != nil {
		acct = attempts.User(u.ID)
		if id, ok := g.knownBrowser(r, u); ok { // throttle_browser.go
			acct = attempts.KnownBrowser(id)
		}
	}
	res, err := g.Attempts.Password(ctx, acct, ip, func(ctx context.Context) (bool, error) {
		if u == nil {
			g.Hasher.VerifyDummy(ctx, password)
			return false, nil
		}
		return g.Hasher.Verify(ctx, u.PasswordHash, password)
	})
	return u, res, err
}

// unknownUserID is a user id that never exists (ids are random tokens).
const unknownUserID = "-"

// refuseThrottledLogin answers a sign-in attempt refused by a limit: 429,
// Retry-After, and a page saying when to try again. The answer is the same
// for a known or unknown user and a right or wrong password.
func (g *Gateway) refuseThrottledLogin(w http.ResponseWriter, r *http.Request, u *store.User, username, rd string, res attempts.Result) {
	g.Metrics.CountSignIn("throttled")
	g.Log.Warn("authentication_throttled", "username", username, "client_ip", g.clientIP(r),
		"known_user", u != nil, "limit", string(res.Kind), "retry_after_s", attempts.RetryAfter(res.Wait))
	g.throttledLoginPage(w, r, rd, attempts.Message(res.Wait), res.Wait)
}

// afterFailedLogin records what a wrong password set off and, when it
// started or lengthened a delay, answers 429 at once (so the person learns
// of the wait now, not on their next, possibly right, attempt). It returns
// true when it has answered.
func (g *Gateway) afterFailedLogin(w http.ResponseWriter, r *http.Request, u *store.User, rd string, res attempts.Result) bool {
	if res.DelayStarted && u != nil {
		g.event(r, u.ID, store.Event{Type: store.EventThrottled,
			Detail: "sign-in paused after too many wrong passwords (" + attempts.In(res.Delay) + ")"})
	}
	if res.Delay <= 0 {
		return false
	}
	g.throttledLoginPage(w, r, rd, msgBadCredentials+" "+attempts.Message(res.Delay), res.Delay)
	return true
}

// throttledLoginPage answers 429 with Retry-After: a page with no form
// (the next attempt should be a deliberate one, after the wait) and a link
// back to the sign-in form; JSON for non-browsers.
func (g *Gateway) throttledLoginPage(w http.ResponseWriter, r *http.Request, rd, msg string, wait time.Duration) {
	w.Header().Set("Retry-After", attempts.RetryAfter(wait))
	if !web.WantsHTML(r) {
		web.WriteJSONError(w, http.StatusTooManyRequests, "throttled", msg)
		return
	}
	g.renderThrottled(w, r, templates.ThrottledPage{
		Chrome:  templates.Chrome{Title: throttledTitle, Prefix: g.prefix},
		Message: msg, Detail: throttledDetail,
		Back: g.prefix + "/login?rd=" + url.QueryEscape(rd), BackLabel: "Back to sign in",
	})
}
