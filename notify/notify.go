// Package notify delivers what the outbox (store/outbox.go) holds: e-mail
// alerts through SMTP (or the demo's in-memory box) and signed webhooks. A
// worker on each replica claims messages from the shared consumer group,
// so each is sent by one replica at a time, and a replica that dies
// mid-send has its claims taken over after a lease. Delivery is at least
// once: a message is removed only after the server or receiver accepted it.
package notify

import (
	"context"
	crand "crypto/rand"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"time"

	"github.com/VictoriaMetrics/metrics"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/store"
)

// Deps are the worker's collaborators, built in main.
type Deps struct {
	Config *config.Config
	Store  *store.Store
	// Mail sends rendered mail; nil sends none (no smtp.url and no demo box).
	Mail Sender
	// Describe names the device of a user agent and the approximate place
	// of an IP for the mails; nil leaves them out.
	Describe func(ua, ip string) (device, place string)
	Log      *slog.Logger
	// Metrics takes the gateway_outbox_* metrics; nil keeps them in a set
	// of the worker's own, shown nowhere.
	Metrics *metrics.Set
	// Now is the clock (nil means time.Now).
	Now func() time.Time
}

// Worker delivers outbox messages.
type Worker struct {
	Deps
	consumer string
	http     *http.Client
	metrics  *outboxMetrics
	// lease is how long a claimed message may take before another
	// replica's worker takes it over.
	lease time.Duration
}

var errNoLongerConfigured = errors.New("the webhook is no longer configured")

// New builds a worker; Run starts it.
func New(d Deps) *Worker {
	if d.Now == nil {
		d.Now = time.Now
	}
	timeout := d.Config.SMTP.Timeout.Duration
	w := &Worker{
		Deps:     d,
		consumer: "gw-" + crand.Text()[:10],
		http:     &http.Client{Timeout: timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
		lease:    4*timeout + 30*time.Second,
	}
	w.metrics = newMetrics(d.Metrics, d.Store)
	return w
}

func (w *Worker) now() time.Time { return w.Now() }

// Enabled reports whether anything is sent at all.
func (w *Worker) Enabled() bool { return w.Mail != nil || len(w.Config.Notify.Webhooks) > 0 }

// Run delivers messages until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	var lastErr time.Time
	for ctx.Err() == nil {
		msgs, err := w.Store.ClaimOutbox(ctx, w.consumer, w.lease, time.Second, 10)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			// Redis is down: say so once a minute, not once a second.
			if w.now().Sub(lastErr) > time.Minute {
				w.Log.Warn("outbox: cannot read the queue", "err", err.Error())
				lastErr = w.now()
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
			continue
		}
		for _, m := range msgs {
			w.deliver(ctx, m)
		}
	}
}

// deliver makes one attempt at m and files the outcome.
func (w *Worker) deliver(ctx context.Context, m *store.OutboxMessage) {
	sctx, cancel := context.WithTimeout(ctx, w.Config.SMTP.Timeout.Duration+5*time.Second)
	err := w.attempt(sctx, m)
	cancel()
	fctx, fcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer fcancel()
	var skip skipped
	switch {
	case err == nil:
		w.metrics.delivered(m.Kind, w.now().Sub(m.Created))
		w.Log.Info("outbox_delivered", "kind", m.Kind, "template", m.Template, "message_id", m.ID, "attempts", m.Attempts+1)
		err = w.Store.AckOutbox(fctx, m)
	case errors.As(err, &skip):
		w.metrics.skipped(string(skip))
		w.Log.Info("outbox_skipped", "kind", m.Kind, "template", m.Template, "message_id", m.ID, "reason", string(skip))
		err = w.Store.AckOutbox(fctx, m)
	default:
		m.Attempts++
		m.LastError = safeError(err)
		w.metrics.failed(m.Kind)
		if m.Attempts >= w.Config.Notify.MaxAttempts {
			w.Log.Error("outbox_dead", "kind", m.Kind, "template", m.Template, "message_id", m.ID, "attempts", m.Attempts, "err", m.LastError)
			err = w.Store.BuryOutbox(fctx, m)
			break
		}
		due := w.now().Add(w.backoff(m.Attempts))
		w.Log.Warn("outbox_retry", "kind", m.Kind, "template", m.Template, "message_id", m.ID, "attempts", m.Attempts,
			"retry_at", due.UTC().Format(time.RFC3339), "err", m.LastError)
		err = w.Store.RetryOutbox(fctx, m, due)
	}
	if err != nil {
		// The claim stays pending: after the lease a worker takes it
		// again, so the message is sent (maybe twice), never lost.
		w.Log.Warn("outbox: cannot file a delivery's outcome", "message_id", m.ID, "err", err.Error())
	}
}

// backoff is notify.retry_base doubled per failed attempt, at most
// notify.retry_max, less up to a fifth at random so that replicas and
// messages spread out.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.Config.Notify.RetryBase.Duration
	for i := 1; i < attempts && d < w.Config.Notify.RetryMax.Duration; i++ {
		d *= 2
	}
	d = min(d, w.Config.Notify.RetryMax.Duration)
	return d - time.Duration(rand.Int64N(int64(d)/5+1))
}

// skipped is a message that is not to be sent, for a reason that will not
// change by trying again (no address, the person turned the alert off).
type skipped string

func (s skipped) Error() string { return string(s) }

func (w *Worker) attempt(ctx context.Context, m *store.OutboxMessage) error {
	switch m.Kind {
	case store.MessageWebhook:
		err := w.postWebhook(ctx, m)
		if errors.Is(err, errNoLongerConfigured) {
			return skipped("webhook_removed")
		}
		return err
	case store.MessageMail:
		if w.Mail == nil {
			return skipped("mail_off")
		}
		out, err := w.compose(ctx, m)
		if err != nil {
			return err
		}
		return w.Mail.Send(ctx, out)
	}
	return skipped("unknown_kind")
}

// safeError is the text of a delivery error as it may be stored and
// logged: a webhook URL may carry a secret of its own, so it is cut out.
func safeError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	s := err.Error()
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}
