package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/authgate/gateway/admin"
	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// evilPage is an app page whose script, the moment it runs, tries every
// way it has to act with the visitor's powers: read the gateway's JSON API
// and pages, and send every state-changing call, both on its own origin
// (the app host) and on the portal's, as CORS requests, as no-cors "simple"
// requests, and (a few pages) as a form posted into a hidden frame, all at
// once. window.attack holds the results.
const evilPage = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>app</title></head><body>
<h1 id="app">The app</h1><pre id="results"></pre>
<script>
const portal = %q, targets = %s;
async function one(base, t) {
  const url = base + t.path, out = {url: url, method: t.method};
  try {
    let r;
    if (t.method === "GET") {
      r = await fetch(url, {credentials: "include"});
      out.kind = "read";
    } else if (t.kind === "json") {
      r = await fetch(url, {method: "POST", credentials: "include", headers: {"Content-Type": "application/json"}, body: JSON.stringify(t.body)});
      out.kind = "json";
    } else {
      r = await fetch(url, {method: "POST", mode: "no-cors", credentials: "include", body: new URLSearchParams(t.body)});
      out.kind = "simple";
    }
    out.type = r.type; out.status = r.status;
    out.body = r.type === "opaque" ? "" : (await r.text()).slice(0, 300);
  } catch (e) { out.error = String(e); }
  return out;
}
let frames = 0;
function post(base, t) {
  const sink = document.createElement("iframe"); // one each, so no post cancels another
  sink.name = "sink" + (++frames); sink.style.display = "none"; document.body.appendChild(sink);
  const f = document.createElement("form");
  f.method = "POST"; f.action = base + t.path; f.target = sink.name;
  for (const [k, v] of Object.entries(t.body)) { const i = document.createElement("input"); i.name = k; i.value = v; f.appendChild(i); }
  document.body.appendChild(f); f.submit();
}
window.attack = (async () => {
  const calls = [];
  for (const base of ["", portal]) {
    for (const t of targets) {
      calls.push(one(base, t));
      if (t.frame && base === portal) post(base, t);
    }
  }
  const results = await Promise.all(calls);
  await new Promise(r => setTimeout(r, 500)); // let the framed form posts land
  document.getElementById("results").textContent = "done";
  return JSON.stringify(results);
})();
</script></body></html>`

// attackTarget is one call the page's script tries.
type attackTarget struct {
	Method string            `json:"method"`
	Path   string            `json:"path"`
	Kind   string            `json:"kind,omitempty"` // POST: "json" or "form"
	Body   map[string]string `json:"body,omitempty"`
	// Frame also posts it to the portal as a real form into a hidden frame
	// (a navigation, not a fetch); done for a few pages, each costing a
	// frame.
	Frame bool `json:"frame,omitempty"`
}

// attackTargets lists every call of the person's API and pages and every
// staff route, with the victim's name and a real session id filled in.
func attackTargets(victim, sid string) []attackTarget {
	body := map[string]string{
		"reason": "xss", "role": "admin", "name": "evil", "username": "evil", "email": "e@example.com",
		"current_password": harness.TestPassword, "new_password": "a completely new passphrase", "confirm_password": "a completely new passphrase",
		"keep_current": "false", "password": harness.TestPassword, "code": "000000",
	}
	var out []attackTarget
	add := func(method, path string) {
		if method == "GET" {
			out = append(out, attackTarget{Method: "GET", Path: path})
			return
		}
		framed := false
		for _, end := range []string{"/reset-link", "/lock", "/account/signout-all", "/account/password", "/admin/tokens"} {
			framed = framed || (strings.HasSuffix(path, end) && !strings.Contains(path, "/api/"))
		}
		out = append(out, attackTarget{Method: "POST", Path: path, Kind: "json", Body: body},
			attackTarget{Method: "POST", Path: path, Kind: "form", Body: body, Frame: framed})
	}
	for _, p := range []string{"/api/v1/me", "/api/v1/me/sessions", "/api/v1/me/activity", "/account", "/account/2fa"} {
		add("GET", "/.gateway"+p)
	}
	for _, p := range []string{"/api/v1/me/signout-all", "/api/v1/me/password", "/api/v1/me/sessions/" + sid + "/revoke",
		"/api/v1/me/2fa/setup", "/api/v1/me/2fa/disable", "/account/signout-all", "/account/password",
		"/account/sessions/" + sid + "/revoke", "/account/2fa/disable"} {
		add("POST", "/.gateway"+p)
	}
	for _, rt := range admin.StaffRoutes() {
		if rt.Method == "" {
			continue
		}
		p := strings.NewReplacer("{name}", victim, "{id}", sid).Replace(rt.Path)
		add(rt.Method, "/.gateway"+p)
	}
	return out
}

// attackResult is what the script saw of one call.
type attackResult struct {
	URL, Method, Kind, Type, Body, Error string
	Status                               int
}

// runAttack waits for the app page's script and returns what it got.
func runAttack(t *testing.T, ctx context.Context) []attackResult {
	t.Helper()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.attack`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("the page's script: %v", err)
	}
	var rs []attackResult
	if err := json.Unmarshal([]byte(raw), &rs); err != nil {
		t.Fatal(err)
	}
	return rs
}

// checkAttackFailed fails the test for every call whose answer the script
// could read, except the app host's 404s: nothing the gateway serves on the
// app's origin answers, and the portal's answers are unreadable.
func checkAttackFailed(t *testing.T, g *harness.Gateway, rs []attackResult) {
	t.Helper()
	if len(rs) < 60 {
		t.Fatalf("only %d attempts ran", len(rs))
	}
	blocked := 0
	for _, r := range rs {
		onPortal := strings.HasPrefix(r.URL, g.PortalURL)
		switch {
		case r.Error != "" || r.Type == "opaque":
			// Unreadable: the portal's answers, and the app host's
			// redirect of the account page to the portal.
			blocked++
		case onPortal:
			t.Errorf("the app's script read the portal's answer to %s %s (%s): %d %q", r.Method, r.URL, r.Kind, r.Status, r.Body)
		case r.Status != http.StatusNotFound:
			t.Errorf("%s %s (%s) on the app host: %d %q, want 404", r.Method, r.URL, r.Kind, r.Status, r.Body)
		}
	}
	if blocked == 0 {
		t.Error("no call reached the portal at all")
	}
}

// browserSignInThroughPortal opens the app page in the browser, signs in on
// the portal it is sent to (with a TOTP code when secret is set), and
// waits until the browser is back on the app page.
func browserSignInThroughPortal(t *testing.T, ctx context.Context, g *harness.Gateway, name, secret string) {
	t.Helper()
	consoleBrowserStep(t, ctx, "open the app", chromedp.Navigate(g.URL+"/evil"))
	if p := consoleBrowserPath(t, ctx); p != "/.gateway/login" {
		t.Fatalf("the app sent the browser to %s, want the portal's login", p)
	}
	consoleBrowserSignIn(t, ctx, name, harness.TestPassword)
	if secret != "" {
		code, err := otptotp.GenerateCode(secret, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		consoleBrowserStep(t, ctx, "type the code", chromedp.SendKeys(chromedp.ID("code"), code))
		consoleBrowserSubmit(t, ctx, "submit")
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || loc != g.URL+"/evil" {
		t.Fatalf("after signing in the browser is at %q (%v), want the app page %s/evil:\n%s", loc, err, g.URL, consoleBrowserText(t, ctx))
	}
}

func TestAppScriptCannotUseTheGatewaysPowers(t *testing.T) {
	var page atomic.Value // the evil page, once the portal's URL is known
	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/evil" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprint(w, page.Load())
			return
		}
		harness.EchoHandler().ServeHTTP(w, r)
	})
	g := portalGateway(t, harness.Options{Upstream: app})
	victim := g.CreateUser(t, "victim")
	plain := g.CreateUser(t, "pat")
	boss := g.CreateUser(t, "ada", "admin")
	secret := staffEnrolTOTP(t, g, boss)
	victimClient := g.NewPortalClient(t)
	victimClient.Login(t, "victim", harness.TestPassword)
	victimSessions, err := g.Store.FindSessions(context.Background(), victim.ID)
	if err != nil || len(victimSessions) != 1 {
		t.Fatalf("victim sessions: %v %v", victimSessions, err)
	}
	targets, _ := json.Marshal(attackTargets("victim", victimSessions[0].ID))
	page.Store(fmt.Sprintf(evilPage, g.PortalURL, targets))

	for _, who := range []struct {
		name   string
		user   *store.User
		secret string
	}{{"plain user", plain, ""}, {"admin with 2FA", boss, secret}} {
		t.Run(who.name, func(t *testing.T) {
			ctx := browsertest.NewIsolated(t)
			browserSignInThroughPortal(t, ctx, g, who.user.Username, who.secret)
			checkAttackFailed(t, g, runAttack(t, ctx))

			// Nothing happened on the server either.
			if es := staffAudit(t, g, store.AuditFilter{}); len(es) != 0 {
				t.Errorf("staff actions were taken: %+v", es)
			}
			if toks, err := g.Store.FindAPITokens(context.Background()); err != nil || len(toks) != 0 {
				t.Errorf("API tokens were made: %d %v", len(toks), err)
			}
			if n, _ := g.Store.Client().Exists(context.Background(), "gw:resetlink:u:"+victim.ID).Result(); n != 0 {
				t.Error("a reset link for the victim exists")
			}
			v, _ := g.Store.FindUserByID(context.Background(), victim.ID)
			if v.Disabled || v.Lock != "" {
				t.Errorf("victim locked or disabled: %+v", v)
			}
			if !staffAlive(t, victimClient) {
				t.Error("the victim was signed out")
			}
			me, _ := g.Store.FindUserByID(context.Background(), who.user.ID)
			if me.MFAEnabled != (who.secret != "") || me.PasswordHash != who.user.PasswordHash {
				t.Errorf("the visitor's own 2FA or password changed")
			}
			// And the visitor is still signed in, on the app and the portal.
			consoleBrowserStep(t, ctx, "reload the app", chromedp.Navigate(g.URL+"/evil"))
			if loc, _ := chromedp.Run(ctx, chromedp.Location()); loc != g.URL+"/evil" {
				t.Errorf("the visitor was signed out of the app: now at %s", loc)
			}
			consoleBrowserStep(t, ctx, "open the account page", chromedp.Navigate(g.PortalURL+"/.gateway/account"))
			if p := consoleBrowserPath(t, ctx); p != "/.gateway/account" {
				t.Errorf("the visitor was signed out of the portal: now at %s", p)
			}
		})
	}
}
