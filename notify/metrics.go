package notify

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/gateway/store"
)

type metrics struct {
	sent, failed, skipped *prometheus.CounterVec
	latency               *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer, st *store.Store) *metrics {
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_outbox_sent_total", Help: "Outbox messages delivered, by kind (mail, webhook).",
		}, []string{"kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_outbox_failures_total", Help: "Failed delivery attempts (each is retried until notify.max_attempts), by kind.",
		}, []string{"kind"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_outbox_skipped_total", Help: "Outbox messages not sent on purpose (no address, alert turned off), by reason.",
		}, []string{"reason"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_outbox_delivery_seconds", Help: "Time from an event to the delivery of its message, retries included, by kind.",
			Buckets: []float64{.01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600},
		}, []string{"kind"}),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failed, m.skipped, m.latency, &queueCollector{st: st})
	}
	return m
}

// queueCollector reports how many messages wait in each state, read from
// Redis at scrape time (three cheap counts), so every replica reports the
// shared queue.
type queueCollector struct{ st *store.Store }

var queueDesc = prometheus.NewDesc("gateway_outbox_messages",
	"Outbox messages waiting, by state: queued (new or being sent), retrying (after a failure), dead (given up; send again from the console).",
	[]string{"state"}, nil)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) { ch <- queueDesc }

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	n, err := c.st.CountOutbox(ctx)
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n.Queued), store.OutboxQueued)
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n.Retrying), store.OutboxRetrying)
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(n.Dead), store.OutboxDead)
}
