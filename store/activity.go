package store

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Event types written to a user's activity stream.
const (
	EventSignIn          = "sign_in"
	EventSignInFailed    = "sign_in_failed"
	EventSignOut         = "sign_out"
	EventSessionRevoked  = "session_revoked"
	EventSignOutAll      = "sign_out_all"
	EventPasswordChanged = "password_changed"
	EventMFAEnabled      = "mfa_enabled"
	EventMFADisabled     = "mfa_disabled"
	EventMFAFailed       = "mfa_failed"
	EventRecoveryUsed    = "recovery_code_used"
	EventRecoveryRenewed = "recovery_codes_renewed"
	EventNewDevice       = "new_device"
	EventLocked          = "locked"
	EventUnlocked        = "unlocked"
	EventDisabled        = "disabled"
	EventResetLink       = "reset_link_created"
	EventThrottled       = "throttled"
	EventStaffAction     = "staff_action"
	// EventAccountSecured: the person said "This wasn't me" (secure.go).
	EventAccountSecured = "account_secured"
	// EventResetRequested: a reset link was asked for on the sign-in page.
	EventResetRequested = "reset_requested"
	// EventEmailChanged: the person confirmed a new e-mail address.
	EventEmailChanged = "email_changed"
	// EventEmailChangeAsked: a confirmation link was mailed to a new address.
	EventEmailChangeAsked = "email_change_asked"
	// EventAlertsChanged: the person chose which optional alerts they get.
	EventAlertsChanged  = "alerts_changed"
	EventPasskeyAdded   = "passkey_added"
	EventPasskeyRemoved = "passkey_removed"
	// EventPasskeyWarning: a passkey's signature counter went backwards at
	// sign-in (it may have been copied).
	EventPasskeyWarning = "passkey_warning"
	// EventIdentityConfirmed: a signed-in person confirmed it was them
	// (password or passkey) before an account change or a route that asks
	// for a recent sign-in. It is not a sign-in: charts do not count it.
	EventIdentityConfirmed = "identity_confirmed"
)

// EventTypes lists every activity type, so the pages that name them can
// check they name them all.
var EventTypes = []string{
	EventSignIn, EventSignInFailed, EventSignOut, EventSessionRevoked, EventSignOutAll,
	EventPasswordChanged, EventMFAEnabled, EventMFADisabled, EventMFAFailed, EventRecoveryUsed,
	EventRecoveryRenewed, EventNewDevice, EventLocked, EventUnlocked, EventDisabled, EventResetLink,
	EventThrottled, EventStaffAction, EventAccountSecured, EventResetRequested, EventEmailChanged,
	EventEmailChangeAsked, EventAlertsChanged, EventPasskeyAdded, EventPasskeyRemoved,
	EventPasskeyWarning, EventIdentityConfirmed,
}

// Event is one line of a person's activity.
type Event struct {
	ID     string
	Time   time.Time
	Type   string
	IP     string
	Device string // user agent, at most MaxEventDevice bytes as stored
	Detail string
	Actor  string // who did it when not the person (e.g. "support:bob")
}

// MaxEventDevice bounds an event's Device (a client-sent user agent) as
// stored: enough for any real browser's, and a client cannot grow the
// stream with a huge header.
const MaxEventDevice = 512

// AppendEvent writes e to the user's activity stream, which keeps about
// ActivityLimit entries, together with the messages (mail, webhooks) the
// Outbox policy sends about it.
func (s *Store) AppendEvent(ctx context.Context, uid string, e Event) error {
	return s.AppendEventWith(ctx, uid, e, nil)
}

// AppendEventWith is AppendEvent with extra messages to send, written
// together with the event (a reset link with "reset requested").
func (s *Store) AppendEventWith(ctx context.Context, uid string, e Event, extra []OutboxMessage) error {
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	if len(e.Device) > MaxEventDevice {
		e.Device = e.Device[:MaxEventDevice]
	}
	var msgs []OutboxMessage
	if s.Outbox != nil {
		msgs = s.Outbox(uid, e)
	}
	msgs = append(msgs, extra...)
	for i := range msgs {
		if msgs[i].UserID == "" {
			msgs[i].UserID = uid
		}
		if msgs[i].Event.Type == "" {
			msgs[i].Event = e
		}
	}
	// With messages, one MULTI on one Redis (or Sentinel): the event and
	// its messages are written together or not at all. Cluster refuses a
	// MULTI across slots, so there they go in one pipeline, one after the
	// other.
	pipe := s.rdb.Pipeline()
	if _, cluster := s.rdb.(*redis.ClusterClient); len(msgs) > 0 && !cluster {
		pipe = s.rdb.TxPipeline()
	}
	pipe.XAdd(ctx, &redis.XAddArgs{
		Stream: keyActivity(uid), MaxLen: s.ActivityLimit, Approx: true,
		Values: eventValues(e),
	})
	// The console's dashboard figures (dashboard.go) ride along.
	if f := statField(e.Type); f != "" {
		s.countStat(ctx, pipe, f)
	}
	if e.Type == EventSignIn && e.IP != "" {
		s.noteIPSeen(ctx, pipe, e.IP, uid)
	}
	s.queueMessages(ctx, pipe, msgs)
	_, err := pipe.Exec(ctx)
	return err
}

func eventValues(e Event) map[string]any {
	return map[string]any{
		"t": e.Time.UnixMilli(), "type": e.Type, "ip": e.IP, "ua": e.Device,
		"detail": e.Detail, "actor": e.Actor,
	}
}

// FindEvents returns the user's newest n events, newest first.
func (s *Store) FindEvents(ctx context.Context, uid string, n int64) ([]Event, error) {
	msgs, err := s.rdb.XRevRangeN(ctx, keyActivity(uid), "+", "-", n).Result()
	if err != nil {
		return nil, err
	}
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, parseEvent(m))
	}
	return out, nil
}

func parseEvent(m redis.XMessage) Event {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	var ms int64
	for _, c := range str("t") {
		if c < '0' || c > '9' {
			break
		}
		ms = ms*10 + int64(c-'0')
	}
	return Event{
		ID: m.ID, Time: time.UnixMilli(ms).UTC(), Type: str("type"), IP: str("ip"),
		Device: str("ua"), Detail: str("detail"), Actor: str("actor"),
	}
}
