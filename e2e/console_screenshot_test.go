package e2e

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	otptotp "github.com/pquerna/otp/totp"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/browsertest"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// TestConsoleScreenshot fills a gateway with sign-ins, failures, limits,
// locks and staff actions, and saves the support console's home page as
// docs/console.png (1100 px, light) and docs/console-phone.png (390 px,
// dark) for the README. It runs only with GATEWAY_TEST_SCREENSHOT=1:
//
//	GATEWAY_TEST_SCREENSHOT=1 go test ./e2e -run TestConsoleScreenshot
func TestConsoleScreenshot(t *testing.T) {
	if os.Getenv("GATEWAY_TEST_SCREENSHOT") != "1" {
		t.Skip("set GATEWAY_TEST_SCREENSHOT=1 to write docs/console.png")
	}
	g := staffGateway(t, "support,admin", func(c *config.Config) {
		c.TrustedProxies = []string{"127.0.0.0/8"} // the sign-ins below come "from" other addresses
		c.Throttle.PasswordIP.Free = 3
		c.Throttle.PasswordIP.Base = config.Duration{Duration: 10 * time.Minute} // still in force when the picture is taken
	})
	alice := g.CreateUser(t, "alice", "admin")
	secret := staffEnrolTOTP(t, g, alice)
	ctx := context.Background()
	people := []string{"maria.santos", "j.okafor", "li.wei", "sam.taylor", "priya.n", "tom.becker"}
	for i, name := range people {
		g.CreateUser(t, name)
		for d := range 1 + i%3 {
			g.NewPortalClient(t).PostForm(t, "/.gateway/login", url.Values{"username": {name}, "password": {harness.TestPassword}, "rd": {"/"}},
				"X-Forwarded-For", fmt.Sprintf("198.51.100.%d", 10+d)).Body.Close()
		}
	}
	for range 6 { // someone guessing from one address
		g.NewPortalClient(t).PostForm(t, "/.gateway/login", url.Values{"username": {"admin"}, "password": {"password123456"}, "rd": {"/"}},
			"X-Forwarded-For", "203.0.113.66").Body.Close()
	}
	on, staffLock, adminLock := true, store.LockStaff, store.LockAdmin
	for name, kind := range map[string]*string{"sam.taylor": &staffLock, "tom.becker": &adminLock} {
		u, err := g.Store.FindUserByName(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := g.Store.UpdateUser(ctx, u.ID, store.UserUpdate{Disabled: &on, Lock: kind}); err != nil {
			t.Fatal(err)
		}
		if err := g.Store.AppendAudit(ctx, store.AuditEntry{Actor: "alice", ActorRole: "admin", Action: map[string]string{store.LockStaff: store.AuditLock, store.LockAdmin: store.AuditDisable}[*kind],
			Target: name, TargetID: u.ID, Reason: "reported a stolen laptop, ticket 4412", IP: "192.0.2.10"}); err != nil {
			t.Fatal(err)
		}
	}
	// The past day: counts as the store keeps them (one hash per hour,
	// store/dashboard.go), so the chart has a day's shape in it.
	now := time.Now().Unix() / 3600
	for h := int64(1); h < 24; h++ {
		key := "gw:stats:h:" + strconv.FormatInt(now-h, 10)
		in := 4 + (h*7)%11
		if h > 9 && h < 16 {
			in /= 3 // night
		}
		g.Store.Client().HSet(ctx, key, "sign_in", in, "sign_in_failed", (h*5)%4+map[bool]int64{true: 9, false: 0}[h == 6])
		g.Store.Client().Expire(ctx, key, 2*time.Hour)
	}

	b := browsertest.NewFor(t, 2*time.Minute)
	p := g.PortalURL + "/.gateway"
	if err := chromedp.Do(b, chromedp.EmulateViewport(1100, 900), chromedp.Navigate(p+"/login?rd=%2F.gateway%2Fadmin"),
		chromedp.SendKeys(chromedp.ID("username"), "alice"), chromedp.SendKeys(chromedp.ID("password"), harness.TestPassword)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(b, chromedp.Click(chromedp.ID("submit"))); err != nil {
		t.Fatal(err)
	}
	code, _ := otptotp.GenerateCode(secret, time.Now())
	if err := chromedp.Do(b, chromedp.SendKeys(chromedp.ID("code"), code)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(b, chromedp.Click(chromedp.CSS("main button[type=submit]"))); err != nil {
		t.Fatal(err)
	}
	shot := func(file string, width int64, dark bool) {
		t.Helper()
		scheme := map[bool]string{true: "dark", false: "light"}[dark]
		err := chromedp.Do(b, chromedp.EmulateViewport(width, 900),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
				})
				return err
			}),
			chromedp.Navigate(p+"/admin"))
		if err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(b, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join("..", "docs", file), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	shot("console.png", 1100, false)
	shot("console-phone.png", 390, true)
}
