package e2e

import (
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// thrPolicy is a brute-force policy fast enough for tests: free failures,
// then a 1 s delay (doubling, capped at 2 s).
func thrPolicy(free int) config.ThrottlePolicy {
	return config.ThrottlePolicy{Free: free, Base: config.Duration{Duration: time.Second},
		Max: config.Duration{Duration: 2 * time.Second}, Forget: config.Duration{Duration: time.Minute}}
}

// thrAnswer is what a person sees after a sign-in attempt.
type thrAnswer struct {
	Status     int
	RetryAfter string
	Message    string // the error line of the page (#message or #error)
	Location   string
}

// thrSignIn posts the login form, as a browser would, and reads the answer.
func thrSignIn(t *testing.T, c *harness.Client, username, password string, header ...string) thrAnswer {
	t.Helper()
	resp := c.PostForm(t, "/.gateway/login", url.Values{"username": {username}, "password": {password}, "rd": {"/app"}}, header...)
	defer resp.Body.Close()
	a := thrAnswer{Status: resp.StatusCode, RetryAfter: resp.Header.Get("Retry-After"), Location: resp.Header.Get("Location")}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		doc, err := goquery.NewDocumentFromReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		a.Message = strings.TrimSpace(doc.Find("#message, #error").First().Text())
	}
	return a
}

var thrTryAgain = regexp.MustCompile(`^Too many attempts\. Try again in \d+ seconds?\.$`)

// thrWantThrottled fails unless a is the throttled answer: 429, whole
// seconds in Retry-After, and words saying when to try again.
func thrWantThrottled(t *testing.T, a thrAnswer, what string) {
	t.Helper()
	if s, err := strconv.Atoi(a.RetryAfter); a.Status != http.StatusTooManyRequests || err != nil || s < 1 || !thrTryAgain.MatchString(a.Message) {
		t.Fatalf("%s: %+v, want 429 with Retry-After and \"Too many attempts. Try again in N seconds.\"", what, a)
	}
}

// thrMetric reads one sample from the ops listener's /metrics.
func thrMetric(t *testing.T, g *harness.Gateway, sample string) float64 {
	t.Helper()
	resp, err := http.Get(g.OpsURL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` ([0-9.e+-]+)$`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("metric %s not exposed", sample)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func TestThrottleAccountCounterSharedByReplicas(t *testing.T) {
	srv, secret := redistest.Start(t), rand.Text()+rand.Text()
	conf := func(c *config.Config) { c.Throttle.PasswordAccount = thrPolicy(3) }
	a := harness.Start(t, harness.Options{Redis: srv, Secret: secret, Configure: conf})
	b := harness.Start(t, harness.Options{Redis: srv, Secret: secret, Configure: conf})
	a.CreateUser(t, "alice")

	// Wrong passwords alternate between the replicas, from different
	// browsers: 3 are free, the 4th (on B) starts a delay...
	for i, g := range []*harness.Gateway{a, b, a} {
		if got := thrSignIn(t, g.NewClient(t), "alice", "wrong guess "+strconv.Itoa(i)); got.Status != http.StatusUnauthorized {
			t.Fatalf("free wrong password %d: %+v, want 401", i+1, got)
		}
	}
	got := thrSignIn(t, b.NewClient(t), "Alice", "wrong guess 4")
	if got.Status != http.StatusTooManyRequests || !strings.HasPrefix(got.Message, "Wrong username or password. Too many attempts. Try again in 1 second") {
		t.Fatalf("4th wrong password (on B, other spelling): %+v, want 429 saying the password was wrong and to wait", got)
	}
	// ...which replica A enforces, even for the right password.
	thrWantThrottled(t, thrSignIn(t, a.NewClient(t), "alice", harness.TestPassword), "right password on A during the delay B started")
	if n := thrMetric(t, a, `gateway_throttled_total{kind="password_account"}`); n != 1 {
		t.Errorf("A counted %v refused attempts, want 1", n)
	}
}

func TestThrottleRightPasswordRefusedDuringDelayThenAccepted(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.Throttle.PasswordAccount = thrPolicy(2) }})
	u := g.CreateUser(t, "bob")
	for i := range 3 {
		thrSignIn(t, g.NewClient(t), "bob", "not it "+strconv.Itoa(i))
	}
	wrong := thrSignIn(t, g.NewClient(t), "bob", "still not it")
	right := thrSignIn(t, g.NewClient(t), "bob", harness.TestPassword)
	thrWantThrottled(t, right, "right password during the delay")
	if right != wrong {
		t.Fatalf("during a delay the right password got %+v and a wrong one %+v; they must be the same", right, wrong)
	}
	// The page has no form to resubmit at once, but a way back.
	resp := g.NewClient(t).PostForm(t, "/.gateway/login", url.Values{"username": {"bob"}, "password": {harness.TestPassword}})
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	if doc.Find("form[action$='/login']").Length() != 0 || doc.Find("a#back").AttrOr("href", "") != "/.gateway/login?rd=%2F" {
		t.Errorf("throttled page: form %d, back link %q", doc.Find("form[action$='/login']").Length(), doc.Find("a#back").AttrOr("href", ""))
	}

	// After the delay the right password is accepted and the count reset.
	c := g.NewClient(t)
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := thrSignIn(t, c, "bob", harness.TestPassword)
		if got.Status == http.StatusSeeOther && got.Location == "/app" {
			break
		}
		if got.Status != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("right password after the delay: %+v", got)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if st, err := g.Store.FindThrottle(context.Background(), store.PasswordUserThrottleKey(u.ID)); err != nil || st.Fails != 0 {
		t.Errorf("account counter after a successful sign-in: %+v, %v; want reset", st, err)
	}
	var sawThrottledEvent bool
	evs, _ := g.Store.FindEvents(context.Background(), u.ID, 50)
	for _, e := range evs {
		sawThrottledEvent = sawThrottledEvent || e.Type == store.EventThrottled
	}
	if !sawThrottledEvent {
		t.Error("the person's activity does not show that sign-in was paused")
	}
}

func TestThrottleUnknownUserGetsTheSameAnswers(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.Throttle.PasswordAccount = thrPolicy(2) }})
	g.CreateUser(t, "carol")
	// The same sequence against a real account and a made-up one, each
	// from its own browsers; the unknown name is typed in several
	// spellings, which all count as one.
	spell := []string{"nobody", "Nobody", " NOBODY", "nobody", "noBody"}
	for i := range spell {
		known := thrSignIn(t, g.NewClient(t), "carol", "wrong "+strconv.Itoa(i))
		unknown := thrSignIn(t, g.NewClient(t), spell[i], "wrong "+strconv.Itoa(i))
		if known != unknown {
			t.Fatalf("attempt %d: known user %+v, unknown user %+v; the answers must not differ", i+1, known, unknown)
		}
		if i == len(spell)-1 {
			thrWantThrottled(t, unknown, "5th attempt on an unknown name")
		}
	}
}

func TestThrottleClientCounterNotEvadedByForwardedFor(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		limited bool
	}{
		// The client is the TCP peer: X-Forwarded-For is its own invention.
		{"untrusted peer", nil, true},
		// Control: behind a trusted proxy each X-Forwarded-For is a real,
		// different client, so none of them is limited.
		{"trusted proxy", []string{"127.0.0.1/32"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
				c.TrustedProxies = tc.trusted
				c.Throttle.PasswordIP = thrPolicy(3)
			}})
			var last thrAnswer
			for i := range 6 {
				// A different account and a different claimed address
				// each time, so only the client counter can stop it.
				last = thrSignIn(t, g.NewClient(t), "user"+strconv.Itoa(i), "guess",
					"X-Forwarded-For", "198.51.100."+strconv.Itoa(i+1))
			}
			if !tc.limited {
				if last.Status != http.StatusUnauthorized {
					t.Fatalf("6th guess from a 6th real client: %+v, want a plain 401", last)
				}
				return
			}
			thrWantThrottled(t, last, "6th guess with a rotated X-Forwarded-For")
			if n := thrMetric(t, g, `gateway_throttled_total{kind="password_ip"}`); n < 1 {
				t.Errorf("password_ip throttles counted: %v", n)
			}
		})
	}
}

func TestThrottleReauthSharesTheAccountCounter(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.Throttle.PasswordAccount = thrPolicy(2) }})
	u := g.CreateUser(t, "dana")
	// A session whose password entry is older than the re-authentication
	// window, so a sensitive action asks for the password again.
	rec := httptest.NewRecorder()
	hourAgo := time.Now().Add(-time.Hour)
	if _, err := g.Sessions.Issue(context.Background(), rec, store.IssueOptions{UserID: u.ID, Created: hourAgo, AuthAt: hourAgo, IP: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	stale := g.NewClient(t)
	stale.SetSessionCookie(rec.Result().Cookies()[0].Value)
	reauth := func(pw string) (int, string, string) {
		resp := stale.PostForm(t, "/.gateway/account/signout-all", url.Values{"keep_current": {"1"}, "reauth_password": {pw}})
		defer resp.Body.Close()
		doc, _ := goquery.NewDocumentFromReader(resp.Body)
		return resp.StatusCode, resp.Header.Get("Retry-After"), strings.TrimSpace(doc.Find("#error, .error").First().Text())
	}
	// Two wrong passwords at sign-in, one when confirming: the third
	// failure on the account starts the delay...
	thrSignIn(t, g.NewClient(t), "dana", "wrong one")
	thrSignIn(t, g.NewClient(t), "dana", "wrong two")
	if status, retry, msg := reauth("wrong three"); status != http.StatusTooManyRequests || retry == "" || !strings.Contains(msg, "Try again in 1 second") {
		t.Fatalf("3rd wrong password, when confirming: %d Retry-After %q %q", status, retry, msg)
	}
	// ...which holds on the confirmation form for the right password too,
	// and on the sign-in form.
	if status, retry, msg := reauth(harness.TestPassword); status != http.StatusTooManyRequests || retry == "" || !strings.Contains(msg, "Try again in") {
		t.Fatalf("right password when confirming, during the delay: %d Retry-After %q %q", status, retry, msg)
	}
	thrWantThrottled(t, thrSignIn(t, g.NewClient(t), "dana", harness.TestPassword), "sign-in after failures when confirming")
}

// TestThrottleBrowserSeesWhenToTryAgain signs in with Chromium after a
// stranger's guesses: the page says when to try again (styled under the
// strict CSP), leads back to the form, and the password works after the
// wait.
func TestThrottleBrowserSeesWhenToTryAgain(t *testing.T) {
	// A 2 s delay, long enough to fill in the form before it ends.
	p := thrPolicy(2)
	p.Base = config.Duration{Duration: 2 * time.Second}
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.Throttle.PasswordAccount = p }})
	g.CreateUser(t, "jade")
	ctx := browsertest.New(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(g.URL+"/.gateway/login")); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		thrSignIn(t, g.NewClient(t), "jade", "stranger "+strconv.Itoa(i))
	}
	submit := func(want int) {
		t.Helper()
		if err := chromedp.Do(ctx,
			chromedp.Navigate(g.URL+"/.gateway/login?rd=/welcome"),
			chromedp.SendKeys(chromedp.ID("username"), "jade"),
			chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword),
		); err != nil {
			t.Fatalf("fill the login form: %v", err)
		}
		resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("submit")))
		if err != nil {
			t.Fatalf("submit: %v", err)
		}
		if int(resp.Status) != want {
			body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
			t.Fatalf("sign-in: status %d, want %d; page: %.300s", resp.Status, want, body)
		}
	}
	submit(http.StatusTooManyRequests)
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("message")))
	if err != nil || !thrTryAgain.MatchString(strings.TrimSpace(msg)) {
		t.Fatalf("throttled page message %q (%v)", msg, err)
	}
	// The stylesheet applies: the message is shown as an error.
	bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.getElementById("message")).backgroundColor`))
	if err != nil || bg != "rgb(253, 236, 234)" {
		t.Errorf("message background %q (%v): stylesheet not applied", bg, err)
	}
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("back")))
	if err != nil || resp.Status != http.StatusOK || !strings.HasSuffix(resp.URL, "/.gateway/login?rd=%2Fwelcome") {
		t.Fatalf("back to sign in: %v %+v", err, resp)
	}
	// After the wait (1 s here) the same person gets in.
	key := store.PasswordUserThrottleKey(thrUserID(t, g, "jade"))
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := g.Store.FindThrottle(context.Background(), key)
		if err != nil {
			t.Fatal(err)
		}
		if !st.Active(time.Now()) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still paused after 5 s: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	submit(http.StatusOK) // 303 to /welcome, which the echo app answers
	if u, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`)); err != nil || u != "/welcome" {
		t.Fatalf("after sign-in the browser is at %q (%v), want /welcome", u, err)
	}
}

func thrUserID(t *testing.T, g *harness.Gateway, name string) string {
	t.Helper()
	u, err := g.Store.FindUserByName(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

func TestThrottleStrangerDoesNotSlowDownTheOwnersBrowser(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.Throttle.PasswordAccount = thrPolicy(2) }})
	g.CreateUser(t, "kim")
	owner := g.NewClient(t)
	resp := owner.PostForm(t, "/.gateway/login", url.Values{"username": {"kim"}, "password": {harness.TestPassword}, "rd": {"/"}})
	resp.Body.Close()
	var known *http.Cookie
	for _, ck := range resp.Cookies() {
		if strings.HasSuffix(ck.Name, "_known") {
			known = ck
		}
	}
	if resp.StatusCode != http.StatusSeeOther || known == nil || known.Path != "/.gateway/login" || !known.HttpOnly || known.SameSite != http.SameSiteStrictMode {
		t.Fatalf("first sign-in: %d, known-browser cookie %+v", resp.StatusCode, known)
	}
	if e, _ := owner.Echo(t, "/"); e == nil || strings.Contains(e.Header.Get("Cookie"), "_known") {
		t.Fatalf("the app sees the known-browser cookie (or the owner is not signed in): %+v", e)
	}

	// A stranger keeps the account's counter in a delay...
	for i := range 3 {
		thrSignIn(t, g.NewClient(t), "kim", "stranger "+strconv.Itoa(i))
	}
	thrWantThrottled(t, thrSignIn(t, g.NewClient(t), "kim", harness.TestPassword), "right password from a new browser")
	// ...but the owner's browser signs in at once.
	if got := thrSignIn(t, owner, "kim", harness.TestPassword); got.Status != http.StatusSeeOther {
		t.Fatalf("owner's browser during the stranger's delay: %+v, want signed in", got)
	}
	// Its own wrong passwords are limited all the same.
	for i := range 2 {
		if got := thrSignIn(t, owner, "kim", "typo "+strconv.Itoa(i)); got.Status != http.StatusUnauthorized {
			t.Fatalf("owner's typo %d: %+v", i+1, got)
		}
	}
	if got := thrSignIn(t, owner, "kim", "typo 3"); got.Status != http.StatusTooManyRequests {
		t.Fatalf("owner's 3rd typo: %+v, want the delay to start", got)
	}
	thrWantThrottled(t, thrSignIn(t, owner, "kim", harness.TestPassword), "owner's browser after its own typos")
	// A forged cookie is just a new browser.
	forged := g.NewClient(t)
	u, _ := url.Parse(g.URL + "/.gateway/login")
	forged.Jar.SetCookies(u, []*http.Cookie{{Name: known.Name, Value: "someid.AAAAAAAAAAAAAAAAAAAAAAAA", Path: "/.gateway/login"}})
	thrWantThrottled(t, thrSignIn(t, forged, "kim", harness.TestPassword), "browser with a forged known-browser cookie")
}
