package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// User-Agents of the "devices" in these tests.
const (
	uaIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	uaFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
)

const newPassword = "a brand new passphrase for alice"

// acctLogin signs name in from a new client that presents userAgent (a
// device), and fails the test unless sign-in completes.
func acctLogin(t *testing.T, g *harness.Gateway, name, password, userAgent string) *harness.Client {
	t.Helper()
	c := g.NewClient(t)
	resp := c.PostForm(t, "/.gateway/login", url.Values{"username": {name}, "password": {password}, "rd": {"/"}}, "User-Agent", userAgent)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("login %s: status %d location %q body %.300s", name, resp.StatusCode, resp.Header.Get("Location"), b)
	}
	return c
}

// acctProxied reports whether c's session still gets through to the app.
func acctProxied(t *testing.T, c *harness.Client) bool {
	t.Helper()
	resp := c.Get(t, "/app")
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
		return true
	case http.StatusUnauthorized:
		return false
	}
	t.Fatalf("GET /app: unexpected status %d", resp.StatusCode)
	return false
}

// acctCall sends a JSON API call (body may be "") and decodes a JSON answer
// into out when out is not nil.
func acctCall(t *testing.T, c *harness.Client, method, path, body string, out any, header ...string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
		header = append([]string{"Content-Type", "application/json"}, header...)
	}
	resp := c.Do(t, method, "/.gateway/api/v1"+path, rd, header...)
	if out != nil {
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			b, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s %s: status %d, Content-Type %q, body %.300s", method, path, resp.StatusCode, ct, b)
		}
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
	return resp
}

// apiErr is the API's error body.
type apiErr struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

type apiSession struct {
	ID       string    `json:"id"`
	Current  bool      `json:"current"`
	Device   string    `json:"device"`
	IP       string    `json:"ip"`
	Place    string    `json:"place"`
	Created  time.Time `json:"created"`
	LastSeen time.Time `json:"last_seen"`
}

func mySessions(t *testing.T, c *harness.Client) []apiSession {
	t.Helper()
	var out struct {
		Sessions []apiSession `json:"sessions"`
	}
	if resp := acctCall(t, c, "GET", "/me/sessions", "", &out); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET me/sessions: %d", resp.StatusCode)
	}
	return out.Sessions
}

// otherSession returns the one session of the list that is not current.
func otherSession(t *testing.T, list []apiSession) apiSession {
	t.Helper()
	var other []apiSession
	for _, s := range list {
		if !s.Current {
			other = append(other, s)
		}
	}
	if len(other) != 1 {
		t.Fatalf("want exactly one other session, got %+v", list)
	}
	return other[0]
}

func TestAccountAPIMe(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)

	var me struct {
		Username   string   `json:"username"`
		Email      string   `json:"email"`
		Roles      []string `json:"roles"`
		MFAEnabled *bool    `json:"mfa_enabled"`
	}
	if resp := acctCall(t, c, "GET", "/me", "", &me); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET me: %d", resp.StatusCode)
	}
	if me.Username != "alice" || me.Email != "alice@example.com" || len(me.Roles) != 1 || me.Roles[0] != "user" ||
		me.MFAEnabled == nil || *me.MFAEnabled {
		t.Errorf("GET me = %+v", me)
	}

	// Without a session, even a browser-like Accept gets 401 JSON, not a page.
	var e apiErr
	resp := acctCall(t, g.NewClient(t), "GET", "/me", "", &e, "Accept", "text/html")
	if resp.StatusCode != http.StatusUnauthorized || e.Code != "unauthenticated" {
		t.Errorf("anonymous GET me: %d %+v, want 401 unauthenticated", resp.StatusCode, e)
	}
}

func TestAccountAPISessionsAndRevoke(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	bob := g.CreateUser(t, "bob")
	phone := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	bobC := acctLogin(t, g, "bob", harness.TestPassword, uaFirefox)

	list := mySessions(t, laptop)
	if len(list) != 2 {
		t.Fatalf("alice has %d sessions, want 2: %+v", len(list), list)
	}
	if !list[0].Current || list[0].Device != "Firefox on Linux (desktop)" {
		t.Errorf("first (newest activity) session = %+v, want this Firefox device", list[0])
	}
	other := otherSession(t, list)
	if other.Device != "Safari on iOS (mobile)" || other.IP != "127.0.0.1" || other.Place != "" ||
		other.Created.IsZero() || other.LastSeen.IsZero() {
		t.Errorf("phone session = %+v", other)
	}

	// Bob's session id, an unknown id and a malformed one all get the same 404.
	bobSID := mySessions(t, bobC)[0].ID
	for _, sid := range []string{bobSID, "AAAAAAAAAAAAAAAAAAAAAAAA", "not%7Ban%7Did"} {
		var e apiErr
		resp := acctCall(t, laptop, "POST", "/me/sessions/"+sid+"/revoke", "", &e)
		if resp.StatusCode != http.StatusNotFound || e.Code != "not_found" {
			t.Errorf("revoke %q: %d %+v, want 404 not_found", sid, resp.StatusCode, e)
		}
	}
	if !acctProxied(t, bobC) {
		t.Fatal("alice's attempt signed bob out")
	}
	if n := len(mySessions(t, bobC)); n != 1 {
		t.Fatalf("bob has %d sessions after alice's attempt, want 1", n)
	}
	_ = bob

	// A cross-site POST is refused and changes nothing.
	resp := laptop.Do(t, "POST", "/.gateway/api/v1/me/sessions/"+other.ID+"/revoke", nil,
		"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site revoke: %d, want 403", resp.StatusCode)
	}
	if !acctProxied(t, phone) {
		t.Fatal("a cross-site POST signed the phone out")
	}

	// Signing out the phone takes effect on its next request.
	if resp := acctCall(t, laptop, "POST", "/me/sessions/"+other.ID+"/revoke", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke phone: %d, want 204", resp.StatusCode)
	}
	if acctProxied(t, phone) {
		t.Error("the phone still gets through after being signed out")
	}
	if !acctProxied(t, laptop) {
		t.Error("the laptop was signed out too")
	}
	if list := mySessions(t, laptop); len(list) != 1 || !list[0].Current {
		t.Errorf("sessions after revoke = %+v, want only this one", list)
	}

	// Revoking the current session over the API signs this client out.
	cur := mySessions(t, laptop)[0].ID
	if resp := acctCall(t, laptop, "POST", "/me/sessions/"+cur+"/revoke", "", nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke current: %d", resp.StatusCode)
	}
	if acctProxied(t, laptop) {
		t.Error("the laptop still gets through after revoking its own session")
	}
}

func TestAccountAPISignOutAll(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	phone := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	oldCookie := laptop.SessionCookie()

	resp := acctCall(t, laptop, "POST", "/me/signout-all", `{"keep_current":true}`, nil)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("signout-all keep: %d, want 204", resp.StatusCode)
	}
	if len(resp.Cookies()) == 0 || laptop.SessionCookie() == oldCookie {
		t.Fatal("signout-all keeping this device did not give it a fresh cookie")
	}
	if acctProxied(t, phone) {
		t.Error("the phone still gets through after sign-out-all")
	}
	if !acctProxied(t, laptop) {
		t.Error("the kept device was signed out")
	}
	replay := g.NewClient(t)
	replay.SetSessionCookie(oldCookie)
	if acctProxied(t, replay) {
		t.Error("the laptop's cookie from before sign-out-all still works")
	}
	if list := mySessions(t, laptop); len(list) != 1 || !list[0].Current {
		t.Errorf("sessions after sign-out-all = %+v, want only this one", list)
	}

	// keep_current false signs this device out too.
	if resp := acctCall(t, laptop, "POST", "/me/signout-all", `{"keep_current":false}`, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("signout-all: %d", resp.StatusCode)
	}
	if acctProxied(t, laptop) {
		t.Error("keep_current false left this device signed in")
	}
}

// oldSignIn returns a client whose session's password entry is an hour old,
// beyond the re-authentication window.
func oldSignIn(t *testing.T, g *harness.Gateway, u *store.User) *harness.Client {
	t.Helper()
	rec := httptest.NewRecorder()
	hourAgo := time.Now().Add(-time.Hour)
	if _, err := g.Sessions.Issue(context.Background(), rec, store.IssueOptions{
		UserID: u.ID, Created: hourAgo, AuthAt: hourAgo, IP: "127.0.0.1", Agent: uaFirefox,
	}); err != nil {
		t.Fatal(err)
	}
	c := g.NewClient(t)
	c.SetSessionCookie(rec.Result().Cookies()[0].Value)
	return c
}

func TestAccountSignOutAllNeedsRecentSignIn(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	alice := g.CreateUser(t, "alice")
	phone := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	stale := oldSignIn(t, g, alice)

	var e apiErr
	resp := acctCall(t, stale, "POST", "/me/signout-all", `{"keep_current":true}`, &e)
	if resp.StatusCode != http.StatusForbidden || e.Code != "reauth_required" {
		t.Fatalf("stale signout-all: %d %+v, want 403 reauth_required", resp.StatusCode, e)
	}
	if !acctProxied(t, phone) {
		t.Fatal("a refused sign-out-all signed the phone out")
	}

	// The page asks for the password, then carries on with the same form.
	resp = stale.PostForm(t, "/.gateway/account/signout-all", url.Values{"keep_current": {"0", "1"}})
	doc := acctDoc(t, resp, http.StatusOK)
	if !strings.Contains(doc.Find("h1").Text(), "Confirm it's you") || doc.Find("#reauth_password").Length() != 1 {
		t.Fatalf("stale sign-out-all page: %q", doc.Find("main").Text())
	}
	form := url.Values{"reauth_password": {harness.TestPassword}}
	doc.Find("form input[type=hidden]").Each(func(_ int, s *goquery.Selection) {
		form.Add(s.AttrOr("name", ""), s.AttrOr("value", ""))
	})
	resp = stale.PostForm(t, "/.gateway/account/signout-all", form)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/.gateway/account?m=signed_out_all" {
		t.Fatalf("after re-authentication: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if acctProxied(t, phone) {
		t.Error("the phone still gets through")
	}
	if !acctProxied(t, stale) {
		t.Error("keep_current (last value 1) was not honoured through re-authentication")
	}
}

// acctDoc checks a page's status and parses it.
func acctDoc(t *testing.T, resp *http.Response, want int) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != want {
		t.Fatalf("status %d, want %d; page: %.500s", resp.StatusCode, want, strings.Join(strings.Fields(doc.Find("main").Text()), " "))
	}
	return doc
}

func TestAccountAPIPassword(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	phone := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	oldCookie := laptop.SessionCookie()

	refusals := []struct {
		name, body, code, reason string
	}{
		{"wrong current", `{"current_password":"not my password","new_password":"` + newPassword + `"}`, "wrong_password", "current password"},
		{"too short", `{"current_password":"` + harness.TestPassword + `","new_password":"short"}`, "weak_password", "at least 12"},
		{"common", `{"current_password":"` + harness.TestPassword + `","new_password":"qwerty123456"}`, "weak_password", "too common"},
		{"username", `{"current_password":"` + harness.TestPassword + `","new_password":"alice@example.com"}`, "weak_password", "username or email"},
	}
	for _, tt := range refusals {
		var e apiErr
		resp := acctCall(t, laptop, "POST", "/me/password", tt.body, &e)
		if resp.StatusCode != http.StatusUnprocessableEntity || e.Code != tt.code || !strings.Contains(e.Error, tt.reason) {
			t.Errorf("%s: %d %+v, want 422 %s mentioning %q", tt.name, resp.StatusCode, e, tt.code, tt.reason)
		}
	}
	if !acctProxied(t, phone) {
		t.Fatal("a refused password change signed the phone out")
	}

	body := `{"current_password":"` + harness.TestPassword + `","new_password":"` + newPassword + `"}`
	if resp := acctCall(t, laptop, "POST", "/me/password", body, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("change password: %d, want 204", resp.StatusCode)
	}
	if laptop.SessionCookie() == oldCookie {
		t.Error("this device did not get a new session id")
	}
	if !acctProxied(t, laptop) {
		t.Error("the device that changed the password was signed out")
	}
	if acctProxied(t, phone) {
		t.Error("the other device still gets through after the password change")
	}
	replay := g.NewClient(t)
	replay.SetSessionCookie(oldCookie)
	if acctProxied(t, replay) {
		t.Error("the old cookie of this device still works")
	}
	acctLogin(t, g, "alice", newPassword, uaFirefox)
	resp := g.NewClient(t).PostForm(t, "/.gateway/login", url.Values{"username": {"alice"}, "password": {harness.TestPassword}})
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("sign-in with the old password: %d, want 401", resp.StatusCode)
	}

	// The activity tells what happened, newest first.
	var act struct {
		Events []struct {
			Time   time.Time `json:"time"`
			Type   string    `json:"type"`
			IP     string    `json:"ip"`
			Device string    `json:"device"`
			Detail string    `json:"detail"`
		} `json:"events"`
	}
	if resp := acctCall(t, laptop, "GET", "/me/activity", "", &act); resp.StatusCode != http.StatusOK {
		t.Fatalf("GET me/activity: %d", resp.StatusCode)
	}
	// Other features may add events of their own (new-device alerts…);
	// these are the ones this flow must have written, in this order.
	events := act.Events[:0]
	for _, e := range act.Events {
		switch e.Type {
		case "sign_in", "sign_in_failed", "password_changed":
			events = append(events, e)
		}
	}
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	want := []string{"sign_in_failed", "sign_in", "password_changed", "sign_in_failed", "sign_in", "sign_in"}
	if strings.Join(types, ",") != strings.Join(want, ",") {
		t.Fatalf("activity types = %v, want %v", types, want)
	}
	pc := events[2]
	if pc.IP != "127.0.0.1" || pc.Device != "Go-http-client (app or script)" || pc.Time.IsZero() || pc.Detail == "" {
		t.Errorf("password_changed event = %+v", pc)
	}
	if events[5].Device != "Safari on iOS (mobile)" {
		t.Errorf("first sign-in device = %q", events[5].Device)
	}
	var e apiErr
	if resp := acctCall(t, laptop, "GET", "/me/activity?limit=1000", "", &e); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("limit=1000: %d, want 400", resp.StatusCode)
	}
}

func TestAccountAPIPasswordGuessingIsThrottled(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	wrong := `{"current_password":"guess","new_password":"` + newPassword + `"}`
	for i := 1; ; i++ {
		var e apiErr
		resp := acctCall(t, c, "POST", "/me/password", wrong, &e)
		if resp.StatusCode == http.StatusTooManyRequests {
			if e.Code != "throttled" {
				t.Errorf("429 body %+v, want code throttled", e)
			}
			if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err != nil || s < 1 {
				t.Errorf("Retry-After %q, want whole seconds ≥ 1", resp.Header.Get("Retry-After"))
			}
			if i <= 2 {
				t.Errorf("throttled after %d wrong attempt(s); a person who mistypes must get a few free tries", i-1)
			}
			break
		}
		if resp.StatusCode != http.StatusUnprocessableEntity || e.Code != "wrong_password" {
			t.Fatalf("attempt %d: %d %+v", i, resp.StatusCode, e)
		}
		if i == 20 {
			t.Fatal("20 wrong current passwords and still no 429")
		}
	}
	var act struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	acctCall(t, c, "GET", "/me/activity", "", &act)
	if len(act.Events) == 0 || act.Events[0].Type != "sign_in_failed" {
		t.Errorf("the wrong guesses are not in the activity: %+v", act.Events)
	}
}

func TestAccountAPIBadBodies(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	c := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	tests := []struct {
		name   string
		body   string
		header []string
		status int
		code   string
	}{
		{"form body", "current_password=x", []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type"},
		{"no body", "", nil, 400, "bad_request"},
		{"unknown field", `{"current_password":"x","new_password":"y","admin":true}`, []string{"Content-Type", "application/json"}, 400, "bad_request"},
		{"two objects", `{"current_password":"x"}{"new_password":"y"}`, []string{"Content-Type", "application/json"}, 400, "bad_request"},
		{"too large", `{"current_password":"` + strings.Repeat("x", 70<<10) + `"}`, []string{"Content-Type", "application/json"}, 413, "too_large"},
	}
	for _, tt := range tests {
		var rd io.Reader
		if tt.body != "" {
			rd = strings.NewReader(tt.body)
		}
		resp := c.Do(t, "POST", "/.gateway/api/v1/me/password", rd, tt.header...)
		var e apiErr
		_ = json.NewDecoder(resp.Body).Decode(&e)
		if resp.StatusCode != tt.status || e.Code != tt.code {
			t.Errorf("%s: %d %+v, want %d %s", tt.name, resp.StatusCode, e, tt.status, tt.code)
		}
	}
	if !acctProxied(t, c) {
		t.Error("bad bodies ended the session")
	}
}

// acctPage fetches the account page as a browser would; query is "" or
// "?m=…" (where an action redirects to).
func acctPage(t *testing.T, c *harness.Client, query string, want int) *goquery.Document {
	t.Helper()
	return acctDoc(t, c.Get(t, "/.gateway/account"+query, "Accept", "text/html"), want)
}

// deviceRow finds the devices-table row whose label is label.
func deviceRow(t *testing.T, doc *goquery.Document, label string) *goquery.Selection {
	t.Helper()
	row := doc.Find("#devices tbody tr").FilterFunction(func(_ int, s *goquery.Selection) bool {
		return s.Find(".device-label").Text() == label
	})
	if row.Length() != 1 {
		t.Fatalf("want one device row %q, found %d; table: %s", label, row.Length(), strings.Join(strings.Fields(doc.Find("#devices").Text()), " "))
	}
	return row
}

func TestAccountPage(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)

	resp := laptop.Get(t, "/.gateway/account", "Accept", "text/html")
	for name, want := range map[string]string{
		"Content-Security-Policy": "frame-ancestors 'none'", "Cache-Control": "no-store",
	} {
		if got := resp.Header.Get(name); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want it to contain %q", name, got, want)
		}
	}
	doc := acctDoc(t, resp, http.StatusOK)
	if n := doc.Find("#devices tbody tr").Length(); n != 2 {
		t.Fatalf("%d device rows, want 2", n)
	}
	this := deviceRow(t, doc, "Firefox on Linux (desktop)")
	if this.Find(".this-device").Text() != "This device" || doc.Find(".this-device").Length() != 1 {
		t.Error("the Firefox device is not the only one marked \"This device\"")
	}
	phone := deviceRow(t, doc, "Safari on iOS (mobile)")
	if ip := phone.Find(".ip").Text(); ip != "127.0.0.1" {
		t.Errorf("phone IP %q", ip)
	}
	if doc.Find(".place").Length() != 0 {
		t.Error("places shown without a GeoIP database")
	}
	phone.Find("time").Each(func(_ int, s *goquery.Selection) {
		if dt := s.AttrOr("datetime", ""); !strings.HasSuffix(dt, "Z") || !strings.HasSuffix(s.Text(), "UTC") {
			t.Errorf("time element %q (%s) is not in UTC", s.Text(), dt)
		}
	})
	if what := doc.Find("#activity .what").First().Text(); what != "Signed in" {
		t.Errorf("newest activity %q, want Signed in", what)
	}
	if doc.Find("#mfa_status").Text() != "Off" || doc.Find(`a[href="/.gateway/account/2fa"]`).Length() != 1 {
		t.Error("2FA status Off with a link to /.gateway/account/2fa not shown")
	}
	if doc.Find(`a[href="/.gateway/account/password"]`).Length() != 1 {
		t.Error("no link to change the password")
	}
	keep := doc.Find("#keep_current")
	if _, checked := keep.Attr("checked"); !checked {
		t.Error("keep me signed in is not checked by default")
	}
	if doc.Find("script").Length() != 0 || doc.Find("[style]").Length() != 0 {
		t.Error("the page has scripts or inline styles")
	}
	acctCheckLabels(t, doc)

	// Anonymous browsers are sent to sign in, and back here afterwards.
	resp = g.NewClient(t).Get(t, "/.gateway/account", "Accept", "text/html")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/.gateway/login?rd=%2F.gateway%2Faccount" {
		t.Errorf("anonymous: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

// acctCheckLabels fails for any visible form control without a label.
func acctCheckLabels(t *testing.T, doc *goquery.Document) {
	t.Helper()
	doc.Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
		if s.AttrOr("type", "") == "hidden" {
			return
		}
		id := s.AttrOr("id", "")
		if s.ParentsFiltered("label").Length() == 0 && (id == "" || doc.Find(`label[for="`+id+`"]`).Length() == 0) {
			t.Errorf("control %s (id %q) has no label", s.AttrOr("name", "?"), id)
		}
	})
}

func TestAccountPageRenameAndRevoke(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	g.CreateUser(t, "bob")
	phone := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	bobC := acctLogin(t, g, "bob", harness.TestPassword, uaFirefox)
	phoneID := otherSession(t, mySessions(t, laptop)).ID
	bobID := mySessions(t, bobC)[0].ID

	rename := func(sid, name string) *http.Response {
		return laptop.PostForm(t, "/.gateway/account/sessions/"+sid+"/rename", url.Values{"name": {name}})
	}
	if resp := rename(phoneID, "  Alice's <b>phone</b>  "); resp.StatusCode != http.StatusSeeOther ||
		resp.Header.Get("Location") != "/.gateway/account?m=renamed" {
		t.Fatalf("rename: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	doc := acctPage(t, laptop, "?m=renamed", http.StatusOK)
	row := deviceRow(t, doc, "Safari on iOS (mobile)")
	if got := row.Find(".device-name").Text(); got != "Alice's <b>phone</b>" || row.Find("b").Length() != 0 {
		t.Errorf("device name shown as %q (markup must stay text)", got)
	}
	if doc.Find("#notice").Text() != "The device name was saved." {
		t.Errorf("notice %q", doc.Find("#notice").Text())
	}
	doc = acctDoc(t, rename(phoneID, strings.Repeat("x", 61)), http.StatusUnprocessableEntity)
	if !strings.Contains(doc.Find("#error").Text(), "at most 60") {
		t.Errorf("long name error %q", doc.Find("#error").Text())
	}
	if resp := rename(bobID, "mine now"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("renaming bob's device: %d, want 404", resp.StatusCode)
	}
	if resp := laptop.PostForm(t, "/.gateway/account/sessions/"+bobID+"/revoke", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("revoking bob's device: %d, want 404", resp.StatusCode)
	}
	if !acctProxied(t, bobC) {
		t.Fatal("bob was signed out by alice")
	}

	resp := laptop.PostForm(t, "/.gateway/account/sessions/"+phoneID+"/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/.gateway/account?m=revoked" {
		t.Fatalf("revoke phone: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if acctProxied(t, phone) {
		t.Error("the phone still gets through")
	}
	doc = acctPage(t, laptop, "", http.StatusOK)
	if doc.Find("#devices tbody tr").Length() != 1 || !strings.Contains(doc.Find("#activity").Text(), "Device signed out") {
		t.Error("after revoking: want one device left and the revocation in the activity")
	}

	// Signing out this device from its own row is signing out.
	selfID := mySessions(t, laptop)[0].ID
	resp = laptop.PostForm(t, "/.gateway/account/sessions/"+selfID+"/revoke", nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/.gateway/login?m=signed_out" {
		t.Fatalf("revoke self: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if laptop.SessionCookie() != "" || acctProxied(t, laptop) {
		t.Error("this device is still signed in")
	}
}

func TestAccountPageSignOutAllCheckbox(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	tests := []struct {
		name string
		form url.Values
		keep bool
	}{
		{"checked (hidden 0 then 1)", url.Values{"keep_current": {"0", "1"}}, true},
		{"unchecked (hidden 0 only)", url.Values{"keep_current": {"0"}}, false},
		{"field absent: default on", url.Values{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			phone := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
			laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
			resp := laptop.PostForm(t, "/.gateway/account/signout-all", tt.form)
			want := "/.gateway/login?m=signed_out"
			if tt.keep {
				want = "/.gateway/account?m=signed_out_all"
			}
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
				t.Fatalf("sign out all: %d %q, want 303 %s", resp.StatusCode, resp.Header.Get("Location"), want)
			}
			if acctProxied(t, phone) {
				t.Error("the phone still gets through")
			}
			if got := acctProxied(t, laptop); got != tt.keep {
				t.Errorf("this device signed in = %v, want %v", got, tt.keep)
			}
		})
	}
}

func TestAccountPagePassword(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	phone := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone)
	laptop := acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)

	doc := acctDoc(t, laptop.Get(t, "/.gateway/account/password", "Accept", "text/html"), http.StatusOK)
	acctCheckLabels(t, doc)
	if doc.Find("#new_password").AttrOr("minlength", "") != "12" {
		t.Error("the new-password field does not state the minimum length")
	}
	post := func(cur, next, confirm string) *http.Response {
		return laptop.PostForm(t, "/.gateway/account/password", url.Values{
			"current_password": {cur}, "new_password": {next}, "confirm_password": {confirm},
		})
	}
	refusals := []struct {
		name, cur, next, confirm, reason string
	}{
		{"mismatch", harness.TestPassword, newPassword, newPassword + "x", "don't match"},
		{"common", harness.TestPassword, "qwerty123456", "qwerty123456", "too common"},
		{"short", harness.TestPassword, "tiny", "tiny", "at least 12 characters"},
		{"wrong current", "not it at all", newPassword, newPassword, "current password is not right"},
	}
	for _, tt := range refusals {
		doc := acctDoc(t, post(tt.cur, tt.next, tt.confirm), http.StatusUnprocessableEntity)
		if got := doc.Find("#error").Text(); !strings.Contains(got, tt.reason) {
			t.Errorf("%s: error %q, want it to contain %q", tt.name, got, tt.reason)
		}
		if doc.Find("#new_password").AttrOr("value", "") != "" {
			t.Errorf("%s: the page echoes a password back", tt.name)
		}
	}
	if !acctProxied(t, phone) {
		t.Fatal("a refused change signed the phone out")
	}
	resp := post(harness.TestPassword, newPassword, newPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/.gateway/account?m=password_changed" {
		t.Fatalf("change: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if acctProxied(t, phone) {
		t.Error("the phone still gets through after the password change")
	}
	doc = acctPage(t, laptop, "?m=password_changed", http.StatusOK)
	if !strings.Contains(doc.Find("#notice").Text(), "password was changed") {
		t.Errorf("notice %q", doc.Find("#notice").Text())
	}
	if !strings.Contains(doc.Find("#activity").Text(), "Password changed") {
		t.Error("the change is not in the recent activity")
	}
}
