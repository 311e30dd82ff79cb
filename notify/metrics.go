package notify

import (
	"context"
	"io"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/authgate/gateway/internal/metricname"
	"github.com/authgate/gateway/store"
)

// outboxMetrics are the worker's gateway_outbox_* series:
//
//   - gateway_outbox_sent_total{kind}: messages delivered (mail, webhook);
//   - gateway_outbox_failures_total{kind}: failed attempts, each retried until notify.max_attempts;
//   - gateway_outbox_skipped_total{reason}: messages not sent on purpose (no address, alert turned off);
//   - gateway_outbox_delivery_seconds{kind}: from the event to the delivery, retries included;
//   - gateway_outbox_messages{state}: messages waiting, read from Redis at scrape time.
type outboxMetrics struct{ set *metrics.Set }

// deliveryBuckets are the upper bounds of gateway_outbox_delivery_seconds.
var deliveryBuckets = []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600}

func newMetrics(set *metrics.Set, st *store.Store) *outboxMetrics {
	if set == nil {
		return &outboxMetrics{set: metrics.NewSet()}
	}
	// How many messages wait in each state, read at scrape time (three
	// cheap counts), so every replica reports the shared queue; nothing when
	// Redis does not answer within a second.
	set.RegisterMetricsWriter(func(w io.Writer) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		n, err := st.CountOutbox(ctx)
		if err != nil {
			return
		}
		metricname.WriteGauges(w, "gateway_outbox_messages", "state", []metricname.LabelValue{
			{Value: store.OutboxQueued, N: uint64(max(n.Queued, 0))},
			{Value: store.OutboxRetrying, N: uint64(max(n.Retrying, 0))},
			{Value: store.OutboxDead, N: uint64(max(n.Dead, 0))},
		})
	})
	return &outboxMetrics{set: set}
}

func (m *outboxMetrics) delivered(kind string, took time.Duration) {
	m.set.GetOrCreateCounter(metricname.With("gateway_outbox_sent_total", "kind", kind)).Inc()
	m.set.GetOrCreatePrometheusHistogramExt(metricname.With("gateway_outbox_delivery_seconds", "kind", kind), deliveryBuckets).Update(took.Seconds())
}

func (m *outboxMetrics) failed(kind string) {
	m.set.GetOrCreateCounter(metricname.With("gateway_outbox_failures_total", "kind", kind)).Inc()
}

func (m *outboxMetrics) skipped(reason string) {
	m.set.GetOrCreateCounter(metricname.With("gateway_outbox_skipped_total", "reason", reason)).Inc()
}
