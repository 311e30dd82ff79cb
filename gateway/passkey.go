package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/gateway/httpsafe"
	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/store/attempts"
	"github.com/authgate/gateway/store/passkeys"
	"github.com/authgate/gateway/templates"
)

// Passkey sign-in (store/passkeys runs the WebAuthn ceremonies):
//
//   - POST /login/passkey/begin: the options of a discoverable sign-in
//     ({"publicKey":{…}}); the ceremony is kept in Redis and bound to this
//     browser by a random id in a short-lived cookie.
//   - POST /login/passkey/finish: the browser's answer, as the form field
//     "credential" (the login page posts it with rd, like the password form)
//     or as a JSON body (then the answer is {"location": …} instead of a
//     redirect). A right answer signs in fully: a passkey is both factors.
//
// Failed answers count against the same client limit as wrong passwords and,
// when the answer names an account, against that account's second-factor
// limit (attempts.Guard.Passkey).

// Messages of passkey sign-in.
const (
	msgPasskeyRefused = "That passkey was not accepted. Try again, or sign in with your password."
	msgPasskeyExpired = "The passkey sign-in took too long or was already used. Try again."
	msgPasskeyMissing = "No passkey answer was received. Try again."
)

// passkeyRoutes registers the passkey ceremonies of sign-in.
func (g *Gateway) passkeyRoutes(mux *http.ServeMux) {
	if !g.passkeysOn() {
		return
	}
	p := g.prefix
	mux.HandleFunc("POST "+p+"/login/passkey/begin", g.beginPasskeySignIn)
	mux.HandleFunc("POST "+p+"/login/passkey/finish", g.finishPasskeySignIn)
	mux.HandleFunc("POST "+p+"/login/2fa/passkey/begin", g.beginPasskeyStep)
	mux.HandleFunc("POST "+p+"/login/2fa/passkey", g.finishPasskeyStep)
	mux.HandleFunc("GET "+p+"/login/passkey/setup", g.showPasskeyEnrol)
	mux.HandleFunc("POST "+p+"/login/passkey/setup/begin", g.beginPasskeyEnrol)
	mux.HandleFunc("POST "+p+"/login/passkey/setup", g.finishPasskeyEnrol)
}

// passkeysOn says whether passkeys are configured and this gateway has
// the service that runs their ceremonies.
func (g *Gateway) passkeysOn() bool { return g.Passkeys != nil && g.Config.PasskeysOn() }

// passkeyCookieName is the cookie binding a sign-in ceremony to the
// browser that began it.
func (g *Gateway) passkeyCookieName() string { return g.loginCookieName("_pk") }

// passkeyParty is the relying party of r (passkeys.Party): the portal's
// origin, or the host the gateway is reached by.
func (g *Gateway) passkeyParty(r *http.Request) (passkeys.RP, error) {
	portal := ""
	if g.Config.HasPortal() {
		portal = g.Config.Portal.String()
	}
	return passkeys.Party(portal, g.appURL(r, ""))
}

// passkeysOffered says whether the pages of r offer passkeys, and if not
// because of the host, what to say instead.
func (g *Gateway) passkeysOffered(r *http.Request) (bool, string) {
	if !g.passkeysOn() {
		return false, ""
	}
	if _, err := g.passkeyParty(r); err != nil {
		if errors.Is(err, passkeys.ErrIPHost) {
			return false, passkeys.MsgIPHost
		}
		return false, ""
	}
	return true, ""
}

// passkeyCount is how many passkeys the account uid has (none while
// passkeys are off).
func (g *Gateway) passkeyCount(ctx context.Context, uid string) (int, error) {
	if !g.passkeysOn() {
		return 0, nil
	}
	return g.MFA.CountPasskeys(ctx, uid)
}

// phishingResistant reports whether policy demands a passkey of someone
// with these roles (mfa.phishing_resistant).
func (g *Gateway) phishingResistant(roles []string) bool {
	if !g.passkeysOn() {
		return false
	}
	for _, r := range roles {
		if g.Config.PhishingResistantFor(r) {
			return true
		}
	}
	return false
}

// writeCeremonyOptions answers a begin call with the WebAuthn options.
func writeCeremonyOptions(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_ = json.NewEncoder(w).Encode(v)
}

func (g *Gateway) beginPasskeySignIn(w http.ResponseWriter, r *http.Request) {
	// Anyone may begin, and each begin keeps a ceremony in Redis for a few
	// minutes: the client address's request bucket bounds how fast.
	if ok, wait := g.limits.limitsFor(r.Host, r.URL.Path).allowIP(httpsafe.ClientIP(r, g.Config.TrustedPrefixes), time.Now()); !ok {
		g.Metrics.CountThrottled(kindRequestIP)
		g.tooManyRequests(w, r, wait)
		return
	}
	g.startCeremony(w, r, "passkey sign-in", "Passkey sign-in is unavailable right now. Try again in a few seconds.",
		func(ctx context.Context, rp passkeys.RP) (any, error) {
			binding := store.NewSessionID()
			opts, err := g.Passkeys.BeginSignIn(ctx, rp, binding)
			if err == nil {
				http.SetCookie(w, &http.Cookie{
					Name: g.passkeyCookieName(), Value: binding, Path: g.prefix + "/login", MaxAge: int(passkeys.CeremonyTTL.Seconds()),
					HttpOnly: true, Secure: g.Config.Cookie.Secure, SameSite: http.SameSiteStrictMode,
				})
			}
			return opts, err
		})
}

// passkeyAnswer reads a ceremony answer from r: a JSON body, or the form
// field "credential" (with rd). asJSON says which.
func passkeyAnswer(w http.ResponseWriter, r *http.Request) (body []byte, rd string, asJSON bool, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		body, err = io.ReadAll(r.Body)
		return body, "", true, err
	}
	if err = r.ParseForm(); err != nil {
		return nil, "", false, err
	}
	return []byte(r.PostForm.Get("credential")), r.PostForm.Get("rd"), false, nil
}

func (g *Gateway) finishPasskeySignIn(w http.ResponseWriter, r *http.Request) {
	f, ok := g.readPasskeyFinish(w, r)
	if !ok {
		return
	}
	fail := func(status int, code, msg string) {
		if f.asJSON || !web.WantsHTML(r) {
			web.WriteJSONError(w, status, code, msg)
			return
		}
		g.renderLogin(w, r, status, "", f.rd, msg, "")
	}
	binding := ""
	if ck, err := r.Cookie(g.passkeyCookieName()); err == nil {
		binding = ck.Value
	}
	http.SetCookie(w, &http.Cookie{Name: g.passkeyCookieName(), Value: "", Path: g.prefix + "/login", MaxAge: -1,
		HttpOnly: true, Secure: g.Config.Cookie.Secure, SameSite: http.SameSiteStrictMode})
	if len(f.body) == 0 {
		fail(http.StatusBadRequest, "missing_credential", msgPasskeyMissing)
		return
	}
	if binding == "" {
		fail(http.StatusBadRequest, "no_ceremony", msgPasskeyExpired)
		return
	}
	ip := g.clientIP(r)
	a, err := g.Passkeys.OpenAssertion(r.Context(), passkeys.KindSignIn, binding, "", f.body)
	if errors.Is(err, passkeys.ErrNoCeremony) {
		fail(http.StatusBadRequest, "no_ceremony", msgPasskeyExpired)
		return
	}
	if err != nil {
		g.Log.Error("passkey sign-in: open answer", "err", err.Error(), "client_ip", ip)
		g.unavailable(w, r)
		return
	}
	res, ok := g.verifyPasskey(w, r, a, "sign-in", func(status int, msg string) { fail(status, "passkey_refused", msg) })
	if !ok {
		return
	}
	u := a.User
	if u.Disabled {
		g.Metrics.CountSignIn("disabled")
		g.event(r, u.ID, store.Event{Type: store.EventSignInFailed, Detail: "account disabled (passkey)"})
		fail(http.StatusForbidden, "disabled", msgDisabled)
		return
	}
	g.endPreviousSession(r)
	newDevice := g.noteNewDevice(r, u, false)
	g.markKnownBrowser(w, r, u)
	claims, err := g.Sessions.Issue(r.Context(), w, store.IssueOptions{UserID: u.ID, MFA: true, IP: ip, Agent: r.UserAgent()})
	if err != nil {
		g.Log.Error("passkey sign-in: issue session", "err", err.Error())
		g.unavailable(w, r)
		return
	}
	g.recordNewSignIn(r, u.ID, claims.SessionID, newDevice)
	g.Metrics.CountSignIn("success")
	g.Log.Info("authentication_succeeded", "username", u.Username, "client_ip", ip, "factor", "passkey")
	g.event(r, u.ID, store.Event{Type: store.EventSignIn, Detail: "passkey " + passkeyLabel(res.Passkey)})
	g.finishSignedIn(w, r, f, claims)
}

// verifyPasskey checks an opened answer under the brute-force limits and
// records what a refusal or a counter warning means. On refusal it has
// answered through fail (or with 503) and ok is false.
func (g *Gateway) verifyPasskey(w http.ResponseWriter, r *http.Request, a *passkeys.Assertion, step string,
	fail func(status int, msg string)) (passkeys.Result, bool) {
	ip := g.clientIP(r)
	uid := ""
	if a.User != nil {
		uid = a.User.ID
	}
	var res passkeys.Result
	var reason string
	guard, err := g.Attempts.Passkey(r.Context(), uid, ip, func(ctx context.Context) (bool, error) {
		var ok bool
		var err error
		res, ok, reason, err = g.Passkeys.Verify(ctx, a)
		return ok, err
	})
	if err != nil {
		g.Log.Error("passkey: verify", "err", err.Error(), "client_ip", ip)
		g.unavailable(w, r)
		return res, false
	}
	if guard.Throttled() {
		g.Metrics.CountSignIn("throttled")
		g.Log.Warn("authentication_throttled", "method", "passkey", "client_ip", ip, "known_user", uid != "",
			"limit", string(guard.Kind), "retry_after_s", attempts.RetryAfter(guard.Wait))
		w.Header().Set("Retry-After", attempts.RetryAfter(guard.Wait))
		fail(http.StatusTooManyRequests, attempts.Message(guard.Wait))
		return res, false
	}
	if !guard.OK {
		g.Metrics.CountSignIn("failed")
		username := ""
		if a.User != nil {
			username = a.User.Username
		}
		g.Log.Info("authentication_failed", "method", "passkey", "step", step, "username", username,
			"client_ip", ip, "known_user", uid != "", "reason", reason)
		if uid != "" {
			g.event(r, uid, store.Event{Type: store.EventSignInFailed, Detail: "passkey not accepted (" + step + ")"})
			if guard.DelayStarted {
				g.event(r, uid, store.Event{Type: store.EventThrottled,
					Detail: "passkey sign-ins paused after too many failures (" + attempts.In(guard.Delay) + ")"})
			}
		}
		if guard.Delay > 0 {
			w.Header().Set("Retry-After", attempts.RetryAfter(guard.Delay))
			fail(http.StatusTooManyRequests, msgPasskeyRefused+" "+attempts.Message(guard.Delay))
			return res, false
		}
		fail(http.StatusUnauthorized, msgPasskeyRefused)
		return res, false
	}
	if res.CounterWarning {
		g.Log.Warn("passkey_counter_regressed", "username", a.User.Username, "client_ip", ip,
			"passkey", passkeyLabel(res.Passkey))
		g.event(r, uid, store.Event{Type: store.EventPasskeyWarning,
			Detail: "passkey " + passkeyLabel(res.Passkey) + " reported a use count that did not go up: it may have been copied. If you don't recognise this, remove it and add a new one."})
	}
	return res, true
}

// passkeyLabel names a passkey in the activity stream and the log.
func passkeyLabel(p *store.Passkey) string {
	if p == nil {
		return "(removed)"
	}
	if p.Name == "" {
		return "(unnamed)"
	}
	return "“" + p.Name + "”"
}

// jsonRedirect turns the redirect a sign-in ends with into a JSON answer
// ({"location": …}) for callers that posted JSON: fetch cannot read a
// redirect's target.
type jsonRedirect struct {
	http.ResponseWriter
	done bool
}

func (j *jsonRedirect) WriteHeader(code int) {
	if code < 300 || code >= 400 {
		j.ResponseWriter.WriteHeader(code)
		return
	}
	h := j.Header()
	loc := h.Get("Location")
	h.Del("Location")
	h.Set("Content-Type", "application/json")
	j.ResponseWriter.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(j.ResponseWriter).Encode(map[string]string{"location": loc})
	j.done = true
}

func (j *jsonRedirect) Write(b []byte) (int, error) {
	if j.done {
		return len(b), nil
	}
	return j.ResponseWriter.Write(b)
}

// renderLogin renders the sign-in page, with the passkey button and the
// script it needs when passkeys are offered on this host.
func (g *Gateway) renderLogin(w http.ResponseWriter, r *http.Request, status int, username, rd, errMsg, notice string) {
	on, note := g.passkeysOffered(r)
	if on {
		allowOwnScripts(w)
	}
	g.render(w, r, status, templates.Login(templates.LoginPage{
		Chrome:   templates.Chrome{Title: "Sign in", Prefix: g.prefix},
		Username: username, RD: rd, Error: errMsg, Notice: notice, Forgot: g.MailOn, Passkeys: on, PasskeyNote: note,
	}))
}

// allowOwnScripts relaxes the CSP of one page that needs the gateway's own
// static script (and its own API): still no inline script and no eval.
// Pages without a script keep a CSP with no script at all.
func allowOwnScripts(w http.ResponseWriter) {
	h := w.Header()
	if csp := h.Get("Content-Security-Policy"); strings.Contains(csp, "default-src 'none'") && !strings.Contains(csp, "script-src") {
		h.Set("Content-Security-Policy", strings.Replace(csp, "default-src 'none'",
			"default-src 'none'; script-src 'self'; connect-src 'self'", 1))
	}
}
