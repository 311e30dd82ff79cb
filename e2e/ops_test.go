package e2e

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/internal/testkit/redistest"
	"github.com/authgate/gateway/store"
)

// opsGet fetches a path of the ops listener.
func opsGet(t *testing.T, g *harness.Gateway, path string) (int, string) {
	t.Helper()
	resp, err := http.Get(g.OpsURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// pollOps waits until an ops path answers want.
func pollOps(t *testing.T, g *harness.Gateway, path string, want int, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		code, body := opsGet(t, g, path)
		if code == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still %d (%q) after %v, want %d", path, code, body, d, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// metricValue returns the value of one sample in Prometheus text format.
func metricValue(t *testing.T, metrics, sample string) float64 {
	t.Helper()
	re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(sample) + ` ([0-9.e+-]+)$`)
	m := re.FindStringSubmatch(metrics)
	if m == nil {
		t.Fatalf("metric %s not exposed", sample)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestOpsHealthReadinessAndMetrics(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	if code, _ := opsGet(t, g, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
	if code, _ := opsGet(t, g, "/readyz"); code != http.StatusOK {
		t.Errorf("/readyz: %d", code)
	}
	c := g.NewClient(t)
	codeOf(t, c, "/app") // unauthenticated
	resp := signIn(t, c, "alice", "not the right password at all", "/")
	resp.Body.Close()
	c.Login(t, "alice", harness.TestPassword)
	codeOf(t, c, "/app")
	codeOf(t, c, "/app")

	_, m := opsGet(t, g, "/metrics")
	if v := metricValue(t, m, `gateway_requests_total{outcome="proxied"}`); v != 2 {
		t.Errorf("proxied requests = %v, want 2", v)
	}
	if v := metricValue(t, m, `gateway_requests_total{outcome="unauthenticated"}`); v != 1 {
		t.Errorf("unauthenticated requests = %v, want 1", v)
	}
	if v := metricValue(t, m, `gateway_signins_total{result="success"}`); v != 1 {
		t.Errorf("successful sign-ins = %v, want 1", v)
	}
	if v := metricValue(t, m, `gateway_signins_total{result="failed"}`); v != 1 {
		t.Errorf("failed sign-ins = %v, want 1", v)
	}
	if v := metricValue(t, m, `gateway_request_duration_seconds_count`); v != 3 {
		t.Errorf("latency observations = %v, want 3", v)
	}
	if !strings.Contains(m, `gateway_request_duration_seconds_bucket{le="0.005"}`) {
		t.Error("latency histogram buckets missing")
	}
	for _, line := range []string{"# TYPE gateway_request_duration_seconds histogram", "# TYPE gateway_requests_total counter", "# TYPE gateway_mirror_state gauge"} {
		if !strings.Contains(m, line+"\n") {
			t.Errorf("/metrics lacks %q", line)
		}
	}
	// Prometheus' own parser reads the whole page: one TYPE line per
	// family, every sample well formed (it refuses a second TYPE line).
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(strings.NewReader(m))
	if err != nil {
		t.Fatalf("Prometheus cannot read /metrics: %v", err)
	}
	for name, typ := range map[string]dto.MetricType{
		"gateway_requests_total": dto.MetricType_COUNTER, "gateway_request_duration_seconds": dto.MetricType_HISTOGRAM,
		"gateway_mirror_state": dto.MetricType_GAUGE, "gateway_outbox_messages": dto.MetricType_GAUGE,
	} {
		if f := families[name]; f == nil || f.GetType() != typ {
			t.Errorf("family %s: %v, want type %v", name, f, typ)
		}
	}
	if f := families["gateway_mirror_state"]; f != nil && len(f.GetMetric()) != len(store.MirrorStates) {
		t.Errorf("gateway_mirror_state has %d series, want one per state", len(f.GetMetric()))
	}
	// The Go runtime's and the process's own series are there too.
	if v := metricValue(t, m, "process_resident_memory_bytes"); v < 1e6 {
		t.Errorf("process_resident_memory_bytes = %v", v)
	}
	if v := metricValue(t, m, "go_memstats_heap_alloc_bytes"); v < 1e5 {
		t.Errorf("go_memstats_heap_alloc_bytes = %v", v)
	}
	// The rest the README lists: goroutines, collections, CPU seconds,
	// resident memory split into anonymous and file pages, open files.
	for _, name := range []string{"go_goroutines", "go_gc_duration_seconds", "process_cpu_seconds_total",
		"process_resident_memory_anon_bytes", "process_resident_memory_file_bytes", "process_open_fds"} {
		if f := families[name]; f == nil || len(f.GetMetric()) == 0 {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// The ops listener serves nothing else, and the public one no metrics.
	if code, _ := opsGet(t, g, "/.gateway/login"); code != http.StatusNotFound {
		t.Errorf("ops listener serves the login page: %d", code)
	}
	if code := codeOf(t, g.NewClient(t), "/metrics"); code == http.StatusOK {
		t.Error("/metrics is reachable on the public listener without a session")
	}
}

func TestRedisOutageFailsClosedAndRecovers(t *testing.T) {
	t.Parallel() // waits on background timers; let other tests run meanwhile
	srv := redistest.StartPersistent(t)
	g := harness.Start(t, harness.Options{Redis: srv, Configure: func(c *config.Config) { c.PublicPaths = []string{"/public/"} }})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)
	if code := codeOf(t, c, "/app"); code != http.StatusOK {
		t.Fatalf("before the outage: %d", code)
	}

	srv.Stop(t)
	pollOps(t, g, "/readyz", http.StatusServiceUnavailable, 5*time.Second)
	// Within the mirror's staleness bound requests are still checked
	// locally; past it they must fail closed: 503, never 200, never a
	// redirect to a login page that cannot work.
	pollCode(t, c, "/app", http.StatusServiceUnavailable, 10*time.Second)
	resp := c.Get(t, "/app", "Accept", "text/html")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "unavailable") {
		t.Errorf("browser during the outage: %d %.200s", resp.StatusCode, body)
	}
	if resp.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	if code := codeOf(t, c, "/.gateway/auth"); code != http.StatusServiceUnavailable {
		t.Errorf("forward-auth during the outage: %d", code)
	}
	// Sign-in cannot work either, and says so.
	resp = signIn(t, g.NewClient(t), "alice", harness.TestPassword, "/")
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("sign-in during the outage: %d", resp.StatusCode)
	}
	// Public paths need no session and keep working, anonymously.
	e, resp := c.Echo(t, "/public/x")
	if e == nil || e.Header.Get("X-Forwarded-User") != "" {
		t.Errorf("public path during the outage: %d %+v", resp.StatusCode, e)
	}
	if code, _ := opsGet(t, g, "/healthz"); code != http.StatusOK {
		t.Errorf("/healthz during the outage: %d (the process is alive)", code)
	}

	srv.Restart(t)
	pollOps(t, g, "/readyz", http.StatusOK, 10*time.Second)
	pollCode(t, c, "/app", http.StatusOK, 10*time.Second)
	fresh := g.NewClient(t)
	fresh.Login(t, "alice", harness.TestPassword)

	_, m := opsGet(t, g, "/metrics")
	if v := metricValue(t, m, `gateway_requests_total{outcome="unavailable"}`); v < 1 {
		t.Errorf("unavailable requests not counted: %v", v)
	}
}

func TestLoginRefusedWhenRedisIsDown(t *testing.T) {
	t.Parallel() // waits on background timers; let other tests run meanwhile
	srv := redistest.StartPersistent(t)
	g := harness.Start(t, harness.Options{Redis: srv})
	g.CreateUser(t, "alice")
	srv.Stop(t)
	c := g.NewClient(t)
	resp := c.PostForm(t, "/.gateway/login", url.Values{"username": {"alice"}, "password": {harness.TestPassword}})
	if resp.StatusCode != http.StatusServiceUnavailable || c.SessionCookie() != "" {
		t.Errorf("sign-in with redis down: %d, cookie set: %v", resp.StatusCode, c.SessionCookie() != "")
	}
}

// ops.pprof mounts the profiles on the ops listener, and only there; off
// (the default) they are not served at all.
func TestPprofOnlyWhenTurnedOn(t *testing.T) {
	srv := redistest.Start(t)
	off := harness.Start(t, harness.Options{Redis: srv})
	if code, _ := opsGet(t, off, "/debug/pprof/"); code != http.StatusNotFound {
		t.Errorf("/debug/pprof/ with ops.pprof off: %d, want 404", code)
	}
	on := harness.Start(t, harness.Options{Redis: srv, Configure: func(c *config.Config) { c.Ops.Pprof = true }})
	if code, body := opsGet(t, on, "/debug/pprof/"); code != http.StatusOK || !strings.Contains(body, "goroutine") {
		t.Errorf("/debug/pprof/ with ops.pprof on: %d", code)
	}
	// A heap profile as `go tool pprof` fetches it: gzipped protobuf.
	if code, body := opsGet(t, on, "/debug/pprof/heap?gc=1"); code != http.StatusOK || !strings.HasPrefix(body, "\x1f\x8b") {
		t.Errorf("/debug/pprof/heap: %d, %d bytes not gzipped", code, len(body))
	}
	if code := codeOf(t, on.NewClient(t), "/debug/pprof/"); code == http.StatusOK {
		t.Error("/debug/pprof/ is served on the public listener")
	}
}
