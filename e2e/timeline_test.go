package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

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
