package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/axetest"
	"github.com/authgate/gateway/internal/testkit/browsertest"
)

// TestDemoPagesAreAccessible checks the two pages `gateway demo` serves of
// its own, as the gateway's pages are checked (axe-core in light and dark
// mode at 1280 and 390 px, nothing wider than a phone): the demo app after
// signing in in Chromium, showing the identity headers the gateway sent,
// and the demo mailbox with the new-device alert a second sign-in mails.
func TestDemoPagesAreAccessible(t *testing.T) {
	axe := axetest.Load(t)
	d := startDemo(t)
	ctx := browsertest.NewFor(t, 2*time.Minute)
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	step("sign in", chromedp.Navigate(d.base+"/"),
		chromedp.SendKeys(chromedp.ID("username"), "demo"), chromedp.SendKeys(chromedp.ID("password"), d.password))
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("submit"))); err != nil {
		t.Fatalf("submit: %v", err)
	}
	if who, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("user"))); err != nil || who != "demo" {
		t.Fatalf("after signing in the demo app says %q (%v), want demo", who, err)
	}
	axetest.CheckModes(t, ctx, axe, "demo app")

	// A sign-in from another browser mails a new-device alert.
	jar, _ := cookiejar.New(nil)
	other := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	req, _ := http.NewRequest(http.MethodPost, d.portal+"/.gateway/login",
		strings.NewReader(url.Values{"username": {"demo"}, "password": {d.password}, "rd": {"/"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", d.portal)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0")
	resp, err := other.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		step("open the mailbox", chromedp.Navigate(d.mail))
		if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("article.mail").length`)); n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no mail in the demo mailbox after a sign-in from a new browser")
		}
	}
	axetest.CheckModes(t, ctx, axe, "demo mailbox with a new-device alert")
	d.stopAndWait(t)
}
