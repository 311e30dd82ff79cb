package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// timelineRows are the rows of an activity page: the stream id and the
// "What" text of each.
func timelineRows(doc *goquery.Document) (ids, whats []string) {
	doc.Find("#timeline tbody tr").Each(func(_ int, s *goquery.Selection) {
		ids = append(ids, s.AttrOr("data-id", ""))
		whats = append(whats, strings.TrimSpace(s.Find(".what").Text()))
	})
	return ids, whats
}

// TestActivityTimeline: more activity than a page holds is paged through
// with Older/Newer, a new-device sign-in is one row, the failures filter
// shows only failures, and the 30-day chart counts sign-ins and failures.
func TestActivityTimeline(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	u := g.CreateUser(t, "alice")
	ctx := context.Background()
	for range 35 {
		if err := g.Store.AppendEvent(ctx, u.ID, store.Event{Type: store.EventSignInFailed, IP: "203.0.113.9", Device: uaFirefox}); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		if err := g.Store.AppendEvent(ctx, u.ID, store.Event{Type: store.EventPasswordChanged, IP: "203.0.113.7", Device: uaFirefox}); err != nil {
			t.Fatal(err)
		}
	}
	acctLogin(t, g, "alice", harness.TestPassword, uaFirefox)
	c := acctLogin(t, g, "alice", harness.TestPassword, uaIPhone) // new device: two events, one row

	get := func(path string) (*goquery.Document, *http.Response) {
		t.Helper()
		resp := c.Get(t, path, "Accept", "text/html")
		return acctDoc(t, resp, http.StatusOK), resp
	}

	// The account page links to the timeline.
	if href := acctPage(t, c, "", http.StatusOK).Find("#all-activity").AttrOr("href", ""); href != "/.gateway/account/activity" {
		t.Fatalf("account page's link to all activity = %q", href)
	}

	doc, resp := get("/.gateway/account/activity")
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("CSP %q: want own scripts only", csp)
	}
	if doc.Find(`script[src="/.gateway/static/local-time.js"]`).Length() != 1 || doc.Find("script:not([src])").Length() != 0 {
		t.Error("want the local-time script by src and no inline script")
	}
	tm := doc.Find("#timeline time").First()
	if dt, title := tm.AttrOr("datetime", ""), tm.AttrOr("title", ""); !strings.HasSuffix(dt, "Z") || !strings.HasSuffix(title, "UTC") || !strings.HasSuffix(tm.Text(), "UTC") {
		t.Errorf("time element: datetime %q title %q text %q; want UTC", dt, title, tm.Text())
	}
	ids1, whats1 := timelineRows(doc)
	if len(ids1) != 25 {
		t.Fatalf("first page has %d rows, want 25", len(ids1))
	}
	if whats1[0] != "Signed in from a new device" || whats1[1] != "Signed in" || whats1[2] != "Password changed" {
		t.Errorf("newest rows = %q, want the iPhone sign-in as one row, then the Firefox one", whats1[:3])
	}
	if doc.Find("#newer").Length() != 0 {
		t.Error("the newest page offers Newer")
	}

	// Older: the rest, no row twice, nothing older after it.
	older, ok := doc.Find("#older").Attr("href")
	if !ok {
		t.Fatal("no Older link on the first page")
	}
	doc2, _ := get(older)
	ids2, whats2 := timelineRows(doc2)
	if len(ids2) != 2+10+35-25 || doc2.Find("#older").Length() != 0 {
		t.Fatalf("second page: %d rows (want 22), older link %d", len(ids2), doc2.Find("#older").Length())
	}
	for _, id := range ids2 {
		for _, id1 := range ids1 {
			if id == id1 {
				t.Fatalf("row %s on both pages", id)
			}
		}
	}
	if whats2[len(whats2)-1] != "Failed sign-in attempt" {
		t.Errorf("oldest row %q, want the first failed attempt", whats2[len(whats2)-1])
	}
	// Newer from there is the first page again.
	doc3, _ := get(doc2.Find("#newer").AttrOr("href", "/missing"))
	if ids3, _ := timelineRows(doc3); len(ids3) != 25 || ids3[0] != ids1[0] || ids3[24] != ids1[24] {
		t.Errorf("Newer from page 2 shows %d rows from %v, want page 1 again", len(ids3), ids3)
	}

	// Failures only: 35 of them over two pages.
	docF, _ := get("/.gateway/account/activity?show=failures")
	if a := docF.Find(`a[data-filter="failures"]`); a.Length() != 0 {
		t.Error("the filter in use is still a link")
	}
	_, wf := timelineRows(docF)
	docF2, _ := get(docF.Find("#older").AttrOr("href", "/missing"))
	_, wf2 := timelineRows(docF2)
	all := append(wf, wf2...)
	if len(all) != 35 {
		t.Errorf("failures filter shows %d rows over two pages, want 35", len(all))
	}
	for _, w := range all {
		if w != "Failed sign-in attempt" {
			t.Fatalf("failures filter shows %q", w)
		}
	}
	if !strings.Contains(docF2.Find("#newer").AttrOr("href", ""), "show=failures") {
		t.Error("paging loses the filter")
	}

	// The chart: drawn on the server, today's bars, said in words.
	chart := doc.Find("svg#day-chart")
	if chart.Length() != 1 || chart.Find("rect.bar-ok").Length() != 1 || chart.Find("rect.bar-fail").Length() != 1 {
		t.Fatalf("chart: %d svg, %d sign-in bars, %d failure bars; want today's two bars",
			chart.Length(), chart.Find("rect.bar-ok").Length(), chart.Find("rect.bar-fail").Length())
	}
	if s := doc.Find("#chart-text").Text(); !strings.Contains(s, "2 sign-ins and 35 failed attempts") {
		t.Errorf("chart summary %q", s)
	}

	// A cursor that is not a stream id is refused, not passed to Redis.
	if resp := c.Get(t, "/.gateway/account/activity?before=-", "Accept", "text/html"); resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad cursor: %d, want 400", resp.StatusCode)
	}
	// Signed out, the page is not shown.
	if resp := g.NewClient(t).Get(t, "/.gateway/account/activity", "Accept", "text/html"); resp.StatusCode == http.StatusOK {
		t.Errorf("anonymous activity page: 200")
	}
}

// timelineAll reads every page of the timeline with filter show, following
// the Older links, and returns the "What" of each row, newest first. It
// fails if a page loses the filter or shows a row twice.
func timelineAll(t *testing.T, c *harness.Client, show string) []string {
	t.Helper()
	path := "/.gateway/account/activity?show=" + show
	seen := map[string]bool{}
	var whats []string
	for range 10 {
		doc := acctDoc(t, c.Get(t, path, "Accept", "text/html"), http.StatusOK)
		ids, ws := timelineRows(doc)
		for _, id := range ids {
			if seen[id] {
				t.Fatalf("show=%s: row %s on two pages", show, id)
			}
			seen[id] = true
		}
		whats = append(whats, ws...)
		older, ok := doc.Find("#older").Attr("href")
		if !ok {
			return whats
		}
		if !strings.Contains(older, "show="+show) {
			t.Fatalf("show=%s: the Older link %q loses the filter", show, older)
		}
		path = older
	}
	t.Fatalf("show=%s: more than 10 pages", show)
	return nil
}

// TestActivityTimelineFilters builds a history the way it happens — a
// sign-in, a wrong password, support signing the person out everywhere, a
// sign-in from a new phone, a password change — and checks that each
// filter shows exactly its own rows, and then that each filter pages
// through a longer history without mixing kinds.
func TestActivityTimelineFilters(t *testing.T) {
	g := staffGateway(t, "off")
	bob, _ := staffSignIn(t, g, "bob", "support")
	alice := g.CreateUser(t, "alice")
	login := func(password, ua string) *harness.Client {
		t.Helper()
		c := g.NewPortalClient(t)
		resp := c.PostForm(t, "/.gateway/login", url.Values{"username": {"alice"}, "password": {password}, "rd": {"/"}}, "User-Agent", ua)
		resp.Body.Close()
		if ok := resp.StatusCode == http.StatusSeeOther; ok != (password == harness.TestPassword) {
			t.Fatalf("sign-in with password %q: %d", password, resp.StatusCode)
		}
		return c
	}
	login(harness.TestPassword, uaFirefox)
	login("not alice's password", uaFirefox)
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/alice/signout-all", staffReason("ticket 4711")); code != http.StatusNoContent {
		t.Fatalf("staff sign-out everywhere: %d %v", code, body)
	}
	phone := login(harness.TestPassword, uaIPhone)
	body := `{"current_password":"` + harness.TestPassword + `","new_password":"` + newPassword + `"}`
	if resp := acctCall(t, phone, "POST", "/me/password", body, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("change password: %d", resp.StatusCode)
	}

	staffRow := "Signed out of all devices"
	want := map[string][]string{
		"":         {"Password changed", "Signed in from a new device", staffRow, "Failed sign-in attempt", "Signed in"},
		"signins":  {"Signed in from a new device", "Signed in"},
		"failures": {"Failed sign-in attempt"},
		"changes":  {"Password changed"},
		"staff":    {staffRow},
	}
	for show, w := range want {
		if got := timelineAll(t, phone, show); strings.Join(got, "|") != strings.Join(w, "|") {
			t.Errorf("show=%q: rows %q, want %q", show, got, w)
		}
	}
	// The staff row says who did it and why.
	doc := acctDoc(t, phone.Get(t, "/.gateway/account/activity?show=staff", "Accept", "text/html"), http.StatusOK)
	if row := doc.Find("#timeline tbody tr").Text(); !strings.Contains(row, "support:bob") || !strings.Contains(row, "ticket 4711") {
		t.Errorf("staff row %q does not name bob and the reason", strings.Join(strings.Fields(row), " "))
	}

	// A longer history: 26 sign-ins, password changes and staff actions,
	// one after the other, newer than the rows above. Each filter now
	// fills a first page of 25 from a stream where its kind is one event
	// in three, and the rest follows on the next page.
	ctx := t.Context()
	for range 26 {
		for _, e := range []store.Event{
			{Type: store.EventSignIn, Detail: "password", IP: "203.0.113.5", Device: uaFirefox},
			{Type: store.EventPasswordChanged, Detail: "every other device was signed out", IP: "203.0.113.5", Device: uaFirefox},
			{Type: store.EventResetLink, Actor: "support:bob", Detail: "Support (bob) sent you a password reset link: ticket 4712"},
		} {
			if err := g.Store.AppendEvent(ctx, alice.ID, e); err != nil {
				t.Fatal(err)
			}
		}
	}
	for show, w := range map[string]struct {
		n    int
		kind []string
	}{
		"signins": {26 + 2, want["signins"]},
		"changes": {26 + 1, want["changes"]},
		"staff":   {26 + 1, want["staff"]},
	} {
		got := timelineAll(t, phone, show)
		if len(got) != w.n {
			t.Errorf("show=%s: %d rows over its pages, want %d", show, len(got), w.n)
			continue
		}
		if tail := got[26:]; strings.Join(tail, "|") != strings.Join(w.kind, "|") {
			t.Errorf("show=%s: oldest rows %q, want %q", show, tail, w.kind)
		}
		for _, s := range got[:26] {
			if s != got[0] {
				t.Errorf("show=%s: rows of two kinds among the newest: %q and %q", show, got[0], s)
				break
			}
		}
	}
}

// TestActivityChartCountsEverySignIn: the 30-day chart counts a sign-in
// with the password alone, with the password and an authenticator code,
// and with a recovery code, and a wrong code as well as a wrong password
// as failed attempts.
func TestActivityChartCountsEverySignIn(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "kim")
	_, app, codes := mfaEnrolAPI(t, g, "kim") // signs in with the password alone
	withCode := g.NewClient(t)
	mfaPasswordStep(t, withCode, "kim")
	mfaWantSignedIn(t, mfaSubmit(t, withCode, app.code()), "password and code")
	c := g.NewClient(t)
	mfaPasswordStep(t, c, "kim")
	mfaWantRefused(t, mfaSubmit(t, c, app.wrong()), http.StatusUnauthorized, "not right")
	if resp := mfaSubmit(t, c, codes[0]); resp.StatusCode != http.StatusOK {
		t.Fatalf("recovery code: %d", resp.StatusCode)
	}
	if resp := signIn(t, g.NewClient(t), "kim", "not kim's password", "/app/page"); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("a wrong password signed in")
	}
	doc := acctDoc(t, c.Get(t, "/.gateway/account/activity", "Accept", "text/html"), http.StatusOK)
	if s := doc.Find("#chart-text").Text(); !strings.Contains(s, "3 sign-ins and 2 failed attempts") {
		t.Errorf("chart summary %q, want 3 sign-ins and 2 failed attempts", s)
	}
	if bars := doc.Find("svg#day-chart rect.bar-fail"); bars.Length() != 1 {
		t.Errorf("%d failure bars, want today's", bars.Length())
	}
}

// TestConfirmingItsYouIsNotASignIn: entering the password again for a
// route that asks for a recent sign-in, or for an account change, shows in
// the activity as "Confirmed it's you" (under Sign-ins), and the chart does
// not count it as another sign-in.
func TestConfirmingItsYouIsNotASignIn(t *testing.T) {
	clock := &harness.Clock{}
	g := harness.Start(t, harness.Options{Clock: clock, Configure: func(c *config.Config) {
		c.Routes = []config.Route{
			{PathPrefix: "/admin/", Upstream: c.Upstream, RouteRules: config.RouteRules{Reauth: config.Duration{Duration: 5 * time.Minute}}},
			{PathPrefix: "/", Upstream: c.Upstream},
		}
	}})
	g.CreateUser(t, "lee")
	c := g.NewClient(t)
	c.Login(t, "lee", harness.TestPassword)

	clock.Advance(6 * time.Minute)
	form := url.Values{"need": {"password"}, "rd": {"/admin/x"}, "reauth_password": {harness.TestPassword}}
	if resp := c.PostForm(t, "/.gateway/login/confirm", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("route confirm: %d", resp.StatusCode)
	}
	if e, resp := c.Echo(t, "/admin/x"); e == nil {
		t.Fatalf("after confirming, the route answered %d", resp.StatusCode)
	}

	// An account change with a stale sign-in asks for the password too.
	clock.Advance(11 * time.Minute)
	form = url.Values{"keep_current": {"1"}, "reauth_password": {harness.TestPassword}}
	if resp := c.PostForm(t, "/.gateway/account/signout-all", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("account change confirm: %d", resp.StatusCode)
	}

	doc := acctDoc(t, c.Get(t, "/.gateway/account/activity", "Accept", "text/html"), http.StatusOK)
	if s := doc.Find("#chart-text").Text(); !strings.Contains(s, "1 sign-in and 0 failed attempts") {
		t.Errorf("chart summary %q, want the one sign-in only", s)
	}
	confirmed := 0
	doc.Find("tbody tr").Each(func(_ int, tr *goquery.Selection) {
		if strings.Contains(tr.Text(), "Confirmed it's you") {
			confirmed++
			if !strings.Contains(tr.Text(), "for a page") && !strings.Contains(tr.Text(), "for an account change") {
				t.Errorf("a confirmation row says neither what for: %q", strings.Join(strings.Fields(tr.Text()), " "))
			}
		}
	})
	if confirmed != 2 {
		t.Errorf("%d \"Confirmed it's you\" rows, want 2 (the route and the account change)", confirmed)
	}
	if got := timelineAll(t, c, "signins"); len(got) != 3 {
		t.Errorf("Sign-ins filter: %q, want the sign-in and the two confirmations", got)
	}
}
