package e2e

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

func TestMFAEnrolThenSignInWithCodes(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "ann")
	first, app, _ := mfaEnrolAPI(t, g, "ann")
	if !mfaHasEvent(mfaEvents(t, g, u.ID), store.EventMFAEnabled, "") {
		t.Error("no mfa_enabled event")
	}
	// The secret is not stored in clear.
	stored, err := g.Store.FindUserByID(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !stored.MFAEnabled || stored.MFASecret == "" || strings.Contains(stored.MFASecret, app.secret) {
		t.Fatalf("stored 2FA state: enabled=%v secret in clear=%v", stored.MFAEnabled, strings.Contains(stored.MFASecret, app.secret))
	}
	// The device that turned 2FA on stays signed in.
	if e, resp := first.Echo(t, "/"); e == nil {
		t.Fatalf("enrolling device signed out: %d", resp.StatusCode)
	}

	c := g.NewClient(t)
	mfaPasswordStep(t, c, "ann")
	pending := c.SessionCookie()

	// The half-signed-in session reaches nothing.
	if _, resp := c.Echo(t, "/app/page"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("upstream with a pending session (API style): %d, want 401", resp.StatusCode)
	}
	resp := c.Get(t, "/app/page", "Accept", "text/html")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/.gateway/login/2fa?") {
		t.Errorf("upstream with a pending session (browser): %d to %q, want 302 to the code step", resp.StatusCode, loc)
	}
	resp = c.Get(t, "/.gateway/account/2fa", "Accept", "text/html")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/.gateway/login/2fa?") {
		t.Errorf("account page with a pending session: %d to %q, want 302 to the code step", resp.StatusCode, loc)
	}
	if resp := mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/setup", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API with a pending session: %d, want 401", resp.StatusCode)
	}
	if code := codeOf(t, c, "/.gateway/auth"); code != http.StatusUnauthorized {
		t.Errorf("forward-auth with a pending session: %d, want 401", code)
	}

	// The code page, then wrong codes.
	resp = c.Get(t, "/.gateway/login/2fa?rd=%2Fapp%2Fpage", "Accept", "text/html")
	doc := mfaDoc(t, resp)
	if resp.StatusCode != http.StatusOK || doc.Find("input#code[name=code]").Length() != 1 || doc.Find("#submit").Length() != 1 {
		t.Fatalf("code page: %d, form missing", resp.StatusCode)
	}
	mfaWantRefused(t, mfaSubmit(t, c, app.wrong()), http.StatusUnauthorized, "not right")
	old := app.at(time.Now().Unix()/30 - 2) // a code from 60 s ago
	mfaWantRefused(t, mfaSubmit(t, c, old), http.StatusUnauthorized, "not right")
	if !mfaHasEvent(mfaEvents(t, g, u.ID), store.EventMFAFailed, "wrong code") {
		t.Error("no mfa_failed event for a wrong code")
	}

	// The right code: signed in, with a new session id, back to rd.
	code := app.code()
	resp = mfaSubmit(t, c, code)
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/app/page" {
		t.Fatalf("right code: %d to %q, want 303 to /app/page", resp.StatusCode, loc)
	}
	if c.SessionCookie() == pending || c.SessionCookie() == "" {
		t.Error("the session id did not change after the code")
	}
	e, resp := c.Echo(t, "/app/page")
	if e == nil || e.Header.Get("X-Forwarded-User") != "ann" {
		t.Fatalf("upstream after the code: %d %+v", resp.StatusCode, e)
	}
	if !mfaHasEvent(mfaEvents(t, g, u.ID), store.EventSignIn, "password + authenticator app") {
		t.Error("no sign_in event naming the authenticator app")
	}
	// The pending cookie is dead now.
	replay := g.NewClient(t)
	replay.SetSessionCookie(pending)
	if _, resp := replay.Echo(t, "/"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("pending cookie after the code: %d, want 401", resp.StatusCode)
	}

	// The code that just worked is refused on another device (replay).
	other := g.NewClient(t)
	mfaPasswordStep(t, other, "ann")
	mfaWantRefused(t, mfaSubmit(t, other, code), http.StatusUnauthorized, "already used")
	if !mfaHasEvent(mfaEvents(t, g, u.ID), store.EventMFAFailed, "already used") {
		t.Error("no mfa_failed event for a replayed code")
	}
	// The next code works.
	if resp := mfaSubmit(t, other, app.code()); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("next code: %d, want 303", resp.StatusCode)
	}
}

func TestMFARecoveryCodeWorksOnce(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "bea")
	first, _, codes := mfaEnrolAPI(t, g, "bea")

	c := g.NewClient(t)
	mfaPasswordStep(t, c, "bea")
	// Typed in upper case without the dash: still the same code.
	typed := strings.ToUpper(strings.ReplaceAll(codes[0], "-", ""))
	resp := mfaSubmit(t, c, typed)
	doc := mfaDoc(t, resp)
	left := doc.Find("#recovery-left").Text()
	if resp.StatusCode != http.StatusOK || !strings.Contains(left, "9 recovery codes left") {
		t.Fatalf("recovery code: %d, %q; want a page saying 9 are left", resp.StatusCode, strings.TrimSpace(left))
	}
	if href, _ := doc.Find("#continue").Attr("href"); href != "/app/page" {
		t.Errorf("continue link %q, want /app/page", href)
	}
	if e, resp := c.Echo(t, "/app/page"); e == nil {
		t.Fatalf("upstream after a recovery code: %d", resp.StatusCode)
	}
	// Every other session was signed out.
	pollCode(t, first, "/", http.StatusUnauthorized, 2*time.Second)
	evs := mfaEvents(t, g, u.ID)
	if !mfaHasEvent(evs, store.EventRecoveryUsed, "9 codes left") || !mfaHasEvent(evs, store.EventSignIn, "password + recovery code") {
		t.Error("missing recovery_code_used or sign_in event")
	}

	// The same code again is refused.
	again := g.NewClient(t)
	mfaPasswordStep(t, again, "bea")
	mfaWantRefused(t, mfaSubmit(t, again, codes[0]), http.StatusUnauthorized, "not right")
	// Another one works and counts down.
	resp = mfaSubmit(t, again, codes[1])
	if left := mfaDoc(t, resp).Find("#recovery-left").Text(); !strings.Contains(left, "8 recovery codes left") {
		t.Fatalf("second recovery code: %d, %q", resp.StatusCode, strings.TrimSpace(left))
	}
}

func TestMFACodeAttemptsAreLimited(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "cai")
	_, app, _ := mfaEnrolAPI(t, g, "cai")
	c := g.NewClient(t)
	mfaPasswordStep(t, c, "cai")
	wrong := app.wrong()
	for i := 1; i <= 5; i++ {
		mfaWantRefused(t, mfaSubmit(t, c, wrong), http.StatusUnauthorized, "not right")
	}
	// Entering the password again does not buy more guesses: the count is
	// kept per account.
	mfaPasswordStep(t, c, "cai")
	resp := mfaSubmit(t, c, wrong)
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	msg := strings.TrimSpace(mfaDoc(t, resp).Find("#error").Text())
	if resp.StatusCode != http.StatusTooManyRequests || retry < 1 || !regexp.MustCompile(`Try again in \d+ seconds?`).MatchString(msg) {
		t.Fatalf("sixth wrong code: %d Retry-After %q %q; want 429 saying when to try again", resp.StatusCode, resp.Header.Get("Retry-After"), msg)
	}
	if !mfaHasEvent(mfaEvents(t, g, u.ID), store.EventThrottled, "paused") {
		t.Error("no throttled event")
	}
	// After the pause the right code works, and resets the count.
	deadline := time.Now().Add(20 * time.Second)
	code := app.code()
	for {
		resp = mfaSubmit(t, c, code)
		if resp.StatusCode != http.StatusTooManyRequests {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still paused after 20 s")
		}
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		time.Sleep(time.Duration(wait) * time.Second)
	}
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("right code after the pause: %d, want 303", resp.StatusCode)
	}
	other := g.NewClient(t)
	mfaPasswordStep(t, other, "cai")
	mfaWantRefused(t, mfaSubmit(t, other, wrong), http.StatusUnauthorized, "not right")
}

func TestMFAPausedAttemptsRefuseEvenTheRightCode(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "dov")
	enrolled, app, codes := mfaEnrolAPI(t, g, "dov")
	// Someone guessed a lot: the account's code attempts are paused for an
	// hour (the counter the gateway keeps, filled directly).
	if _, err := g.Store.ThrottleFail(t.Context(), store.MFAThrottleKey(u.ID), store.ThrottlePolicy{Base: time.Hour, Max: time.Hour, Forget: time.Hour}); err != nil {
		t.Fatal(err)
	}
	c := g.NewClient(t)
	mfaPasswordStep(t, c, "dov")
	resp := mfaSubmit(t, c, app.code())
	retry, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
	msg := strings.TrimSpace(mfaDoc(t, resp).Find("#error").Text())
	if resp.StatusCode != http.StatusTooManyRequests || retry < 3500 || !strings.Contains(msg, "Try again in 1 hour") {
		t.Fatalf("right code while paused: %d Retry-After %d %q", resp.StatusCode, retry, msg)
	}
	if _, resp := c.Echo(t, "/"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("upstream while paused: %d, want 401", resp.StatusCode)
	}
	// The account page and API share the pause: not even a recovery code
	// turns 2FA off meanwhile.
	resp = mfaPostJSON(t, enrolled, "/.gateway/api/v1/me/2fa/disable", `{"password":"`+harness.TestPassword+`","code":"`+codes[0]+`"}`)
	var apiErr struct{ Code string }
	mfaDecode(t, resp, &apiErr)
	if resp.StatusCode != http.StatusTooManyRequests || apiErr.Code != "too_many_attempts" || resp.Header.Get("Retry-After") == "" {
		t.Errorf("API disable while paused: %d %q Retry-After %q", resp.StatusCode, apiErr.Code, resp.Header.Get("Retry-After"))
	}
}

func TestMFAForcedEnrolmentForStaff(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "sam", store.RoleSupport)
	c := g.NewClient(t)
	resp := signIn(t, c, "sam", harness.TestPassword, "/app/page")
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != "/.gateway/login/2fa/setup?rd=%2Fapp%2Fpage" {
		t.Fatalf("staff without 2FA after the password: %d to %q, want forced enrolment", resp.StatusCode, loc)
	}
	// Nothing else is reachable until it is done.
	if _, resp := c.Echo(t, "/app/page"); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("upstream: %d, want 401", resp.StatusCode)
	}
	if code := codeOf(t, c, "/.gateway/account/2fa", "Accept", "text/html"); code != http.StatusFound {
		t.Errorf("account page: %d, want 302", code)
	}
	if resp := mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/setup", ""); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("API: %d, want 401", resp.StatusCode)
	}
	// The code step is not a way around it.
	if resp := mfaSubmit(t, c, "123456"); resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "/login/2fa/setup") {
		t.Errorf("code step during forced enrolment: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}

	resp = c.Get(t, "/.gateway/login/2fa/setup?rd=%2Fapp%2Fpage", "Accept", "text/html")
	if doc := mfaDoc(t, resp); resp.StatusCode != http.StatusOK || doc.Find("#start").Length() != 1 {
		t.Fatalf("enrolment start page: %d", resp.StatusCode)
	}
	resp = c.PostForm(t, "/.gateway/login/2fa/setup", url.Values{"rd": {"/app/page"}})
	doc := mfaDoc(t, resp)
	secret := doc.Find("#manual-key-raw").Text()
	grouped, _ := doc.Find("#manual-key").Attr("data-key")
	qr, _ := doc.Find("img#qr").Attr("src")
	if resp.StatusCode != http.StatusOK || secret == "" || grouped != secret || !strings.HasPrefix(qr, "data:image/png;base64,") {
		t.Fatalf("setup page: %d key %q/%q qr %.30q", resp.StatusCode, secret, grouped, qr)
	}
	app := newMFAApp(t, secret)
	resp = c.PostForm(t, "/.gateway/login/2fa/setup/confirm", url.Values{"rd": {"/app/page"}, "code": {app.wrong()}})
	doc = mfaDoc(t, resp)
	if again := doc.Find("#manual-key-raw").Text(); resp.StatusCode != http.StatusUnauthorized || again != secret || doc.Find("#error").Length() != 1 {
		t.Fatalf("wrong confirm code: %d, key %q; want 401 with the same key", resp.StatusCode, again)
	}
	pending := c.SessionCookie()
	resp = c.PostForm(t, "/.gateway/login/2fa/setup/confirm", url.Values{"rd": {"/app/page"}, "code": {app.code()}})
	doc = mfaDoc(t, resp)
	if n := doc.Find("#recovery-codes li").Length(); resp.StatusCode != http.StatusOK || n != 10 {
		t.Fatalf("confirm: %d with %d recovery codes, want 200 with 10", resp.StatusCode, n)
	}
	if href, _ := doc.Find("#continue").Attr("href"); href != "/app/page" {
		t.Errorf("continue link %q", href)
	}
	if c.SessionCookie() == pending {
		t.Error("session id unchanged after enrolment")
	}
	if e, resp := c.Echo(t, "/app/page"); e == nil || e.Header.Get("X-Forwarded-User") != "sam" {
		t.Fatalf("upstream after enrolment: %d", resp.StatusCode)
	}
	evs := mfaEvents(t, g, u.ID)
	if !mfaHasEvent(evs, store.EventMFAEnabled, "") || !mfaHasEvent(evs, store.EventSignIn, "authenticator app") {
		t.Error("missing mfa_enabled or sign_in event")
	}

	// The role requires 2FA: it cannot be turned off.
	resp = c.Get(t, "/.gateway/account/2fa", "Accept", "text/html")
	if doc := mfaDoc(t, resp); doc.Find("#disable-refused").Length() != 1 || doc.Find("#disable").Length() != 0 {
		t.Error("status page offers to turn off 2FA that the role requires")
	}
	resp = mfaPostJSON(t, c, "/.gateway/api/v1/me/2fa/disable", `{"password":"`+harness.TestPassword+`","code":"`+app.code()+`"}`)
	var apiErr struct{ Code string }
	mfaDecode(t, resp, &apiErr)
	if resp.StatusCode != http.StatusForbidden || apiErr.Code != "mfa_required" {
		t.Errorf("disable for staff: %d %q, want 403 mfa_required", resp.StatusCode, apiErr.Code)
	}

	// Next time: the code step, not enrolment.
	next := g.NewClient(t)
	mfaPasswordStep(t, next, "sam")
}
