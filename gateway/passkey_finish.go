package gateway

import (
	"errors"
	"net/http"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passkeys"
)

// Every passkey ceremony finishes the same way: the answer is read (a JSON
// body from the page's script, or the form field "credential" with rd), a
// refusal is a JSON error to a script and the page again to a browser, and
// a right answer ends on rd (as {"location": …} to a script). The answer
// to a second step or a confirm page is opened against its ceremony and
// verified under the brute-force limits (verifyPasskey).

// passkeyFinish is what a finish call carries: the ceremony's answer, where
// to go afterwards (cleaned) and whether the page's script posted it.
type passkeyFinish struct {
	body   []byte
	rd     string
	asJSON bool
}

// readPasskeyFinish reads the answer of a finish call; an unreadable one is
// answered with the bad-request page and ok is false.
func (g *Gateway) readPasskeyFinish(w http.ResponseWriter, r *http.Request) (f passkeyFinish, ok bool) {
	body, rd, asJSON, err := passkeyAnswer(w, r)
	if err != nil {
		g.renderErrorPage(w, r, http.StatusBadRequest, "bad_request", "Bad request", "The form could not be read.")
		return f, false
	}
	return passkeyFinish{body: body, rd: g.cleanRD(rd), asJSON: asJSON}, true
}

// refuser is how a finish call says no: a JSON error (passkey_refused) to
// the script or any caller that does not want HTML, else page with msg.
func (f passkeyFinish) refuser(w http.ResponseWriter, r *http.Request, page func(status int, msg string)) func(status int, msg string) {
	return func(status int, msg string) {
		if f.asJSON || !web.WantsHTML(r) {
			web.WriteJSONError(w, status, "passkey_refused", msg)
			return
		}
		page(status, msg)
	}
}

// missing refuses an empty answer through fail and says so.
func (f passkeyFinish) missing(fail func(status int, msg string)) bool {
	if len(f.body) == 0 {
		fail(http.StatusBadRequest, msgPasskeyMissing)
		return true
	}
	return false
}

// checkPasskeyStep opens the answer to the step ceremony bound to binding
// for the account uid and verifies it. what names the flow in log lines,
// step in the activity stream; on refusal (through fail) or failure it has
// answered and ok is false.
func (g *Gateway) checkPasskeyStep(w http.ResponseWriter, r *http.Request, f passkeyFinish, binding, uid, what, step string,
	fail func(status int, msg string)) (res passkeys.Result, ok bool) {
	if f.missing(fail) {
		return res, false
	}
	a, err := g.Passkeys.OpenAssertion(r.Context(), passkeys.KindStep, binding, uid, f.body)
	if errors.Is(err, passkeys.ErrNoCeremony) {
		fail(http.StatusBadRequest, msgPasskeyExpired)
		return res, false
	}
	if err != nil {
		g.Log.Error(what+": open answer", "err", err.Error())
		g.unavailable(w, r)
		return res, false
	}
	return g.verifyPasskey(w, r, a, step, fail)
}

// finishSignedIn ends a finish call in session c: on to rd, as a redirect or,
// to the script, as {"location": …}.
func (g *Gateway) finishSignedIn(w http.ResponseWriter, r *http.Request, f passkeyFinish, c *store.Claims) {
	if f.asJSON {
		w = &jsonRedirect{ResponseWriter: w}
	}
	g.continueSignedIn(w, r, c, f.rd, http.StatusSeeOther)
}
