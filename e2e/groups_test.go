package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/authgate/gateway/store"
)

// TestAdminsSetGroupsAndTheAppSeesThem: an admin gives a user groups on the
// console page and through the staff API; the page shows them, the audit
// log and the user's activity record them, and the user's next request to
// the app carries them in X-Forwarded-Groups after the roles.
func TestAdminsSetGroupsAndTheAppSeesThem(t *testing.T) {
	g := staffGateway(t, "off")
	alice, _ := staffSignIn(t, g, "alice", "admin")
	sam, _ := staffSignIn(t, g, "sam", "support")
	ulla := g.CreateUser(t, "ulla")
	app := portalSignIn(t, g, "ulla")

	resp := alice.PostForm(t, "/.gateway/admin/users/ulla/groups", url.Values{"groups": {"Eng, ops:oncall  design"}, "reason": {"joined the platform team"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("set groups: %d %s", resp.StatusCode, pageError(t, resp.Body))
	}
	doc := consoleDoc(t, alice, "/.gateway/admin/users/ulla?m=groups_changed", http.StatusOK)
	if got := strings.TrimSpace(doc.Find("#groups").Text()); got != "design, eng, ops:oncall" {
		t.Errorf("the page shows groups %q", got)
	}
	if v, _ := doc.Find("#groups-input").Attr("value"); v != "design, eng, ops:oncall" {
		t.Errorf("the form holds %q", v)
	}
	if e, resp := app.Echo(t, "/app"); e == nil || e.Header.Get("X-Forwarded-Groups") != "user,design,eng,ops:oncall" {
		t.Fatalf("app after the change: %d %+v", resp.StatusCode, e)
	}
	if es := staffAudit(t, g, store.AuditFilter{Action: store.AuditGroupsChange}); len(es) != 1 || es[0].Actor != "alice" ||
		es[0].Detail != "groups none → design, eng, ops:oncall" || es[0].Reason != "joined the platform team" {
		t.Fatalf("groups audit: %+v", es)
	}
	if ev := staffEvents(t, g, ulla.ID); !strings.Contains(ev[0].Detail, "changed your groups to design, eng, ops:oncall: joined the platform team") {
		t.Errorf("ulla's activity: %+v", ev[0])
	}

	// Refusals: a role's name, a bad name, an admin's own account,
	// support staff; none of them changes anything.
	for _, tc := range []struct {
		who    string
		path   string
		groups string
		want   int
	}{
		{"alice", "ulla", "admin", http.StatusUnprocessableEntity},
		{"alice", "ulla", "a;b", http.StatusUnprocessableEntity},
		{"alice", "alice", "eng", http.StatusForbidden},
		{"sam", "ulla", "eng", http.StatusForbidden},
	} {
		c := alice
		if tc.who == "sam" {
			c = sam
		}
		if resp := c.PostForm(t, "/.gateway/admin/users/"+tc.path+"/groups", url.Values{"groups": {tc.groups}, "reason": {"x"}}); resp.StatusCode != tc.want {
			t.Errorf("%s sets %s's groups to %q: %d, want %d", tc.who, tc.path, tc.groups, resp.StatusCode, tc.want)
		}
	}

	// The staff API: the whole list replaces the old one; [] clears it.
	code, out := staffCall(t, alice, "POST", "/.gateway/api/v1/users/ulla/groups", map[string]any{"groups": []string{"QA"}, "reason": "moved"})
	if code != http.StatusNoContent {
		t.Fatalf("API set groups: %d %v", code, out)
	}
	if code, out := staffCall(t, alice, "GET", "/.gateway/api/v1/users/ulla", nil); code != http.StatusOK || staffJSONText(out["groups"]) != `["qa"]` {
		t.Errorf("API user: %d %v", code, out)
	}
	if e, _ := app.Echo(t, "/app"); e == nil || e.Header.Get("X-Forwarded-Groups") != "user,qa" {
		t.Errorf("app after the API change: %+v", e)
	}
	if code, out := staffCall(t, alice, "POST", "/.gateway/api/v1/users/ulla/groups", staffReason("no list")); code != http.StatusUnprocessableEntity || out["code"] != "groups_required" {
		t.Errorf("API without groups: %d %v", code, out)
	}
	if code, _ := staffCall(t, sam, "POST", "/.gateway/api/v1/users/ulla/groups", map[string]any{"groups": []string{}, "reason": "x"}); code != http.StatusForbidden {
		t.Errorf("support clears groups: %d", code)
	}
	if code, _ := staffCall(t, alice, "POST", "/.gateway/api/v1/users/ulla/groups", map[string]any{"groups": []string{}, "reason": "left"}); code != http.StatusNoContent {
		t.Fatalf("API clear groups: %d", code)
	}
	if e, _ := app.Echo(t, "/app"); e == nil || e.Header.Get("X-Forwarded-Groups") != "user" {
		t.Errorf("app after clearing: %+v", e)
	}
}
