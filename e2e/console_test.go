package e2e

import (
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/admin"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// consoleDoc fetches a console page as a browser and parses it.
func consoleDoc(t *testing.T, c *harness.Client, path string, want int) *goquery.Document {
	t.Helper()
	resp := c.Get(t, path, "Accept", "text/html")
	if resp.StatusCode != want {
		t.Fatalf("GET %s: %d, want %d", path, resp.StatusCode, want)
	}
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// consoleRequest sends method to path as c would from a browser form or an
// API client, with a reason, from the gateway's own origin.
func consoleRequest(t *testing.T, g *harness.Gateway, c *harness.Client, method, path string, api, html bool) *http.Response {
	t.Helper()
	hdr := []string{"Origin", g.PortalURL}
	if html {
		hdr = append(hdr, "Accept", "text/html")
	}
	body := strings.NewReader("reason=because&role=admin&name=x")
	if api {
		hdr = append(hdr, "Content-Type", "application/json")
		body = strings.NewReader(`{"reason":"because","roles":["admin"]}`)
	}
	if method == http.MethodGet || method == http.MethodHead {
		return c.Do(t, method, path, nil, hdr...)
	}
	return c.Do(t, method, path, body, hdr...)
}

func TestEveryStaffRouteRefusesNonStaff(t *testing.T) {
	g := staffGateway(t, "off")
	mallory, _ := staffSignIn(t, g, "mallory")
	bob, _ := staffSignIn(t, g, "bob", "support")
	g.CreateUser(t, "victim")
	vc := g.NewPortalClient(t)
	vc.Login(t, "victim", harness.TestPassword)
	sid := staffSessionIDs(t, bob, "victim")[0]
	anon := g.NewPortalClient(t)

	routes := admin.StaffRoutes()
	if len(routes) < 20 {
		t.Fatalf("only %d staff routes listed", len(routes))
	}
	checked := 0
	for _, rt := range routes {
		path := "/.gateway" + strings.NewReplacer("{name}", "victim", "{id}", sid).Replace(rt.Path)
		if strings.HasSuffix(path, "/") {
			path += "anything"
		}
		methods := []string{rt.Method}
		switch rt.Method {
		case "":
			methods = []string{"GET", "POST", "PUT", "DELETE", "PATCH"}
		case "GET":
			methods = []string{"GET", "HEAD"}
		}
		for _, m := range methods {
			for _, html := range []bool{true, false} {
				what := m + " " + path
				resp := consoleRequest(t, g, mallory, m, path, rt.API, html)
				if resp.StatusCode != http.StatusForbidden {
					t.Errorf("non-staff %s (html %v): %d, want 403", what, html, resp.StatusCode)
				}
				ct := resp.Header.Get("Content-Type")
				switch {
				case m == "HEAD":
				case rt.API || !html:
					if !strings.HasPrefix(ct, "application/json") || !strings.Contains(consoleReadBody(t, resp), `"code":"forbidden"`) {
						t.Errorf("non-staff %s: %q, want JSON {code: forbidden}", what, ct)
					}
				default:
					if !strings.HasPrefix(ct, "text/html") {
						t.Errorf("non-staff %s from a browser: %q, want an HTML page", what, ct)
					}
				}
				resp = consoleRequest(t, g, anon, m, path, rt.API, html)
				loc := resp.Header.Get("Location")
				switch {
				case html && !rt.API && (m == "GET" || m == "HEAD"):
					if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "/.gateway/login?rd=") {
						t.Errorf("anonymous browser %s: %d %q, want the login page", what, resp.StatusCode, loc)
					}
				case html && !rt.API:
					// A form posted without a session: to the login page and
					// back to the account page; the action is not repeated.
					if resp.StatusCode != http.StatusSeeOther || loc != "/.gateway/login?rd=%2F.gateway%2Faccount" {
						t.Errorf("anonymous browser %s: %d %q, want 303 to the login page", what, resp.StatusCode, loc)
					}
				case resp.StatusCode != http.StatusUnauthorized:
					t.Errorf("anonymous %s: %d, want 401", what, resp.StatusCode)
				}
				if rt.AdminOnly {
					if resp := consoleRequest(t, g, bob, m, path, rt.API, html); resp.StatusCode != http.StatusForbidden {
						t.Errorf("support on admin route %s: %d, want 403", what, resp.StatusCode)
					}
				}
				checked++
			}
		}
	}
	t.Logf("%d route, method and client combinations refused", checked)
	if !staffAlive(t, vc) {
		t.Fatal("a refused request signed the victim out")
	}
	if es := staffAudit(t, g, store.AuditFilter{}); len(es) != 0 {
		t.Fatalf("refused requests wrote audit entries: %+v", es)
	}
	if toks, _ := g.Store.FindAPITokens(context.Background()); len(toks) != 0 {
		t.Fatal("a refused request made an API token")
	}
}

func consoleReadBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func TestPathTricksDoNotGetPastTheStaffCheck(t *testing.T) {
	g := staffGateway(t, "off")
	mallory, _ := staffSignIn(t, g, "mallory")
	bob, _ := staffSignIn(t, g, "bob", "support")
	g.CreateUser(t, "victim")
	vc := g.NewPortalClient(t)
	vc.Login(t, "victim", harness.TestPassword)

	type trick struct {
		method, path string
		header       []string
	}
	userTricks := []trick{
		{"GET", "//.gateway/admin", nil},
		{"GET", "/.gateway//admin", nil},
		{"GET", "/.gateway/admin/", nil},
		{"GET", "/.gateway/admin/users/victim/", nil},
		{"GET", "/.gateway/admin%2Fusers%2Fvictim", nil},
		{"GET", "/.gateway/%61dmin/users/victim", nil},
		{"GET", "/.gateway/Admin/users/victim", nil},
		{"GET", "/.gateway/admin/users/victim;x=1", nil},
		{"GET", "/.gateway/admin/users/victim%00", nil},
		{"GET", "/.gateway/api/v1/users%2Fvictim", nil},
		{"GET", "/.gateway/api/v1/users/victim/sessions/", nil},
		{"GET", "/.gateway/api/v1/./users/victim", nil},
		{"GET", "/.gateway/api/v1/me/../users/victim", nil},
		{"GET", "/.gateway/api/v1/me/..%2Fusers/victim", nil},
		{"GET", "/.gateway/api/v1/users?q=victim", []string{"X-Forwarded-User", "bob", "X-Forwarded-Groups", "admin"}},
		{"GET", "/.gateway/api/v1/users/victim", []string{"X-Original-URL", "/.gateway/account", "X-Rewrite-URL", "/.gateway/account"}},
		{"HEAD", "/.gateway/api/v1/users/victim", nil},
		{"OPTIONS", "/.gateway/api/v1/users/victim", nil},
		{"POST", "/.gateway/api/v1/users/victim/signout-all/", nil},
		{"POST", "/.gateway/api/v1//users/victim/signout-all", nil},
		{"POST", "/.gateway/api/v1/users%2Fvictim%2Fsignout-all", nil},
		{"POST", "/.gateway/api/v1/users/victim%2Fsignout-all", nil},
		{"POST", "/.gateway/api/v1/users/victim/./signout-all", nil},
		{"POST", "/.gateway/api/v1/users/x/../victim/signout-all", nil},
		{"POST", "/.gateway/api/v1/users/VICTIM/signout-all", nil},
		{"POST", "/.gateway/api/v1/users/victim/sign%6Fut-all", nil},
		{"PUT", "/.gateway/api/v1/users/victim/signout-all", nil},
		{"GET", "/.gateway/api/v1/users/victim/signout-all", []string{"X-HTTP-Method-Override", "POST"}},
		{"GET", "/.gateway/api/v1/users/victim/signout-all?_method=POST", []string{"X-Method-Override", "POST"}},
		{"POST", "/.gateway/admin/users/victim/lock?_method=POST", []string{"X-HTTP-Method", "POST"}},
		{"POST", "/.gateway/admin/tokens", nil},
	}
	adminTricks := []trick{
		{"GET", "/.gateway/admin/audit/", nil},
		{"GET", "/.gateway/admin//audit", nil},
		{"GET", "/.gateway/admin/audit%2Ecsv", nil},
		{"GET", "/.gateway/admin/audit.csv/", nil},
		{"HEAD", "/.gateway/admin/audit.csv", nil},
		{"GET", "/.gateway/admin/AUDIT", nil},
		{"GET", "/.gateway/api/v1/audit/", nil},
		{"GET", "/.gateway/api/v1//audit", nil},
		{"GET", "/.gateway/api/v1/users/../audit", nil},
		{"POST", "/.gateway/admin/users/victim/roles", nil},
		{"POST", "/.gateway/admin/new-user/", nil},
	}
	try := func(c *harness.Client, who string, tr trick) {
		t.Helper()
		hdr := append([]string{"Origin", g.PortalURL, "Content-Type", "application/json"}, tr.header...)
		var body *strings.Reader
		if tr.method != "GET" && tr.method != "HEAD" {
			body = strings.NewReader(`{"reason":"trick"}`)
		}
		var resp *http.Response
		if body != nil {
			resp = c.Do(t, tr.method, tr.path, body, hdr...)
		} else {
			resp = c.Do(t, tr.method, tr.path, nil, hdr...)
		}
		text := consoleReadBody(t, resp)
		if resp.StatusCode < 300 || strings.Contains(text, "victim@example.com") {
			t.Errorf("%s %s %s %v: %d %.200s", who, tr.method, tr.path, tr.header, resp.StatusCode, text)
		}
		// A redirect to the cleaned path leads to the same refusal.
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && !strings.HasPrefix(loc, "/.gateway/login") {
			again := c.Get(t, loc)
			if again.StatusCode < 300 {
				t.Errorf("%s %s redirected to %s, which answered %d", who, tr.path, loc, again.StatusCode)
			}
		}
	}
	for _, tr := range userTricks {
		try(mallory, "non-staff", tr)
	}
	for _, tr := range adminTricks {
		try(bob, "support", tr)
	}
	if !staffAlive(t, vc) {
		t.Fatal("a trick signed the victim out")
	}
	if es := staffAudit(t, g, store.AuditFilter{}); len(es) != 0 {
		t.Fatalf("tricks wrote audit entries: %+v", es)
	}
}

func TestConsolePagesFindAUserAndAct(t *testing.T) {
	g := staffGateway(t, "off")
	bob, _ := staffSignIn(t, g, "bob", "support")
	victim := g.CreateUser(t, "victim")
	vc := g.NewPortalClient(t)
	vc.Login(t, "victim", harness.TestPassword)

	doc := consoleDoc(t, bob, "/.gateway/admin?q=VIC", http.StatusOK)
	link, ok := doc.Find("a.user-link").Attr("href")
	if !ok || link != "/.gateway/admin/users/victim" {
		t.Fatalf("search result link %q", link)
	}
	doc = consoleDoc(t, bob, link, http.StatusOK)
	if n := doc.Find("tr.session").Length(); n != 1 {
		t.Fatalf("user page shows %d devices, want 1", n)
	}
	if !strings.Contains(doc.Find("#activity").Text(), "Signed in") || doc.Find("#email").Text() != "victim@example.com" {
		t.Fatalf("user page lacks the profile or the sign-in: %s", doc.Find("main").Text())
	}
	if doc.Find("#lock-form").Length() != 1 || doc.Find("#disable-form").Length() != 0 {
		t.Fatal("support should see lock but not disable")
	}

	// A form without a reason comes back with the error, and nothing happens.
	resp := bob.PostForm(t, link+"/signout-all", url.Values{"reason": {"  "}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(pageError(t, resp.Body), "reason") {
		t.Fatalf("no reason: %d", resp.StatusCode)
	}
	if !staffAlive(t, vc) {
		t.Fatal("refused form signed the user out")
	}
	resp = bob.PostForm(t, link+"/signout-all", url.Values{"reason": {"customer call, ticket 5"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != link+"?m=signed_out" {
		t.Fatalf("sign out everywhere: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if staffAlive(t, vc) {
		t.Fatal("user still signed in")
	}
	doc = consoleDoc(t, bob, link+"?m=signed_out", http.StatusOK)
	if doc.Find("#notice").Length() != 1 || doc.Find("tr.session").Length() != 0 {
		t.Fatal("after the action the page should say so and list no device")
	}
	if !strings.Contains(doc.Find("#activity").Text(), "Support (bob) signed you out of all devices: customer call, ticket 5") {
		t.Fatalf("activity on the console: %s", doc.Find("#activity").Text())
	}
	// A reset link is shown once, on its own page.
	resp = bob.PostForm(t, link+"/reset-link", url.Values{"reason": {"forgot password"}})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("reset link: %d", resp.StatusCode)
	}
	page, _ := goquery.NewDocumentFromReader(resp.Body)
	if u := page.Find("#reset-url").AttrOr("value", ""); !strings.HasPrefix(u, g.PortalURL+"/.gateway/reset?token=") {
		t.Fatalf("reset link shown: %q", u)
	}
	// Reflected text: the notice key maps to fixed text only.
	doc = consoleDoc(t, bob, link+"?m=%3Cscript%3E", http.StatusOK)
	if doc.Find("#notice").Length() != 0 {
		t.Fatal("an unknown notice key showed a notice")
	}
	if n := len(staffEvents(t, g, victim.ID)); n < 3 {
		t.Fatalf("victim has %d activity entries", n)
	}
}

func TestAdminCreatesUsersAndChangesRoles(t *testing.T) {
	g := staffGateway(t, "off")
	alice, _ := staffSignIn(t, g, "alice", "admin")
	resp := alice.PostForm(t, "/.gateway/admin/new-user", url.Values{
		"username": {"Newbie"}, "email": {"newbie@example.com"}, "role": {"support"}, "reason": {"new hire, HR-12"},
	})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("create user: %d %s", resp.StatusCode, pageError(t, resp.Body))
	}
	page, _ := goquery.NewDocumentFromReader(resp.Body)
	link, err := url.Parse(page.Find("#reset-url").AttrOr("value", ""))
	if err != nil || link.Query().Get("token") == "" {
		t.Fatalf("no reset link for the new user: %q", page.Find("main").Text())
	}
	again := alice.PostForm(t, "/.gateway/admin/new-user", url.Values{"username": {"newbie"}, "role": {"user"}, "reason": {"x"}})
	if again.StatusCode != http.StatusConflict {
		t.Fatalf("duplicate user: %d", again.StatusCode)
	}
	nb := g.NewPortalClient(t)
	if resp := resetOpen(t, nb, link.String()); resp.StatusCode != http.StatusOK {
		t.Fatalf("new user's link: %d", resp.StatusCode)
	}
	resp = resetSubmit(t, nb, "my own secret phrase", "my own secret phrase")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("new user's reset: %d", resp.StatusCode)
	}
	nb.Login(t, "newbie", "my own secret phrase")
	consoleDoc(t, nb, "/.gateway/admin", http.StatusOK)
	u, _ := g.Store.FindUserByName(context.Background(), "newbie")
	if ev := staffEvents(t, g, u.ID); !strings.Contains(ev[len(ev)-1].Detail, "Admin (alice) created your account: new hire, HR-12") {
		t.Fatalf("new user's first activity: %+v", ev[len(ev)-1])
	}

	// Roles: the change is seen on the very next request.
	resp = alice.PostForm(t, "/.gateway/admin/users/newbie/roles", url.Values{"role": {"user"}, "reason": {"moved team"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change roles: %d %s", resp.StatusCode, pageError(t, resp.Body))
	}
	consoleDoc(t, nb, "/.gateway/admin", http.StatusForbidden)
	if resp := alice.PostForm(t, "/.gateway/admin/users/alice/roles", url.Values{"role": {"user"}, "reason": {"oops"}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("admin changing own roles: %d", resp.StatusCode)
	}
	if resp := alice.PostForm(t, "/.gateway/admin/users/newbie/roles", url.Values{"role": {"root"}, "reason": {"x"}}); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unknown role: %d", resp.StatusCode)
	}
	if es := staffAudit(t, g, store.AuditFilter{Action: store.AuditRolesChange}); len(es) != 1 || es[0].Detail != "roles support → user" {
		t.Fatalf("roles audit: %+v", es)
	}
}

func TestAuditPageFiltersAndExportsSafeCSV(t *testing.T) {
	g := staffGateway(t, "off")
	alice, _ := staffSignIn(t, g, "alice", "admin")
	bob, _ := staffSignIn(t, g, "bob", "support")
	g.CreateUser(t, "victim")
	g.CreateUser(t, "other")
	formula := `=HYPERLINK("http://evil.example","x")`
	for _, c := range []struct {
		who                  *harness.Client
		user, action, reason string
	}{
		{bob, "victim", "signout-all", formula},
		{bob, "victim", "lock", "+1 fraud"},
		{bob, "other", "signout-all", "@SUM(A1)"},
		{alice, "victim", "unlock", "-checked"},
	} {
		if code, body := staffCall(t, c.who, "POST", "/.gateway/api/v1/users/"+c.user+"/"+c.action, staffReason(c.reason)); code != http.StatusNoContent {
			t.Fatalf("%s: %d %v", c.action, code, body)
		}
	}
	rows := func(q string) int {
		return consoleDoc(t, alice, "/.gateway/admin/audit?"+q, http.StatusOK).Find("tr.audit-entry").Length()
	}
	for q, want := range map[string]int{
		"": 4, "actor=bob": 3, "actor=alice": 1, "user=victim": 3, "action=signout_all": 2,
		"actor=bob&user=victim&action=lock": 1, "since=2999-01-01": 0, "until=2000-01-01": 0, "since=2000-01-01&until=2999-01-01T00:00": 4,
	} {
		if got := rows(q); got != want {
			t.Errorf("audit filter %q: %d rows, want %d", q, got, want)
		}
	}
	consoleDoc(t, alice, "/.gateway/admin/audit?since=yesterday", http.StatusBadRequest)
	consoleDoc(t, bob, "/.gateway/admin/audit", http.StatusForbidden)

	resp := alice.Get(t, "/.gateway/admin/audit.csv?actor=bob")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("csv: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if cd := resp.Header.Get("Content-Disposition"); !regexp.MustCompile(`^attachment; filename="gateway-audit-\d{8}-\d{6}\.csv"$`).MatchString(cd) {
		t.Fatalf("Content-Disposition %q", cd)
	}
	recs, err := csv.NewReader(resp.Body).ReadAll()
	if err != nil || len(recs) != 4 || recs[0][0] != "time" {
		t.Fatalf("csv: %v %v", recs, err)
	}
	reasons := map[string]bool{}
	for _, r := range recs[1:] {
		reasons[r[7]] = true
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("cell %q would run as a formula", cell)
			}
		}
	}
	for _, want := range []string{"'" + formula, "'+1 fraud", "'@SUM(A1)"} {
		if !reasons[want] {
			t.Errorf("csv lacks the defused reason %q: %v", want, reasons)
		}
	}
	if resp := bob.Get(t, "/.gateway/admin/audit.csv"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("support csv: %d", resp.StatusCode)
	}
}
