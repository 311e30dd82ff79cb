package gateway

import (
	"context"
	"io"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/authgate/gateway/internal/metricname"
	"github.com/authgate/gateway/store"
)

// MirrorProbe is what the ops listener reads from the revocation mirror.
type MirrorProbe interface {
	// Ready reports whether the mirror is current.
	Ready() bool
	// Status returns the state and counters without a Redis call.
	Status() store.MirrorStatus
	// FeedLag reads from Redis how many feed entries are not applied yet.
	FeedLag(ctx context.Context) (int64, error)
}

var _ MirrorProbe = (*store.Mirror)(nil)

// RegisterMirrorMetrics adds the gateway_mirror_* metrics of m to set. They
// are read at scrape time, so the request path and the follower pay
// nothing for them:
//
//   - gateway_mirror_state{state}: 1 for the mirror's current state, 0 for the others;
//   - gateway_mirror_lag_entries: feed entries in Redis not yet applied (absent while Redis does not answer);
//   - gateway_mirror_lag_seconds: since this replica last confirmed it held every feed entry;
//   - gateway_mirror_last_event_age_seconds: since it last applied a feed entry (absent until then);
//   - gateway_mirror_reloads_total: full loads of the revocation list after the first;
//   - gateway_mirror_direct_checks_total: checks sent to Redis because the mirror was past its bound;
//   - gateway_mirror_rollbacks_total: times the store was found gone back in time and this replica wrote back what it knew.
func RegisterMirrorMetrics(set *metrics.Set, m MirrorProbe) {
	set.RegisterMetricsWriter(func(w io.Writer) {
		st := m.Status()
		states := make([]metricname.LabelValue, 0, len(store.MirrorStates))
		for _, s := range store.MirrorStates {
			v := uint64(0)
			if s == st.State {
				v = 1
			}
			states = append(states, metricname.LabelValue{Value: s, N: v})
		}
		metricname.WriteGauges(w, "gateway_mirror_state", "state", states)
		// Bounded by the store's timeout, so a hung Redis cannot hold a scrape.
		if lag, err := m.FeedLag(context.Background()); err == nil {
			metrics.WriteGaugeUint64(w, "gateway_mirror_lag_entries", uint64(max(lag, 0)))
		}
		metrics.WriteGaugeFloat64(w, "gateway_mirror_lag_seconds", st.Behind.Seconds())
		if !st.LastEvent.IsZero() {
			metrics.WriteGaugeFloat64(w, "gateway_mirror_last_event_age_seconds", time.Since(st.LastEvent).Seconds())
		}
		metrics.WriteCounterUint64(w, "gateway_mirror_reloads_total", uint64(st.Reloads))
		metrics.WriteCounterUint64(w, "gateway_mirror_direct_checks_total", uint64(st.DirectChecks))
		metrics.WriteCounterUint64(w, "gateway_mirror_rollbacks_total", uint64(st.Rollbacks))
	})
}
