package gateway_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// BenchmarkProxyAssertion is BenchmarkProxy's gateway case with the signed
// identity on: after the first request the assertion comes from the
// cache. The upstream runs in this process and parses (and echoes) every
// header it gets, so the case without the assertion sends a header of the
// same size from the client instead: allocs/op then differ only by what
// the gateway itself spends, which should be nothing.
func BenchmarkProxyAssertion(b *testing.B) {
	for _, on := range []bool{false, true} {
		g := harness.Start(b, harness.Options{Configure: func(c *config.Config) {
			off, _ := config.ParseRate("off")
			c.RateLimit.PerSession = off
			c.Assertion.Enabled = on
		}})
		u := g.CreateUser(b, "bench")
		rec := httptest.NewRecorder()
		if _, err := g.Sessions.Issue(b.Context(), rec, store.IssueOptions{UserID: u.ID, IP: "127.0.0.1"}); err != nil {
			b.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodGet, "/app/page", nil)
		req.RemoteAddr = "127.0.0.1:40000"
		req.Host = strings.TrimPrefix(g.URL, "http://")
		req.AddCookie(rec.Result().Cookies()[0])
		if !on {
			req.Header.Set("X-Pad", strings.Repeat("x", 760)) // about an assertion's size
		}
		name := "gateway"
		if on {
			name = "gateway+assertion"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				g.Handler.ServeHTTP(w, req.Clone(req.Context()))
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
		})
	}
}
