package gateway

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

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

// mirrorCollector exposes the mirror's state at scrape time, so the request
// path and the follower pay nothing for it.
type mirrorCollector struct {
	m MirrorProbe

	state, lag, behind, lastEvent, reloads, direct, rollbacks *prometheus.Desc
}

// RegisterMirrorMetrics registers the gateway_mirror_* metrics of m on reg.
func RegisterMirrorMetrics(reg prometheus.Registerer, m MirrorProbe) {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("gateway_mirror_"+name, help, labels, nil)
	}
	reg.MustRegister(&mirrorCollector{
		m:         m,
		state:     d("state", "1 for the revocation mirror's current state, 0 for the others.", "state"),
		lag:       d("lag_entries", "Revocation feed entries in Redis not yet applied by this replica (absent while Redis does not answer)."),
		behind:    d("lag_seconds", "Seconds since this replica last confirmed it held every feed entry (about 0-1 while following)."),
		lastEvent: d("last_event_age_seconds", "Seconds since this replica last applied a feed entry (absent until it has applied one)."),
		reloads:   d("reloads_total", "Full loads of the revocation list after the first (reconnects, feed gaps, data-set changes, rollbacks)."),
		direct:    d("direct_checks_total", "Session checks sent to Redis directly because the mirror was past its staleness bound."),
		rollbacks: d("rollbacks_total", "Times the store was found gone back in time (lost feed entries or revocations) and this replica wrote back what it knew."),
	})
}

func (c *mirrorCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.state, c.lag, c.behind, c.lastEvent, c.reloads, c.direct, c.rollbacks} {
		ch <- d
	}
}

func (c *mirrorCollector) Collect(ch chan<- prometheus.Metric) {
	st := c.m.Status()
	for _, s := range store.MirrorStates {
		v := 0.0
		if s == st.State {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(c.state, prometheus.GaugeValue, v, s)
	}
	// Bounded by the store's timeout, so a hung Redis cannot hold a scrape.
	if lag, err := c.m.FeedLag(context.Background()); err == nil {
		ch <- prometheus.MustNewConstMetric(c.lag, prometheus.GaugeValue, float64(lag))
	}
	ch <- prometheus.MustNewConstMetric(c.behind, prometheus.GaugeValue, st.Behind.Seconds())
	if !st.LastEvent.IsZero() {
		ch <- prometheus.MustNewConstMetric(c.lastEvent, prometheus.GaugeValue, time.Since(st.LastEvent).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(c.reloads, prometheus.CounterValue, float64(st.Reloads))
	ch <- prometheus.MustNewConstMetric(c.direct, prometheus.CounterValue, float64(st.DirectChecks))
	ch <- prometheus.MustNewConstMetric(c.rollbacks, prometheus.CounterValue, float64(st.Rollbacks))
}
