package gateway

import (
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/authgate/gateway/internal/metricname"
	"github.com/authgate/gateway/store/attempts"
)

// Metrics are the gateway's Prometheus instruments, on a metrics set the
// caller owns (no global state).
type Metrics struct {
	set *metrics.Set
	// latency is gateway_request_duration_seconds.
	latency *metrics.PrometheusHistogram
	// outcomes are the gateway_requests_total series, made once: the
	// request path only adds to a counter.
	outcomes map[string]*metrics.Counter
	// throttled are the gateway_throttled_total series of the known kinds.
	throttled map[string]*metrics.Counter
}

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

// latencyBuckets are the upper bounds of gateway_request_duration_seconds.
var latencyBuckets = []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}

// NewMetrics creates the gateway's instruments in set. Every series of
// gateway_requests_total and gateway_throttled_total is shown from the
// start, at 0, so a rate over it has a beginning.
func NewMetrics(set *metrics.Set) *Metrics {
	m := &Metrics{
		set:       set,
		latency:   set.NewPrometheusHistogramExt("gateway_request_duration_seconds", latencyBuckets),
		outcomes:  map[string]*metrics.Counter{},
		throttled: map[string]*metrics.Counter{},
	}
	for _, o := range []string{outcomeProxied, outcomePublic, outcomeUnauth, outcomeRevoked, outcomeUnavailable, outcomeLimited, outcomeForbidden, outcomeStepUp} {
		m.outcomes[o] = set.NewCounter(metricname.With("gateway_requests_total", "outcome", o))
	}
	for _, k := range []string{string(attempts.KindPasswordAccount), string(attempts.KindPasswordIP), string(attempts.KindMFA), kindRequestSession, kindRequestIP} {
		m.throttled[k] = set.NewCounter(metricname.With("gateway_throttled_total", "kind", k))
	}
	return m
}

// CountThrottled adds one attempt or request refused by a limit of the
// given kind (gateway_throttled_total).
func (m *Metrics) CountThrottled(kind string) {
	if c, ok := m.throttled[kind]; ok {
		c.Inc()
		return
	}
	m.set.GetOrCreateCounter(metricname.With("gateway_throttled_total", "kind", kind)).Inc()
}

// CountSignIn adds one sign-in attempt with the given result
// (gateway_signins_total): success, failed, disabled, throttled, ...
func (m *Metrics) CountSignIn(result string) {
	m.set.GetOrCreateCounter(metricname.With("gateway_signins_total", "result", result)).Inc()
}

// count adds one request with the given outcome.
func (m *Metrics) count(outcome string) { m.outcomes[outcome].Inc() }

// observe adds the time a proxied request took to answer.
func (m *Metrics) observe(took time.Duration) { m.latency.Update(took.Seconds()) }
