package e2e

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// rlRate is n requests per second.
func rlRate(n int) config.Rate { return config.Rate{Events: n, Per: time.Second} }

// rlGet fetches path and returns status, Retry-After and the body closed.
func rlGet(t *testing.T, c *harness.Client, path string, header ...string) (int, string) {
	t.Helper()
	resp := c.Get(t, path, header...)
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// rlUntilLimited makes requests until one is refused and returns how many
// passed; it fails the test if none is refused within max.
func rlUntilLimited(t *testing.T, c *harness.Client, path string, max int, header ...string) int {
	t.Helper()
	for i := range max {
		status, retry := rlGet(t, c, path, header...)
		if status == http.StatusTooManyRequests {
			if s, err := strconv.Atoi(retry); err != nil || s < 1 {
				t.Fatalf("429 with Retry-After %q, want whole seconds ≥ 1", retry)
			}
			return i
		}
		if status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, status)
		}
	}
	t.Fatalf("%d requests to %s in a row and none refused", max, path)
	return 0
}

func TestRateLimitPerSession(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.RateLimit.PerSession, c.RateLimit.SessionBurst = rlRate(1), 5
	}})
	g.CreateUser(t, "erin")
	g.CreateUser(t, "finn")
	erin, finn := g.NewClient(t), g.NewClient(t)
	erin.Login(t, "erin", harness.TestPassword)
	finn.Login(t, "finn", harness.TestPassword)

	// The burst passes (a request may slip in as the bucket refills).
	if n := rlUntilLimited(t, erin, "/app", 20); n < 5 || n > 6 {
		t.Fatalf("%d requests passed before the first 429, want the burst of 5", n)
	}
	// An API client gets JSON, a browser a page saying when to try again.
	resp := erin.Get(t, "/app")
	var body struct{ Error, Code string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusTooManyRequests || body.Code != "rate_limited" {
		t.Fatalf("limited API request: %d %+v %v", resp.StatusCode, body, err)
	}
	resp = erin.Get(t, "/app", "Accept", "text/html")
	doc, _ := goquery.NewDocumentFromReader(resp.Body)
	if msg := strings.TrimSpace(doc.Find("#message").Text()); resp.StatusCode != http.StatusTooManyRequests || msg != "Too many requests. Try again in 1 second." {
		t.Fatalf("limited browser request: %d %q", resp.StatusCode, msg)
	}
	// Another session is not affected, even from the same address.
	if status, _ := rlGet(t, finn, "/app"); status != http.StatusOK {
		t.Fatalf("another session: %d", status)
	}
	// The bucket refills: about one request a second.
	deadline := time.Now().Add(3 * time.Second)
	for {
		status, _ := rlGet(t, erin, "/app")
		if status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still limited 3 s later at 1 request/s")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n := thrMetric(t, g, `gateway_throttled_total{kind="request_session"}`); n < 3 {
		t.Errorf("request_session throttles counted: %v, want ≥ 3", n)
	}
	if n := thrMetric(t, g, `gateway_requests_total{outcome="rate_limited"}`); n < 3 {
		t.Errorf("rate_limited requests counted: %v, want ≥ 3", n)
	}
}

func TestRateLimitPublicPathsPerClientNotEvadedByForwardedFor(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.PublicPaths = []string{"/public/"}
		c.RateLimit.PerIP, c.RateLimit.IPBurst = rlRate(1), 4
	}})
	c := g.NewClient(t)
	// Every request claims another address; the peer is not a trusted
	// proxy, so all count against the one real client.
	for i := range 4 {
		if status, _ := rlGet(t, c, "/public/page", "X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1)); status != http.StatusOK {
			t.Fatalf("request %d of the burst: %d", i+1, status)
		}
	}
	if status, retry := rlGet(t, g.NewClient(t), "/public/page", "X-Forwarded-For", "203.0.113.99"); status != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("5th anonymous request with a new X-Forwarded-For: %d Retry-After %q, want 429", status, retry)
	}
	if n := thrMetric(t, g, `gateway_throttled_total{kind="request_ip"}`); n != 1 {
		t.Errorf("request_ip throttles counted: %v, want 1", n)
	}
}

func TestRateLimitPerRoute(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) {
		c.Routes = []config.Route{
			{PathPrefix: "/api/", Upstream: c.Upstream, RateLimit: config.RouteRateLimit{PerSession: rlRate(1), SessionBurst: 2}},
			{PathPrefix: "/", Upstream: c.Upstream},
		}
	}})
	g.CreateUser(t, "gus")
	c := g.NewClient(t)
	c.Login(t, "gus", harness.TestPassword)
	if n := rlUntilLimited(t, c, "/api/items", 10); n < 2 || n > 3 {
		t.Fatalf("%d requests passed on /api/ before the first 429, want its burst of 2", n)
	}
	// The rest of the app keeps the generous global limit.
	for i := range 20 {
		if status, _ := rlGet(t, c, "/page"); status != http.StatusOK {
			t.Fatalf("request %d outside /api/: %d", i+1, status)
		}
	}
}

func TestRateLimitDefaultsAreGenerous(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "hal")
	c := g.NewClient(t)
	c.Login(t, "hal", harness.TestPassword)
	// A page with many assets loads at once: 60 requests well within the
	// default burst of 100 per session.
	for i := range 60 {
		if status, _ := rlGet(t, c, "/asset/"+strconv.Itoa(i)); status != http.StatusOK {
			t.Fatalf("request %d: %d", i+1, status)
		}
	}
}
