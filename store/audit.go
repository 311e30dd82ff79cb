package store

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// AuditLimit is about how many entries the audit stream keeps; older ones
// are trimmed (approximately, so trimming stays cheap).
const AuditLimit = 100_000

// Audit actions: what a staff member or an API token did.
const (
	AuditSignOutAll    = "signout_all"
	AuditSessionRevoke = "session_revoke"
	AuditMFAReset      = "mfa_reset"
	// AuditPasskeysRemove: staff removed a user's passkeys.
	AuditPasskeysRemove = "passkeys_remove"
	AuditLock           = "lock"
	AuditUnlock         = "unlock"
	AuditThrottleClear  = "throttle_clear"
	AuditResetLink      = "reset_link"
	AuditUserCreate     = "user_create"
	AuditRolesChange    = "roles_change"
	AuditGroupsChange   = "groups_change"
	AuditDisable        = "disable"
	AuditTokenCreate    = "token_create"
	AuditTokenRevoke    = "token_revoke"
	// AuditResetUsed is written when a person uses a reset link (actor is
	// the person themselves), closing the loop on AuditResetLink.
	AuditResetUsed = "reset_link_used"
	// AuditAccountSecured is written when a person answers an alert with
	// "This wasn't me" (actor is the person; secure.go).
	AuditAccountSecured = "account_secured"
	// AuditOutboxRequeue: an admin sent a given-up outbox message again
	// (the console's outbox page). Target is the account the message is
	// about; Detail names the message.
	AuditOutboxRequeue = "outbox_requeue"
)

// AuditActions lists every action, for filters.
var AuditActions = []string{
	AuditSignOutAll, AuditSessionRevoke, AuditMFAReset, AuditLock, AuditUnlock,
	AuditThrottleClear, AuditResetLink, AuditResetUsed, AuditUserCreate, AuditRolesChange,
	AuditGroupsChange, AuditDisable, AuditTokenCreate, AuditTokenRevoke, AuditAccountSecured,
	AuditPasskeysRemove, AuditOutboxRequeue,
}

// AuditEntry is one staff action: who, what, whom, why, when, from where.
type AuditEntry struct {
	ID   string
	Time time.Time
	// Actor is the staff member's username, or "token:NAME" for an API token.
	Actor     string
	ActorRole string // support or admin (a token's role)
	TokenID   string // set when an API token acted
	// TokenOwner is the username of the admin who owns the token that acted.
	TokenOwner string
	Action     string
	Target     string // username acted on ("" for token actions)
	TargetID   string
	Reason     string
	IP         string
	Detail     string // what exactly, e.g. the session id or the new roles
}

// AppendAudit writes e to the audit stream (about AuditLimit entries kept);
// e.ID and e.Time are ignored.
func (s *Store) AppendAudit(ctx context.Context, e AuditEntry) error {
	// The entry id Redis gives out carries the time (of the Redis clock, the
	// same for every replica, and never going backwards in the stream), so
	// time ranges are id ranges and Time is read back from the id.
	return s.rdb.XAdd(ctx, &redis.XAddArgs{
		Stream: keyAudit, MaxLen: AuditLimit, Approx: true,
		Values: map[string]any{
			"actor": e.Actor, "role": e.ActorRole, "token": e.TokenID, "token_owner": e.TokenOwner, "action": e.Action,
			"target": e.Target, "target_id": e.TargetID, "reason": e.Reason, "ip": e.IP,
			"detail": e.Detail,
		},
	}).Err()
}

// AuditFilter selects audit entries; empty fields match everything.
// Actor and Target match exactly (case-insensitively); Actor also matches
// the owner of the token that acted, so a staff member's entries include
// their tokens'.
type AuditFilter struct {
	Actor  string
	Target string
	Action string
	Since  time.Time // inclusive
	Until  time.Time // exclusive
	// Limit caps the result (newest first); 0 means AuditLimit.
	Limit int
}

func (f AuditFilter) match(e AuditEntry) bool {
	return (f.Actor == "" || strings.EqualFold(f.Actor, e.Actor) || strings.EqualFold(f.Actor, e.TokenOwner)) &&
		(f.Target == "" || strings.EqualFold(f.Target, e.Target)) &&
		(f.Action == "" || f.Action == e.Action)
}

// FindAudit returns the entries matching f, newest first. The time range is
// an id range of the stream; the other filters are applied while paging
// backwards through it, so a narrow filter over a long range reads more.
func (s *Store) FindAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = AuditLimit
	}
	end, start := "+", "-"
	if !f.Until.IsZero() {
		end = "(" + strconv.FormatInt(f.Until.UnixMilli(), 10) + "-0"
	}
	if !f.Since.IsZero() {
		start = strconv.FormatInt(f.Since.UnixMilli(), 10) + "-0"
	}
	page := int64(1000)
	if f.Actor == "" && f.Target == "" && f.Action == "" {
		page = int64(min(limit, 1000)) // every entry matches: read no more than asked for
	}
	var out []AuditEntry
	for len(out) < limit {
		msgs, err := s.rdb.XRevRangeN(ctx, keyAudit, end, start, page).Result()
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if e := parseAudit(m); f.match(e) {
				out = append(out, e)
				if len(out) == limit {
					break
				}
			}
		}
		if int64(len(msgs)) < page {
			break
		}
		end = "(" + msgs[len(msgs)-1].ID
	}
	return out, nil
}

func parseAudit(m redis.XMessage) AuditEntry {
	str := func(k string) string { v, _ := m.Values[k].(string); return v }
	ms, _, _ := strings.Cut(m.ID, "-")
	t, _ := strconv.ParseInt(ms, 10, 64)
	return AuditEntry{
		ID: m.ID, Time: time.UnixMilli(t).UTC(), Actor: str("actor"), ActorRole: str("role"),
		TokenID: str("token"), TokenOwner: str("token_owner"), Action: str("action"), Target: str("target"), TargetID: str("target_id"),
		Reason: str("reason"), IP: str("ip"), Detail: str("detail"),
	}
}
