package axetest

import (
	"context"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Mode is one way a page is looked at: a screen size and a colour scheme.
type Mode struct {
	Name          string
	Width, Height int64
	Dark          bool
}

// Modes are the ways every page is checked: light and dark at a desktop's
// 1280 px and a phone's 390 px.
var Modes = []Mode{
	{"1280 px light", 1280, 900, false},
	{"1280 px dark", 1280, 900, true},
	{"390 px light", 390, 844, false},
	{"390 px dark", 390, 844, true},
}

// widestElements lists what sticks out past the viewport, to say why a
// page scrolls sideways.
const widestElements = `Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .slice(-5).map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ').join('.') : '') +
    ' ' + Math.round(e.getBoundingClientRect().right) + 'px')`

// CheckModes runs axe-core (src, from Load) on the page the tab of ctx
// shows in each of Modes, and fails tb on any serious or critical
// violation, on a page wider than a 390 px phone, or on the same
// background in light and dark mode (no dark mode). page names the page
// in failures.
func CheckModes(tb testing.TB, ctx context.Context, src, page string) {
	tb.Helper()
	backgrounds := map[bool]string{}
	for _, v := range Modes {
		scheme := "light"
		if v.Dark {
			scheme = "dark"
		}
		err := chromedp.Do(ctx,
			chromedp.EmulateViewport(v.Width, v.Height),
			chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
					Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
				})
				return err
			}),
		)
		if err != nil {
			tb.Fatalf("%s, %s: emulate: %v", page, v.Name, err)
		}
		bg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.body).backgroundColor`))
		if err != nil {
			tb.Fatal(err)
		}
		backgrounds[v.Dark] = bg
		violations, err := Check(ctx, src)
		if err != nil {
			tb.Fatalf("%s, %s: run axe-core: %v", page, v.Name, err)
		}
		for _, vi := range violations {
			tb.Errorf("%s, %s: %s", page, v.Name, vi)
		}
		if v.Width < 1000 {
			sw, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth`))
			if err != nil {
				tb.Fatal(err)
			}
			if sw > v.Width {
				wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](widestElements))
				tb.Errorf("%s, %s: the page is %d px wide and scrolls sideways; too wide: %v", page, v.Name, sw, wide)
			}
		}
	}
	if backgrounds[false] == backgrounds[true] {
		tb.Errorf("%s: the same background (%s) in light and dark mode", page, backgrounds[false])
	}
}
