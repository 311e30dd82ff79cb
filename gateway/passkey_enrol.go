package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/passkeys"
	"github.com/authgate/gateway/templates"
)

// Forced passkey enrolment (mfa.phishing_resistant): a person whose role
// requires a passkey and who has none gets a session that owes
// store.PendingPasskey — after the password when they have no other factor,
// after their code when they have an authenticator app — and reaches only
// these pages until a passkey is added.

// owePasskey turns the pending session cur into one that owes a passkey
// and sends the browser to add one.
func (g *Gateway) owePasskey(w http.ResponseWriter, r *http.Request, cur *store.Principal, rd string) {
	ctx := r.Context()
	if _, err := g.Sessions.Issue(ctx, w, store.IssueOptions{
		UserID: cur.Claims.UserID, Pending: store.PendingPasskey, AuthAt: time.Unix(0, cur.Claims.AuthAt),
		IP: g.clientIP(r), Agent: r.UserAgent(),
	}); err != nil {
		g.Log.Error("passkey enrol: issue pending session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.endPreviousSession(r) // the request still carries the old pending cookie
	http.Redirect(w, r, g.prefix+"/login/passkey/setup?rd="+url.QueryEscape(rd), http.StatusSeeOther)
}

func (g *Gateway) passkeyEnrolPage(r *http.Request, rd, errMsg string) templates.PasskeyEnrolPage {
	on, note := g.passkeysOffered(r)
	if !on && note == "" {
		note = "Passkeys are not available here. Contact support."
	}
	return templates.PasskeyEnrolPage{
		Chrome: templates.Chrome{Title: "Add a passkey", Prefix: g.prefix},
		RD:     rd, Error: errMsg, Available: on, Note: note,
	}
}

func (g *Gateway) renderPasskeyEnrol(w http.ResponseWriter, r *http.Request, status int, p templates.PasskeyEnrolPage) {
	if p.Available {
		allowOwnScripts(w)
	}
	g.render(w, r, status, templates.PasskeyEnrol(p))
}

func (g *Gateway) showPasskeyEnrol(w http.ResponseWriter, r *http.Request) {
	rd := g.cleanRD(r.URL.Query().Get("rd"))
	if g.pendingSession(w, r, store.PendingPasskey, rd) == nil {
		return
	}
	g.renderPasskeyEnrol(w, r, http.StatusOK, g.passkeyEnrolPage(r, rd, ""))
}

// beginPasskeyEnrol answers the registration options for a session that
// owes a passkey; the ceremony is bound to that session.
func (g *Gateway) beginPasskeyEnrol(w http.ResponseWriter, r *http.Request) {
	g.startSessionCeremony(w, r, "passkey enrol", owes(store.PendingPasskey), refuseNoPendingStep,
		func(ctx context.Context, rp passkeys.RP, u *store.User, cur *store.Principal) (any, error) {
			return g.Passkeys.BeginRegistration(ctx, rp, u, cur.Claims.SessionID)
		})
}

// finishPasskeyEnrol stores the new passkey and signs the person in fully
// (new session id; every other session of the account is signed out, as
// when an authenticator app is added at sign-in).
func (g *Gateway) finishPasskeyEnrol(w http.ResponseWriter, r *http.Request) {
	f, ok := g.readPasskeyFinish(w, r)
	if !ok {
		return
	}
	cur, u, _ := g.pendingAccount(w, r, store.PendingPasskey, f.rd)
	if u == nil {
		return
	}
	name := r.PostForm.Get("name")
	if f.asJSON {
		var named struct {
			Name string `json:"name"`
		}
		_ = json.Unmarshal(f.body, &named)
		name = named.Name
	}
	fail := f.refuser(w, r, func(status int, msg string) {
		g.renderPasskeyEnrol(w, r, status, g.passkeyEnrolPage(r, f.rd, msg))
	})
	if f.missing(fail) {
		return
	}
	p, err := g.Passkeys.FinishRegistration(r.Context(), u, cur.Claims.SessionID, passkeys.CleanName(name), f.body)
	switch {
	case errors.Is(err, passkeys.ErrNoCeremony):
		fail(http.StatusBadRequest, "Adding the passkey took too long or was already done. Try again.")
		return
	case errors.Is(err, passkeys.ErrRefused), errors.Is(err, store.ErrConflict):
		g.Log.Info("passkey_refused", "step", "enrol", "username", u.Username, "client_ip", g.clientIP(r), "reason", err.Error())
		fail(http.StatusUnprocessableEntity, "That passkey could not be added. Try again, or use another device or password manager.")
		return
	case err != nil:
		g.Log.Error("passkey enrol: finish", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	ctx := r.Context()
	ip, ua := g.clientIP(r), r.UserAgent()
	if err := g.Sessions.SignOutEverywhere(ctx, w, u.ID, nil, ip, ua, store.EndReason{Code: store.EndMFAChanged}); err != nil {
		g.Log.Error("passkey enrol: sign out other sessions", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	claims, err := g.Sessions.Reissue(ctx, w, cur, time.Unix(0, cur.Claims.AuthAt), true, ip, ua)
	if err != nil {
		g.Log.Error("passkey enrol: issue session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.event(r, u.ID, store.Event{Type: store.EventPasskeyAdded, Detail: "passkey " + passkeyLabel(p) + " added at sign-in (required for your role); other devices signed out"})
	g.event(r, u.ID, store.Event{Type: store.EventSignIn, Detail: "password + new passkey " + passkeyLabel(p)})
	g.Metrics.CountSignIn("success")
	g.Log.Info("passkey_added", "username", u.Username, "client_ip", ip, "at", "sign-in")
	g.finishSignedIn(w, r, f, claims)
}
