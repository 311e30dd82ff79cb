package axetest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/authgate/gateway/internal/testkit/axetest"
	"github.com/authgate/gateway/internal/testkit/browsertest"
)

// TestCheckFindsWhatIsBroken: a page with an image without text, grey on
// grey text and an unlabelled field gets those violations; the same page
// fixed gets none. So a clean result of the page tests means something.
func TestCheckFindsWhatIsBroken(t *testing.T) {
	axe := axetest.Load(t)
	pages := map[string]string{
		"/broken": `<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main><h1>Hi</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<p style="color:#aaa;background:#bbb">hard to read</p><input type="text"></main></body></html>`,
		"/fixed": `<!DOCTYPE html><html lang="en"><head><title>t</title></head><body><main><h1>Hi</h1>
<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="dot">
<p style="color:#222;background:#fff">easy to read</p><label for="f">Name</label><input id="f" type="text"></main></body></html>`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(pages[r.URL.Path]))
	}))
	defer srv.Close()
	ctx := browsertest.New(t)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/broken")); err != nil {
		t.Fatal(err)
	}
	vs, err := axetest.Check(ctx, axe)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
	}
	for _, want := range []string{"image-alt", "color-contrast", "label"} {
		if !strings.Contains(strings.Join(ids, " "), want) {
			t.Errorf("broken page: violations %v lack %s", ids, want)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/fixed")); err != nil {
		t.Fatal(err)
	}
	if vs, err := axetest.Check(ctx, axe); err != nil || len(vs) != 0 {
		t.Errorf("fixed page: %v %v, want no violation", vs, err)
	}
}
