package notify

import (
	"slices"

	"github.com/authgate/gateway/store"
)

// credentialEvents are mailed whatever the person chose: each changes
// how the account is signed in to, or answers a threat to it.
var credentialEvents = []string{
	store.EventPasswordChanged, store.EventMFAEnabled, store.EventMFADisabled, store.EventRecoveryUsed,
	store.EventEmailChanged, store.EventAccountSecured, store.EventResetLink,
}

// mailed reports whether an event gets an e-mail alert: a sign-in from a
// new browser, every credential change, and every staff action on the
// account (the event names its actor).
func mailed(e store.Event) bool {
	return e.Type == store.EventNewDevice || slices.Contains(credentialEvents, e.Type) || e.Actor != ""
}

// optionalAlert is the kind of optional alert e is (store.Alert…), or ""
// for one that is always sent.
func optionalAlert(template string, e store.Event) string {
	switch {
	case template == store.EventNewDevice:
		return store.AlertNewDevice
	case template != e.Type || slices.Contains(credentialEvents, e.Type):
		return ""
	case e.Actor != "":
		return store.AlertStaff
	}
	return ""
}

// Policy is the store's outbox policy (store.Store.Outbox): which
// messages an activity event sends. Whether a mail reaches the person
// (a verified address, the alert not turned off) is decided when it is
// sent, from the account as it is then.
func (w *Worker) Policy() store.OutboxPolicy {
	return func(uid string, e store.Event) []store.OutboxMessage {
		var out []store.OutboxMessage
		if w.Mail != nil && mailed(e) {
			out = append(out, store.OutboxMessage{Kind: store.MessageMail, Template: e.Type})
		}
		name := webhookNames[e.Type]
		if name == "" {
			return out
		}
		for _, h := range w.Config.Notify.Webhooks {
			if len(h.Events) == 0 || slices.Contains(h.Events, name) {
				out = append(out, store.OutboxMessage{Kind: store.MessageWebhook, Template: e.Type, To: h.URL})
			}
		}
		return out
	}
}
