package account_test

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/geoiptest"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// TestAccountScreenshot renders the Login & Security page with a few
// devices, places and events in headless Chromium and saves it as
// docs/account.png for the README, and its activity on a phone in dark mode
// as docs/activity.png. It runs only with GATEWAY_TEST_SCREENSHOT=1:
//
//	GATEWAY_TEST_SCREENSHOT=1 go test ./admin/account -run TestAccountScreenshot
func TestAccountScreenshot(t *testing.T) {
	if os.Getenv("GATEWAY_TEST_SCREENSHOT") != "1" {
		t.Skip("set GATEWAY_TEST_SCREENSHOT=1 to write docs/account.png")
	}
	db := filepath.Join(t.TempDir(), "city.mmdb")
	geoiptest.Write(t, db, "GeoLite2-City", map[string][3]string{
		"203.0.113.0/24":  {"Lisbon", "Portugal", "PT"},
		"198.51.100.0/24": {"Porto", "Portugal", "PT"},
		"192.0.2.0/24":    {"Berlin", "Germany", "DE"},
	})
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.GeoIPDB = db
		// The "devices" below say where they are with X-Forwarded-For.
		c.TrustedProxies = []string{"127.0.0.0/8"}
	}})
	g.CreateUser(t, "alice")

	signIn := func(ua, ip, password string) *harness.Client {
		c := g.NewClient(t)
		c.PostForm(t, "/.gateway/login", url.Values{"username": {"alice"}, "password": {password}, "rd": {"/"}},
			"User-Agent", ua, "X-Forwarded-For", ip)
		return c
	}
	phone := signIn("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1", "203.0.113.24", harness.TestPassword)
	signIn("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.51", "198.51.100.7", harness.TestPassword)
	signIn("Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0", "192.0.2.201", "not the password")

	// Name the phone from the phone itself.
	var sid string
	for _, s := range mustSessions(t, phone) {
		if s.Current {
			sid = s.ID
		}
	}
	phone.PostForm(t, "/.gateway/account/sessions/"+sid+"/rename", url.Values{"name": {"Alice's iPhone"}})

	ctx := browsertest.New(t)
	err := chromedp.Do(ctx,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			if _, err := cdp.Call(ctx, tg, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
				UserAgent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
			}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, tg, network.SetExtraHTTPHeaders, network.SetExtraHTTPHeadersParams{
				Headers: network.Headers{"X-Forwarded-For": "192.0.2.10"},
			})
			return err
		}),
		chromedp.EmulateViewport(1100, 900),
		chromedp.Navigate(g.URL+"/.gateway/login?rd=%2F.gateway%2Faccount"),
		chromedp.SendKeys(chromedp.ID("username"), "alice"),
		chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword),
	)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("submit"))); err != nil {
		t.Fatal(err)
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "account.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	// The activity on its own, as a phone in dark mode shows it.
	err = chromedp.Do(ctx, chromedp.EmulateViewport(390, 844),
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
			})
			return err
		}))
	if err != nil {
		t.Fatal(err)
	}
	png, err = chromedp.Run(ctx, chromedp.Screenshot(chromedp.CSS("main section:has(#activity)")))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join("..", "..", "docs", "activity.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

type shotSession struct {
	ID      string `json:"id"`
	Current bool   `json:"current"`
}

func mustSessions(t *testing.T, c *harness.Client) []shotSession {
	t.Helper()
	resp := c.Get(t, "/.gateway/api/v1/me/sessions")
	var out struct {
		Sessions []shotSession `json:"sessions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Sessions
}
