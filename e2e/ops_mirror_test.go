package e2e

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

// /readyz explains itself in JSON, and /metrics shows the mirror: its
// state, its lag behind the feed, the age of the last change it applied
// (here, a sign-out made on the other replica) and its counters.
func TestReadyzDetailAndMirrorMetrics(t *testing.T) {
	a, b := twoReplicas(t, redistest.Start(t))
	code, r, _ := readyz(t, b)
	if code != http.StatusOK || !r.Ready || r.Redis != "ok" || r.Mirror.State != "following" || r.Mirror.Lag == nil || *r.Mirror.Lag != 0 {
		t.Fatalf("/readyz: %d %+v", code, r)
	}
	if r.Mirror.LastEventAgeSeconds != nil {
		t.Errorf("last event age %v before any change", *r.Mirror.LastEventAgeSeconds)
	}
	_, m := opsGet(t, b, "/metrics")
	if strings.Contains(m, "gateway_mirror_last_event_age_seconds ") {
		t.Error("last event age exposed before any change")
	}

	onA, onB, _ := signedInOnBoth(t, a, b, "alice")
	resp := onA.PostForm(t, "/.gateway/logout", nil)
	resp.Body.Close()
	refusedWithin(t, onB, 2*time.Second, "sign-out on A")

	code, r, _ = readyz(t, b)
	if code != http.StatusOK || r.Mirror.LastEventAgeSeconds == nil || *r.Mirror.LastEventAgeSeconds > 5 || *r.Mirror.Lag != 0 {
		t.Errorf("/readyz after a change: %d %+v", code, r)
	}
	_, m = opsGet(t, b, "/metrics")
	for sample, want := range map[string]float64{
		`gateway_mirror_state{state="following"}`:    1,
		`gateway_mirror_state{state="redis_down"}`:   0,
		`gateway_mirror_lag_entries`:                 0,
		`gateway_mirror_reloads_total`:               0,
		`gateway_mirror_direct_checks_total`:         0,
		`gateway_mirror_rollbacks_total`:             0,
		`gateway_mirror_state{state="reloading"}`:    0,
		`gateway_mirror_state{state="stale"}`:        0,
		`gateway_mirror_state{state="direct_check"}`: 0,
	} {
		if v := metricValue(t, m, sample); v != want {
			t.Errorf("%s = %v, want %v", sample, v, want)
		}
	}
	if v := metricValue(t, m, "gateway_mirror_last_event_age_seconds"); v < 0 || v > 5 {
		t.Errorf("last event age %v s right after a change", v)
	}
	if v := metricValue(t, m, "gateway_mirror_lag_seconds"); v < 0 || v > 3 {
		t.Errorf("lag %v s while following", v)
	}
}
