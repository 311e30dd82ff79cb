package store

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// The outbox holds every message the gateway sends out of band (e-mail
// alerts, webhooks) until it is delivered. A message is written to Redis on
// the request path, in the same MULTI as the activity event it is about
// where both share a server (one Redis or Sentinel; on Cluster the two
// slots are written one after the other), and a worker on any replica
// delivers it later. Nothing is lost when the mail server or a webhook
// receiver is down: a failed delivery waits in the retry set and goes back
// to the stream when its back-off is over; after Outbox max attempts it is
// dead, kept, counted and listed in the console, where staff can send it
// again.
//
// Keys share the hash tag {ob}, so the scripts that move a message between
// states are single-slot and work on Redis Cluster.
const (
	outboxTag       = "gw:{ob}:"
	keyOutboxStream = outboxTag + "stream" // stream of message ids, read by a consumer group
	keyOutboxRetry  = outboxTag + "retry"  // zset: message id -> unix ms when it is due again
	keyOutboxDead   = outboxTag + "dead"   // zset: message id -> unix ms when it was given up
	prefixOutboxMsg = outboxTag + "m:"     // hash per message
	// OutboxGroup is the consumer group of the workers of every replica.
	OutboxGroup = "senders"
)

func keyOutboxMsg(id string) string { return prefixOutboxMsg + id }

// Kinds of outbox message.
const (
	MessageMail    = "mail"
	MessageWebhook = "webhook"
)

// States of an outbox message as the console shows them.
const (
	OutboxQueued   = "queued"
	OutboxRetrying = "retrying"
	OutboxDead     = "dead"
)

// OutboxMessage is one delivery to make: a mail to a person or a POST to a
// webhook, about one event. It never holds a secret: links that carry a
// token are made when the message is sent, so a copy of Redis yields none.
type OutboxMessage struct {
	ID   string
	Kind string // MessageMail or MessageWebhook
	// Template says what the mail is about: an event type, or one of the
	// Mail… names for mails that are not alerts.
	Template string
	// To is the address of a mail when it is not the user's verified one
	// (the old address when the address changes); for a webhook, the
	// receiver's name.
	To     string
	UserID string
	Event  Event
	// Data carries small non-secret values the template needs.
	Data map[string]string

	Created   time.Time
	Attempts  int
	LastError string
	// Due is when a retrying message goes back to the queue; for a dead
	// one, when it was given up.
	Due   time.Time
	State string

	streamID string // the stream entry of the current claim
}

// Mail templates that are not activity events.
const (
	MailResetLink   = "reset_link"   // a password-reset link the person asked for
	MailVerifyEmail = "verify_email" // confirm an address added on the account page
)

// OutboxPolicy decides which messages an activity event sends; main sets
// it from the configuration (Store.Outbox). It returns nil for none.
type OutboxPolicy func(uid string, e Event) []OutboxMessage

func (m *OutboxMessage) fields() map[string]any {
	data, _ := json.Marshal(m.Data)
	return map[string]any{
		"kind": m.Kind, "tmpl": m.Template, "to": m.To, "uid": m.UserID,
		"e_id": m.Event.ID, "e_t": m.Event.Time.UnixMilli(), "e_type": m.Event.Type, "e_ip": m.Event.IP,
		"e_ua": m.Event.Device, "e_detail": m.Event.Detail, "e_actor": m.Event.Actor,
		"data": string(data), "created": m.Created.UnixMilli(), "attempts": m.Attempts, "err": m.LastError,
	}
}

func parseOutboxMessage(id string, f map[string]string) *OutboxMessage {
	ms := func(k string) time.Time {
		n, _ := strconv.ParseInt(f[k], 10, 64)
		return time.UnixMilli(n).UTC()
	}
	attempts, _ := strconv.Atoi(f["attempts"])
	m := &OutboxMessage{
		ID: id, Kind: f["kind"], Template: f["tmpl"], To: f["to"], UserID: f["uid"],
		Event: Event{ID: f["e_id"], Time: ms("e_t"), Type: f["e_type"], IP: f["e_ip"], Device: f["e_ua"],
			Detail: f["e_detail"], Actor: f["e_actor"]},
		Created: ms("created"), Attempts: attempts, LastError: f["err"],
	}
	if f["data"] != "" && f["data"] != "null" {
		_ = json.Unmarshal([]byte(f["data"]), &m.Data)
	}
	return m
}

// queueMessages adds the writes of msgs to pipe: each message's record and
// its id on the stream.
func (s *Store) queueMessages(ctx context.Context, pipe redis.Pipeliner, msgs []OutboxMessage) {
	now := s.now()
	for i := range msgs {
		m := &msgs[i]
		if m.ID == "" {
			m.ID = randomToken(12)
		}
		if m.Created.IsZero() {
			m.Created = now
		}
		pipe.HSet(ctx, keyOutboxMsg(m.ID), m.fields())
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: keyOutboxStream, Values: map[string]any{"id": m.ID}})
	}
}

// Enqueue writes messages to the outbox. Prefer AppendEvent, which writes
// an event's messages together with the event.
func (s *Store) Enqueue(ctx context.Context, msgs ...OutboxMessage) error {
	if len(msgs) == 0 {
		return nil
	}
	pipe := s.rdb.TxPipeline()
	s.queueMessages(ctx, pipe, msgs)
	_, err := pipe.Exec(ctx)
	return err
}

// EnsureOutboxGroup creates the stream and the workers' consumer group if
// they do not exist yet (every worker calls it at start and after Redis
// lost its data).
func (s *Store) EnsureOutboxGroup(ctx context.Context) error {
	err := s.rdb.XGroupCreateMkStream(ctx, keyOutboxStream, OutboxGroup, "0").Err()
	if err != nil && strings.Contains(err.Error(), "BUSYGROUP") {
		return nil
	}
	return err
}

// ClaimOutbox hands the worker consumer up to count messages to deliver:
// first retries whose back-off is over go back on the stream, then
// messages another worker claimed more than lease ago and never finished
// (its replica died), then new ones, waiting up to block for them. A
// message stays claimed by this consumer until AckOutbox, RetryOutbox or
// BuryOutbox.
func (s *Store) ClaimOutbox(ctx context.Context, consumer string, lease, block time.Duration, count int64) ([]*OutboxMessage, error) {
	if err := moveDueScript.Run(ctx, s.rdb, []string{keyOutboxRetry, keyOutboxStream}, s.now().UnixMilli(), 100).Err(); err != nil {
		return nil, err
	}
	claimed, _, err := s.rdb.XAutoClaim(ctx, &redis.XAutoClaimArgs{
		Stream: keyOutboxStream, Group: OutboxGroup, Consumer: consumer, MinIdle: lease, Start: "0-0", Count: count,
	}).Result()
	if err != nil && strings.Contains(err.Error(), "NOGROUP") {
		if err = s.EnsureOutboxGroup(ctx); err == nil {
			claimed, err = nil, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if len(claimed) == 0 {
		streams, err := s.rdb.XReadGroup(ctx, &redis.XReadGroupArgs{
			Group: OutboxGroup, Consumer: consumer, Streams: []string{keyOutboxStream, ">"}, Count: count, Block: block,
		}).Result()
		if errors.Is(err, redis.Nil) {
			return nil, nil
		}
		if err != nil && strings.Contains(err.Error(), "NOGROUP") {
			return nil, s.EnsureOutboxGroup(ctx)
		}
		if err != nil {
			return nil, err
		}
		for _, st := range streams {
			claimed = append(claimed, st.Messages...)
		}
	}
	out := make([]*OutboxMessage, 0, len(claimed))
	for _, x := range claimed {
		id, _ := x.Values["id"].(string)
		f, err := s.rdb.HGetAll(ctx, keyOutboxMsg(id)).Result()
		if err != nil {
			return out, err
		}
		if len(f) == 0 {
			// Its record is gone (delivered by another worker after a
			// claim race, or removed): nothing left to do.
			pipe := s.rdb.TxPipeline()
			pipe.XAck(ctx, keyOutboxStream, OutboxGroup, x.ID)
			pipe.XDel(ctx, keyOutboxStream, x.ID)
			_, _ = pipe.Exec(ctx)
			continue
		}
		m := parseOutboxMessage(id, f)
		m.State = OutboxQueued
		m.streamID = x.ID
		out = append(out, m)
	}
	return out, nil
}

// moveDueScript moves up to ARGV[2] retries due at ARGV[1] back to the stream.
var moveDueScript = redis.NewScript(`
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, id in ipairs(due) do
  redis.call('ZREM', KEYS[1], id)
  redis.call('XADD', KEYS[2], '*', 'id', id)
end
return #due`)

// finishScript ends a claim: XACK and XDEL the stream entry; then ARGV[2]
// says what becomes of the record: "del" deletes it (delivered), "retry"
// and "dead" update its attempts and error and file it in the retry or
// dead set under the score ARGV[3].
var finishScript = redis.NewScript(`
redis.call('XACK', KEYS[1], ARGV[1], ARGV[4])
redis.call('XDEL', KEYS[1], ARGV[4])
if ARGV[2] == 'del' then
  redis.call('DEL', KEYS[2])
  return 1
end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('HSET', KEYS[2], 'attempts', ARGV[5], 'err', ARGV[6])
if ARGV[2] == 'retry' then
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[7])
else
  redis.call('ZADD', KEYS[4], ARGV[3], ARGV[7])
end
return 1`)

func (s *Store) finish(ctx context.Context, m *OutboxMessage, how string, score int64) error {
	return finishScript.Run(ctx, s.rdb,
		[]string{keyOutboxStream, keyOutboxMsg(m.ID), keyOutboxRetry, keyOutboxDead},
		OutboxGroup, how, score, m.streamID, m.Attempts, m.LastError, m.ID).Err()
}

// AckOutbox removes a delivered (or no longer deliverable, see the worker)
// message.
func (s *Store) AckOutbox(ctx context.Context, m *OutboxMessage) error {
	return s.finish(ctx, m, "del", 0)
}

// RetryOutbox files a message whose delivery failed for another attempt at
// due; m.Attempts and m.LastError are saved with it.
func (s *Store) RetryOutbox(ctx context.Context, m *OutboxMessage, due time.Time) error {
	return s.finish(ctx, m, "retry", due.UnixMilli())
}

// BuryOutbox gives a message up after too many failures: it stays, dead,
// until staff send it again (ReviveOutbox).
func (s *Store) BuryOutbox(ctx context.Context, m *OutboxMessage) error {
	return s.finish(ctx, m, "dead", s.now().UnixMilli())
}

// ReviveOutbox puts a dead message back in the queue with its attempts
// reset and returns it as it was given up (for the audit entry), or returns
// ErrNotFound when no dead message has that id.
func (s *Store) ReviveOutbox(ctx context.Context, id string) (*OutboxMessage, error) {
	res, err := reviveScript.Run(ctx, s.rdb, []string{keyOutboxDead, keyOutboxMsg(id), keyOutboxStream}, id).StringSlice()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	f := make(map[string]string, len(res)/2)
	for i := 0; i+1 < len(res); i += 2 {
		f[res[i]] = res[i+1]
	}
	return parseOutboxMessage(id, f), nil
}

// reviveScript answers nil (no such dead message) or the message's fields
// as they were before the revival, read in the same step.
var reviveScript = redis.NewScript(`
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return false end
if redis.call('EXISTS', KEYS[2]) == 0 then return false end
local fields = redis.call('HGETALL', KEYS[2])
redis.call('HSET', KEYS[2], 'attempts', 0)
redis.call('XADD', KEYS[3], '*', 'id', ARGV[1])
return fields`)

// OutboxCounts is how many messages wait in each state.
type OutboxCounts struct {
	// Queued counts stream entries: waiting for a worker or being sent.
	Queued, Retrying, Dead int64
}

// CountOutbox counts the messages in each state.
func (s *Store) CountOutbox(ctx context.Context) (OutboxCounts, error) {
	pipe := s.rdb.Pipeline()
	q := pipe.XLen(ctx, keyOutboxStream)
	r := pipe.ZCard(ctx, keyOutboxRetry)
	d := pipe.ZCard(ctx, keyOutboxDead)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return OutboxCounts{}, err
	}
	return OutboxCounts{Queued: q.Val(), Retrying: r.Val(), Dead: d.Val()}, nil
}

// FindOutbox lists up to limit messages in state OutboxRetrying or
// OutboxDead, the most recent first.
func (s *Store) FindOutbox(ctx context.Context, state string, limit int64) ([]*OutboxMessage, error) {
	key := keyOutboxRetry
	if state == OutboxDead {
		key = keyOutboxDead
	}
	zs, err := s.rdb.ZRevRangeWithScores(ctx, key, 0, limit-1).Result()
	if err != nil {
		return nil, err
	}
	out := make([]*OutboxMessage, 0, len(zs))
	for _, z := range zs {
		id, _ := z.Member.(string)
		f, err := s.rdb.HGetAll(ctx, keyOutboxMsg(id)).Result()
		if err != nil {
			return nil, err
		}
		if len(f) == 0 {
			continue
		}
		m := parseOutboxMessage(id, f)
		m.State, m.Due = state, time.UnixMilli(int64(z.Score)).UTC()
		out = append(out, m)
	}
	return out, nil
}
