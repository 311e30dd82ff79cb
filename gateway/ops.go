package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/VictoriaMetrics/metrics"
)

// ReadyTimeout bounds /readyz: it answers within this even when Redis hangs.
const ReadyTimeout = time.Second

// OpsDeps are what the ops listener reports on.
type OpsDeps struct {
	Mirror MirrorProbe
	// Metrics are the gateway's own series; /metrics adds the Go runtime's
	// and the process's (go_*, process_*).
	Metrics *metrics.Set
	Pprof   bool
}

// Readiness is the JSON body of /readyz.
type Readiness struct {
	Ready bool `json:"ready"`
	// Redis is "ok", "unreachable" or "timeout", from one read of the slot
	// every request path depends on.
	Redis  string          `json:"redis"`
	Mirror MirrorReadiness `json:"mirror"`
}

// MirrorReadiness is the revocation mirror's part of /readyz.
type MirrorReadiness struct {
	State string `json:"state"`
	// Lag is feed entries not applied yet; null when Redis does not answer.
	Lag *int64 `json:"lag"`
	// LagSeconds is the time since the mirror last confirmed it was current.
	LagSeconds float64 `json:"lag_seconds"`
	// LastEventAgeSeconds is the time since a feed entry was last applied;
	// null until one has been.
	LastEventAgeSeconds *float64 `json:"last_event_age_seconds"`
}

// OpsHandler serves /healthz (the process is up), /readyz (Redis answers and
// the revocation mirror is current; JSON detail), /metrics and, when
// enabled, pprof.
func OpsHandler(d OpsDeps) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
		defer cancel()
		body := readiness(ctx, d.Mirror)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if !body.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(body)
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		d.Metrics.WritePrometheus(w)
		// The Go runtime's and the process's series, open files included
		// (the library's WriteProcessMetrics leaves those out and adds its
		// push-mode counters, which the gateway does not use).
		metrics.WriteGoMetrics(w)
		metrics.WriteProcMetrics(w)
		metrics.WriteFDMetrics(w)
	})
	if d.Pprof {
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	return mux
}

func readiness(ctx context.Context, m MirrorProbe) Readiness {
	var out Readiness
	lag, err := m.FeedLag(ctx)
	switch {
	case err == nil:
		out.Redis = "ok"
		out.Mirror.Lag = &lag
	case ctx.Err() != nil || isTimeout(err):
		out.Redis = "timeout"
	default:
		out.Redis = "unreachable"
	}
	st := m.Status()
	out.Mirror.State = st.State
	out.Mirror.LagSeconds = st.Behind.Seconds()
	if !st.LastEvent.IsZero() {
		age := time.Since(st.LastEvent).Seconds()
		out.Mirror.LastEventAgeSeconds = &age
	}
	out.Ready = err == nil && m.Ready()
	return out
}

// isTimeout reports a network or context timeout.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &t) && t.Timeout())
}
