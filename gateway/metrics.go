package gateway

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/authgate/gateway/store/attempts"
)

// Metrics are the gateway's Prometheus instruments, registered on a registry
// the caller owns (no global state).
type Metrics struct {
	Requests  *prometheus.CounterVec
	Latency   prometheus.Histogram
	SignIns   *prometheus.CounterVec
	Throttled *prometheus.CounterVec

	// outcomes are the Requests children, looked up once: WithLabelValues
	// hashes and locks on every call, too much for the hot path.
	outcomes map[string]prometheus.Counter
	// throttled are the Throttled children, by kind, looked up once too.
	throttled map[string]prometheus.Counter
}

// CountThrottled adds one attempt or request refused by a limit of the
// given kind (see gateway_throttled_total).
func (m *Metrics) CountThrottled(kind string) {
	if c, ok := m.throttled[kind]; ok {
		c.Inc()
		return
	}
	m.Throttled.WithLabelValues(kind).Inc()
}

// count adds one request with the given outcome.
func (m *Metrics) count(outcome string) { m.outcomes[outcome].Inc() }

// Outcomes of a proxied request, the label of gateway_requests_total.
const (
	outcomeProxied     = "proxied"
	outcomePublic      = "public"
	outcomeUnauth      = "unauthenticated"
	outcomeRevoked     = "revoked"
	outcomeUnavailable = "unavailable"
	outcomeLimited     = "rate_limited"
	outcomeForbidden   = "forbidden" // a route's rules keep the person out (rules.go)
	outcomeStepUp      = "step_up"   // a second factor or the password is due first
)

// NewMetrics creates and registers the gateway's instruments on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_requests_total", Help: "Requests to protected and public upstream paths by outcome.",
		}, []string{"outcome"}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "gateway_request_duration_seconds", Help: "Time to answer proxied requests, upstream included.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}),
		SignIns: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_signins_total", Help: "Sign-in attempts by result.",
		}, []string{"result"}),
		Throttled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_throttled_total", Help: "Attempts refused by brute-force limits and rate limits, by kind.",
		}, []string{"kind"}),
	}
	reg.MustRegister(m.Requests, m.Latency, m.SignIns, m.Throttled)
	m.outcomes = map[string]prometheus.Counter{}
	for _, o := range []string{outcomeProxied, outcomePublic, outcomeUnauth, outcomeRevoked, outcomeUnavailable, outcomeLimited, outcomeForbidden, outcomeStepUp} {
		m.outcomes[o] = m.Requests.WithLabelValues(o)
	}
	m.throttled = map[string]prometheus.Counter{}
	for _, k := range []string{string(attempts.KindPasswordAccount), string(attempts.KindPasswordIP), string(attempts.KindMFA), kindRequestSession, kindRequestIP} {
		m.throttled[k] = m.Throttled.WithLabelValues(k)
	}
	return m
}
