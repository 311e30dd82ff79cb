package store

import (
	"context"
	"encoding/base64"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Passkey is one WebAuthn credential of a user, with what the Login &
// Security page shows about it. The public key and counters are what the
// sign-in ceremony checks an assertion against (store/passkeys).
type Passkey struct {
	// ID is the credential id the authenticator chose (raw bytes).
	ID   []byte
	Name string
	// RPID is the relying-party id the passkey was made for: a passkey
	// works only on that host name.
	RPID      string
	Created   time.Time
	LastUsed  time.Time // zero until first used
	PublicKey []byte    // COSE key
	// Flags are the authenticator data flags of the registration, updated
	// on each use (user verified, backup eligible, backup state…).
	Flags             byte
	SignCount         uint32
	AAGUID            []byte
	AttestationType   string
	AttestationFormat string
	Transports        []string
	// CounterWarning is when a sign-in last showed a signature counter not
	// above the stored one: the passkey may have been copied.
	CounterWarning time.Time
}

// WebAuthn authenticator data flag bits (WebAuthn §6.1).
const (
	passkeyFlagBackupEligible = 0x08
)

// Synced reports whether the passkey may be copied to the person's other
// devices by their password manager (backup eligible).
func (p *Passkey) Synced() bool { return p.Flags&passkeyFlagBackupEligible != 0 }

// EncodedID is the credential id as the API and the pages name it
// (base64url, no padding).
func (p *Passkey) EncodedID() string { return EncodePasskeyID(p.ID) }

// EncodePasskeyID writes a credential id as EncodedID does.
func EncodePasskeyID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

// MaxPasskeys bounds how many passkeys one account keeps.
const MaxPasskeys = 20

// Errors of the passkey store.
var (
	// ErrTooManyPasskeys is returned when an account already has MaxPasskeys.
	ErrTooManyPasskeys = errors.New("too many passkeys")
	// ErrLastFactor is returned when removing a passkey would leave the
	// account without the second factor its policy requires.
	ErrLastFactor = errors.New("last second factor")
)

const (
	prefixPasskey    = "gw:passkey:{"  // hash per passkey: gw:passkey:{uid}:<credential id>
	prefixPasskeys   = "gw:passkeys:{" // set per user: encoded credential ids
	prefixPKHandle   = "gw:pkhandle:"  // string: encoded user handle -> uid
	prefixCeremony   = "gw:webauthn:"  // string per WebAuthn ceremony in progress
	userFieldPKHandl = "pk_handle"     // field of the user hash: encoded user handle
)

func keyPasskey(uid, id string) string { return prefixPasskey + uid + "}:" + id }
func keyPasskeys(uid string) string    { return prefixPasskeys + uid + "}" }

// PasskeyHandle returns the user handle of uid: 32 random bytes made on
// first use and kept on the user, so the authenticator never learns the
// username and a discoverable sign-in leads back to the account.
func (s *Store) PasskeyHandle(ctx context.Context, uid string) ([]byte, error) {
	cur, err := s.rdb.HGet(ctx, keyUser(uid), userFieldPKHandl).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	if cur == "" {
		n, err := s.rdb.Exists(ctx, keyUser(uid)).Result()
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, ErrNotFound
		}
		fresh := randomToken(32)
		// Two first registrations at once: HSETNX lets one handle win, and
		// both read it back.
		if err := s.rdb.HSetNX(ctx, keyUser(uid), userFieldPKHandl, fresh).Err(); err != nil {
			return nil, err
		}
		if cur, err = s.rdb.HGet(ctx, keyUser(uid), userFieldPKHandl).Result(); err != nil {
			return nil, err
		}
	}
	if err := s.rdb.Set(ctx, prefixPKHandle+cur, uid, 0).Err(); err != nil {
		return nil, err
	}
	return base64.RawURLEncoding.DecodeString(cur)
}

// FindUserByPasskeyHandle finds the user a discoverable passkey sign-in
// names, or ErrNotFound. The index entry is trusted only when the user's
// own record still carries the same handle.
func (s *Store) FindUserByPasskeyHandle(ctx context.Context, handle []byte) (*User, error) {
	if len(handle) == 0 || len(handle) > 64 {
		return nil, ErrNotFound
	}
	enc := base64.RawURLEncoding.EncodeToString(handle)
	uid, err := s.rdb.Get(ctx, prefixPKHandle+enc).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	own, err := s.rdb.HGet(ctx, keyUser(uid), userFieldPKHandl).Result()
	if errors.Is(err, redis.Nil) || (err == nil && own != enc) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.FindUserByID(ctx, uid)
}

// CreatePasskey stores a new passkey of uid. ErrConflict when the
// credential id is already stored, ErrTooManyPasskeys past MaxPasskeys.
func (s *Store) CreatePasskey(ctx context.Context, uid string, p *Passkey) error {
	id := p.EncodedID()
	args := []any{id, MaxPasskeys}
	for k, v := range passkeyFields(p) {
		args = append(args, k, v)
	}
	n, err := createPasskeyScript.Run(ctx, s.rdb, []string{keyPasskeys(uid), keyPasskey(uid, id)}, args...).Int()
	if err != nil {
		return err
	}
	switch n {
	case 0:
		return ErrConflict
	case -1:
		return ErrTooManyPasskeys
	}
	return nil
}

var createPasskeyScript = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return -1 end
redis.call('SADD', KEYS[1], ARGV[1])
for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[2], ARGV[i], ARGV[i+1]) end
return 1`)

func passkeyFields(p *Passkey) map[string]string {
	return map[string]string{
		"id": p.EncodedID(), "name": p.Name, "rp": p.RPID,
		"created": strconv.FormatInt(p.Created.UnixNano(), 10), "last_used": unixNanoOrZero(p.LastUsed),
		"pk":    base64.RawURLEncoding.EncodeToString(p.PublicKey),
		"flags": strconv.Itoa(int(p.Flags)), "count": strconv.FormatUint(uint64(p.SignCount), 10),
		"aaguid": base64.RawURLEncoding.EncodeToString(p.AAGUID), "att_type": p.AttestationType,
		"att_fmt": p.AttestationFormat, "transports": strings.Join(p.Transports, ","),
		"counter_warning": unixNanoOrZero(p.CounterWarning),
	}
}

func unixNanoOrZero(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return strconv.FormatInt(t.UnixNano(), 10)
}

func timeOrZero(s string) time.Time {
	n, _ := strconv.ParseInt(s, 10, 64)
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

func parsePasskey(m map[string]string) (*Passkey, bool) {
	id, err1 := base64.RawURLEncoding.DecodeString(m["id"])
	pk, err2 := base64.RawURLEncoding.DecodeString(m["pk"])
	aaguid, _ := base64.RawURLEncoding.DecodeString(m["aaguid"])
	if err1 != nil || err2 != nil || len(id) == 0 || len(pk) == 0 {
		return nil, false
	}
	flags, _ := strconv.Atoi(m["flags"])
	count, _ := strconv.ParseUint(m["count"], 10, 32)
	return &Passkey{
		ID: id, Name: m["name"], RPID: m["rp"], Created: timeOrZero(m["created"]), LastUsed: timeOrZero(m["last_used"]),
		PublicKey: pk, Flags: byte(flags), SignCount: uint32(count), AAGUID: aaguid,
		AttestationType: m["att_type"], AttestationFormat: m["att_fmt"], Transports: splitList(m["transports"]),
		CounterWarning: timeOrZero(m["counter_warning"]),
	}, true
}

// FindPasskeys lists the passkeys of uid, oldest first.
func (s *Store) FindPasskeys(ctx context.Context, uid string) ([]*Passkey, error) {
	ids, err := s.rdb.SMembers(ctx, keyPasskeys(uid)).Result()
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, keyPasskey(uid, id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, err
	}
	out := make([]*Passkey, 0, len(ids))
	for _, c := range cmds {
		if p, ok := parsePasskey(c.Val()); ok {
			out = append(out, p)
		}
	}
	slices.SortFunc(out, func(a, b *Passkey) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// FindPasskey loads one passkey of uid by its encoded id, or ErrNotFound.
func (s *Store) FindPasskey(ctx context.Context, uid, id string) (*Passkey, error) {
	m, err := s.rdb.HGetAll(ctx, keyPasskey(uid, id)).Result()
	if err != nil {
		return nil, err
	}
	p, ok := parsePasskey(m)
	if !ok {
		return nil, ErrNotFound
	}
	return p, nil
}

// CountPasskeys says how many passkeys uid has.
func (s *Store) CountPasskeys(ctx context.Context, uid string) (int, error) {
	n, err := s.rdb.SCard(ctx, keyPasskeys(uid)).Result()
	return int(n), err
}

// PasskeyUse is what a successful sign-in with a passkey changes on it.
type PasskeyUse struct {
	At        time.Time
	SignCount uint32
	Flags     byte
	// CounterWarning records a signature counter that did not go up.
	CounterWarning bool
}

// UsePasskey records a sign-in with the passkey id of uid; ErrNotFound when
// it was removed meanwhile (the sign-in must then fail).
func (s *Store) UsePasskey(ctx context.Context, uid, id string, u PasskeyUse) error {
	warn := ""
	if u.CounterWarning {
		warn = strconv.FormatInt(u.At.UnixNano(), 10)
	}
	n, err := usePasskeyScript.Run(ctx, s.rdb, []string{keyPasskey(uid, id)},
		u.At.UnixNano(), u.SignCount, u.Flags, warn).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// The stored counter only ever goes up: a regressed one is recorded as a
// warning, never written back.
var usePasskeyScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], 'last_used', ARGV[1], 'flags', ARGV[3])
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'counter_warning', ARGV[4])
elseif tonumber(ARGV[2]) > tonumber(redis.call('HGET', KEYS[1], 'count') or '0') then
  redis.call('HSET', KEYS[1], 'count', ARGV[2])
end
return 1`)

// RenamePasskey sets the name of the passkey id of uid.
func (s *Store) RenamePasskey(ctx context.Context, uid, id, name string) error {
	n, err := setIfExistsScript.Run(ctx, s.rdb, []string{keyPasskey(uid, id)}, "name", name).Int()
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}

// KeepFactor says what a passkey removal must leave on the account.
type KeepFactor int

// What a removal must leave.
const (
	KeepNothing KeepFactor = iota // no policy applies
	KeepAny                       // a passkey or an authenticator app (mfa.require)
	KeepPasskey                   // a passkey (mfa.phishing_resistant)
)

// DeletePasskey removes the passkey id of uid: ErrNotFound when it is not
// there, ErrLastFactor when keep forbids removing the last one. The check
// and the removal are one script, so two removals at once cannot both pass.
func (s *Store) DeletePasskey(ctx context.Context, uid, id string, keep KeepFactor) error {
	n, err := deletePasskeyScript.Run(ctx, s.rdb, []string{keyPasskeys(uid), keyPasskey(uid, id), keyUser(uid)}, id, int(keep)).Int()
	if err != nil {
		return err
	}
	switch n {
	case 0:
		return ErrNotFound
	case -1:
		return ErrLastFactor
	}
	return nil
}

var deletePasskeyScript = redis.NewScript(`
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then redis.call('DEL', KEYS[2]); return 0 end
local keep = tonumber(ARGV[2])
if keep > 0 and redis.call('SCARD', KEYS[1]) <= 1 then
  if keep == 2 or redis.call('HGET', KEYS[3], 'mfa_enabled') ~= '1' then return -1 end
end
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
return 1`)

// DeletePasskeys removes every passkey of uid (staff, or the user's
// removal) and returns how many there were.
func (s *Store) DeletePasskeys(ctx context.Context, uid string) (int, error) {
	ids, err := s.rdb.SMembers(ctx, keyPasskeys(uid)).Result()
	if err != nil {
		return 0, err
	}
	keys := []string{keyPasskeys(uid)}
	for _, id := range ids {
		keys = append(keys, keyPasskey(uid, id))
	}
	if err := s.rdb.Del(ctx, keys...).Err(); err != nil {
		return 0, err
	}
	return len(ids), nil
}

// PutCeremony keeps the server side of a WebAuthn ceremony (its challenge
// and what it was begun for) under a key the caller derived from the
// session or browser it is bound to, for ttl.
func (s *Store) PutCeremony(ctx context.Context, key string, data []byte, ttl time.Duration) error {
	return s.rdb.Set(ctx, prefixCeremony+key, data, ttl).Err()
}

// TakeCeremony reads and deletes a ceremony in one step (GETDEL), so each
// challenge is answered at most once; ErrNotFound when it is gone or
// expired.
func (s *Store) TakeCeremony(ctx context.Context, key string) ([]byte, error) {
	b, err := s.rdb.GetDel(ctx, prefixCeremony+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	return b, err
}
