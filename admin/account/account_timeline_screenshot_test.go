package account_test

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/geoiptest"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// Devices of the timeline screenshot.
const (
	shotIPhone  = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
	shotEdge    = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.51"
	shotFirefox = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
	shotAndroid = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36"
)

// TestTimelineScreenshot fills a month of activity — sign-ins with a code
// and with a passkey on most days, a burst of wrong passwords, and
// yesterday a wrong code, support signing the person out, a password
// change and a new phone — and saves the
// top of the activity timeline (/.gateway/account/activity: the chart and
// the newest rows) as docs/timeline.png for the README. It runs only with
// GATEWAY_TEST_SCREENSHOT=1:
//
//	GATEWAY_TEST_SCREENSHOT=1 go test ./admin/account -run TestTimelineScreenshot
func TestTimelineScreenshot(t *testing.T) {
	if os.Getenv("GATEWAY_TEST_SCREENSHOT") != "1" {
		t.Skip("set GATEWAY_TEST_SCREENSHOT=1 to write docs/timeline.png")
	}
	db := filepath.Join(t.TempDir(), "city.mmdb")
	geoiptest.Write(t, db, "GeoLite2-City", map[string][3]string{
		"203.0.113.0/24":  {"Lisbon", "Portugal", "PT"},
		"198.51.100.0/24": {"Porto", "Portugal", "PT"},
		"192.0.2.0/24":    {"Berlin", "Germany", "DE"},
	})
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.GeoIPDB = db
		c.TrustedProxies = []string{"127.0.0.0/8"}
	}})
	u := g.CreateUser(t, "alice")

	// The month before today, oldest first, as the stream holds it.
	ctx := context.Background()
	today := time.Now().UTC().Truncate(24 * time.Hour)
	add := func(daysAgo int, hm string, e store.Event) {
		t.Helper()
		at, err := time.Parse("15:04", hm)
		if err != nil {
			t.Fatal(err)
		}
		e.Time = today.AddDate(0, 0, -daysAgo).Add(time.Duration(at.Hour())*time.Hour + time.Duration(at.Minute())*time.Minute)
		if err := g.Store.AppendEvent(ctx, u.ID, e); err != nil {
			t.Fatal(err)
		}
	}
	phone := store.Event{Type: store.EventSignIn, Detail: "password + authenticator app", IP: "203.0.113.24", Device: shotIPhone}
	laptop := store.Event{Type: store.EventSignIn, Detail: "passkey Work laptop", IP: "198.51.100.7", Device: shotEdge}
	for d := 29; d >= 1; d-- {
		if d%4 != 3 {
			add(d, "08:12", phone)
		}
		if d%7 != 0 && d%7 != 6 {
			add(d, "09:03", laptop)
		}
		if d%5 == 2 {
			add(d, "19:40", phone)
		}
		switch d {
		case 12:
			for i := range 7 {
				add(d, "02:1"+string(rune('0'+i)), store.Event{Type: store.EventSignInFailed, Detail: "wrong password", IP: "192.0.2.201", Device: shotFirefox})
			}
		case 1:
			add(d, "09:41", store.Event{Type: store.EventMFAFailed, Detail: "wrong code", IP: "203.0.113.24", Device: shotIPhone})
			add(d, "10:05", store.Event{Type: store.EventSignOutAll, Actor: "support:bob",
				Detail: "Support (bob) signed you out of all devices: a lost phone, ticket 4711"})
			add(d, "10:20", store.Event{Type: store.EventPasswordChanged, Detail: "every other device was signed out", IP: "198.51.100.7", Device: shotEdge})
			add(d, "13:30", store.Event{Type: store.EventNewDevice, Detail: "your password was entered on a browser that has not signed in before", IP: "198.51.100.40", Device: shotAndroid})
			add(d, "13:30", store.Event{Type: store.EventSignIn, Detail: "password + authenticator app", IP: "198.51.100.40", Device: shotAndroid})
		}
	}
	// Today, for real: a wrong password from Berlin, then the browser
	// below signs in.
	g.NewClient(t).PostForm(t, "/.gateway/login", url.Values{"username": {"alice"}, "password": {"not the password"}, "rd": {"/"}},
		"User-Agent", shotFirefox, "X-Forwarded-For", "192.0.2.201").Body.Close()

	bctx := browsertest.New(t)
	err := chromedp.Do(bctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
			}); err != nil {
				return err
			}
			if _, err := cdp.Call(ctx, tg, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Europe/Lisbon"}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
				Headers: network.Headers{"X-Forwarded-For": "198.51.100.7"},
			})
			return err
		}),
		chromedp.EmulateViewport(1100, 1500),
		chromedp.Navigate(g.URL+"/.gateway/login?rd=%2F.gateway%2Faccount%2Factivity"),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.ID("submit"))); err != nil {
		t.Fatal(err)
	}
	// The picture ends just below the eighth row, not in the middle of one.
	bottom, err := chromedp.Run(bctx, chromedp.Evaluate[float64](`document.querySelectorAll("#timeline tbody tr")[7].getBoundingClientRect().bottom`))
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(bctx, chromedp.EmulateViewport(1100, int64(bottom)+1)); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "timeline.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
