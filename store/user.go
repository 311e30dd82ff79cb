package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/authgate/gateway/internal/names"
)

// Roles a user can have.
const (
	RoleUser    = "user"
	RoleSupport = "support"
	RoleAdmin   = "admin"
)

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool { return r == RoleUser || r == RoleSupport || r == RoleAdmin }

// User is a person who can sign in.
type User struct {
	ID           string
	Username     string // canonical: lower-case
	Email        string
	PasswordHash string
	Roles        []string
	// Groups are names the operator gives people (teams, projects) for
	// route rules and the upstream: canonical, sorted, at most MaxGroups.
	Groups   []string
	Created  time.Time
	Disabled bool
	// Lock says who may lift Disabled: LockStaff when support or an admin
	// locked the account (either may unlock it), LockAdmin when an admin
	// disabled it (only an admin re-enables it). "" with Disabled set means
	// the CLI disabled it, which counts as LockAdmin.
	Lock string
	// SignedOutBefore kills every session issued before it (sign out everywhere).
	SignedOutBefore time.Time
	// MFASecret is the TOTP secret, encrypted by the caller; "" when 2FA is off.
	MFASecret string
	// MFAEnabled is true once the person confirmed a code.
	MFAEnabled bool
	// MFALastStep is the last TOTP time step accepted (replay protection).
	MFALastStep int64
	// RecoveryCodes are hashes of the unused recovery codes.
	RecoveryCodes []string
	// EmailConfirmed is when the person confirmed Email with a link sent
	// to it; zero for an address an operator or staff set (used too: they
	// vouch for it). An address a person types is never used before they
	// confirm it: it waits in EmailPending.
	EmailConfirmed time.Time
	// EmailPending is an address the person asked to change to, waiting
	// for its confirmation link; "" when none.
	EmailPending string
	// AlertsOff lists the optional e-mail alerts the person turned off
	// (AlertNewDevice, AlertStaff); credential changes are always sent.
	AlertsOff []string
	// PasswordBlocked refuses sign-in with the password until it is reset
	// (set by "This wasn't me").
	PasswordBlocked bool
}

// Optional e-mail alerts a person may turn off.
const (
	AlertNewDevice = "new_device" // a sign-in from a browser not seen before
	AlertStaff     = "staff"      // support actions that change no credential
)

// AlertOn reports whether the person gets the optional alert kind.
func (u *User) AlertOn(kind string) bool { return !slices.Contains(u.AlertsOff, kind) }

// HasRole reports whether the user has role r.
func (u *User) HasRole(r string) bool { return slices.Contains(u.Roles, r) }

// Values of User.Lock.
const (
	LockStaff = "locked"   // locked by staff; support may unlock
	LockAdmin = "disabled" // disabled by an admin; only an admin re-enables
)

// IsStaff reports whether the user is support or admin.
func (u *User) IsStaff() bool { return u.HasRole(RoleSupport) || u.HasRole(RoleAdmin) }

// CanonicalUsername lower-cases and trims a typed username.
func CanonicalUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ValidateUsername checks a canonical username.
func ValidateUsername(name string) error {
	if !names.IsUsername(name) {
		return errors.New("username must be 1-64 characters: letters, digits, and . _ @ - (starting with a letter or digit)")
	}
	return nil
}

// ValidateEmail does the light check an operator expects: one @, no spaces.
func ValidateEmail(email string) error {
	at := strings.IndexByte(email, '@')
	if len(email) > 254 || at < 1 || at != strings.LastIndexByte(email, '@') || at == len(email)-1 ||
		strings.ContainsAny(email, " \t\r\n<>,;\"") {
		return fmt.Errorf("email %q is not a valid address", email)
	}
	return nil
}

// CreateUser stores a new user; u.ID and u.Created are filled in. Returns
// ErrConflict when the username is taken.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.Username = CanonicalUsername(u.Username)
	if err := ValidateUsername(u.Username); err != nil {
		return err
	}
	if len(u.Roles) == 0 {
		u.Roles = []string{RoleUser}
	}
	if len(u.Groups) > 0 {
		groups, err := CleanGroups(u.Groups)
		if err != nil {
			return err
		}
		u.Groups = groups
	}
	u.ID = newUserID()
	u.Created = s.now().UTC().Truncate(time.Second)
	ok, err := s.rdb.SetNX(ctx, keyUserName(u.Username), u.ID, 0).Result()
	if err != nil {
		return err
	}
	if !ok {
		return ErrConflict
	}
	if err := s.rdb.HSet(ctx, keyUser(u.ID), userFields(u)).Err(); err != nil {
		return err
	}
	pipe := s.rdb.Pipeline()
	pipe.ZAdd(ctx, keyUserIndex, redis.Z{Member: u.Username + "\x00" + u.ID})
	if u.Email != "" {
		pipe.ZAdd(ctx, keyEmailIndex, redis.Z{Member: strings.ToLower(u.Email) + "\x00" + u.ID})
	}
	if u.Disabled {
		pipe.ZAdd(ctx, keyLockedIndex, redis.Z{Score: float64(u.Created.Unix()), Member: u.ID})
	}
	_, err = pipe.Exec(ctx)
	return err
}

func userFields(u *User) map[string]any {
	return map[string]any{
		"id": u.ID, "username": u.Username, "email": u.Email, "hash": u.PasswordHash,
		"roles": strings.Join(u.Roles, ","), "created": u.Created.Unix(),
		"disabled": boolStr(u.Disabled), "signed_out_before": u.SignedOutBefore.UnixNano(),
		"mfa_secret": u.MFASecret, "mfa_enabled": boolStr(u.MFAEnabled),
		"mfa_last_step": u.MFALastStep, "recovery": strings.Join(u.RecoveryCodes, ","),
		"lock": u.Lock, "groups": strings.Join(u.Groups, ","),
		"email_confirmed": u.EmailConfirmed.UnixMilli() * boolInt(!u.EmailConfirmed.IsZero()),
		"email_pending":   u.EmailPending, "alerts_off": strings.Join(u.AlertsOff, ","),
		"pw_blocked": boolStr(u.PasswordBlocked),
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func boolStr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// FindUserByID loads a user, or ErrNotFound.
func (s *Store) FindUserByID(ctx context.Context, uid string) (*User, error) {
	m, err := s.rdb.HGetAll(ctx, keyUser(uid)).Result()
	if err != nil {
		return nil, err
	}
	if len(m) == 0 || m["id"] == "" {
		return nil, ErrNotFound
	}
	return parseUser(m), nil
}

// FindUserByName loads a user by (any spelling of) the username, or ErrNotFound.
func (s *Store) FindUserByName(ctx context.Context, name string) (*User, error) {
	uid, err := s.rdb.Get(ctx, keyUserName(CanonicalUsername(name))).Result()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.FindUserByID(ctx, uid)
}

func parseUser(m map[string]string) *User {
	created, _ := strconv.ParseInt(m["created"], 10, 64)
	sob, _ := strconv.ParseInt(m["signed_out_before"], 10, 64)
	step, _ := strconv.ParseInt(m["mfa_last_step"], 10, 64)
	u := &User{
		ID: m["id"], Username: m["username"], Email: m["email"], PasswordHash: m["hash"],
		Roles: splitList(m["roles"]), Created: time.Unix(created, 0).UTC(),
		Disabled: m["disabled"] == "1", MFASecret: m["mfa_secret"], MFAEnabled: m["mfa_enabled"] == "1",
		MFALastStep: step, RecoveryCodes: splitList(m["recovery"]), Lock: m["lock"],
		Groups:       splitList(m["groups"]),
		EmailPending: m["email_pending"], AlertsOff: splitList(m["alerts_off"]), PasswordBlocked: m["pw_blocked"] == "1",
	}
	if ms, _ := strconv.ParseInt(m["email_confirmed"], 10, 64); ms > 0 {
		u.EmailConfirmed = time.UnixMilli(ms).UTC()
	}
	if sob > 0 {
		u.SignedOutBefore = time.Unix(0, sob).UTC()
	}
	return u
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// FindUsers lists users whose username or email starts with prefix (all when
// prefix is empty), sorted by username, at most limit.
func (s *Store) FindUsers(ctx context.Context, prefix string, limit int) ([]*User, error) {
	prefix = strings.ToLower(strings.TrimSpace(prefix))
	ids := map[string]bool{}
	var order []string
	for _, idx := range []string{keyUserIndex, keyEmailIndex} {
		min, max := "-", "+"
		if prefix != "" {
			min, max = "["+prefix, "["+prefix+"\xff"
		}
		members, err := s.rdb.ZRangeByLex(ctx, idx, &redis.ZRangeBy{Min: min, Max: max, Count: int64(limit)}).Result()
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			_, uid, _ := strings.Cut(m, "\x00")
			if !ids[uid] {
				ids[uid] = true
				order = append(order, uid)
			}
		}
	}
	users := make([]*User, 0, len(order))
	for _, uid := range order {
		u, err := s.FindUserByID(ctx, uid)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		users = append(users, u)
	}
	slices.SortFunc(users, func(a, b *User) int { return strings.Compare(a.Username, b.Username) })
	if limit > 0 && len(users) > limit {
		users = users[:limit]
	}
	return users, nil
}

// UserUpdate names the fields to change; nil fields stay as they are.
type UserUpdate struct {
	Email        *string
	PasswordHash *string
	Roles        []string
	// Groups replaces the user's groups (an empty list removes them all);
	// checked with CleanGroups.
	Groups        *[]string
	Disabled      *bool
	MFASecret     *string
	MFAEnabled    *bool
	MFALastStep   *int64
	RecoveryCodes *[]string
	Lock          *string
	// EmailConfirmed sets or (zero) clears when the person confirmed Email.
	EmailConfirmed  *time.Time
	EmailPending    *string
	AlertsOff       *[]string
	PasswordBlocked *bool
}

// UpdateUser changes fields of a user and tells every replica.
func (s *Store) UpdateUser(ctx context.Context, uid string, upd UserUpdate) error {
	ctx, cancel := detach(ctx) // the change and its feed entry go together
	defer cancel()
	old, err := s.FindUserByID(ctx, uid)
	if err != nil {
		return err
	}
	f := map[string]any{}
	if upd.Email != nil {
		f["email"] = *upd.Email
	}
	if upd.PasswordHash != nil {
		f["hash"] = *upd.PasswordHash
	}
	if upd.Roles != nil {
		f["roles"] = strings.Join(upd.Roles, ",")
	}
	if upd.Groups != nil {
		groups, err := CleanGroups(*upd.Groups)
		if err != nil {
			return err
		}
		f["groups"] = strings.Join(groups, ",")
	}
	if upd.Disabled != nil {
		f["disabled"] = boolStr(*upd.Disabled)
	}
	if upd.MFASecret != nil {
		f["mfa_secret"] = *upd.MFASecret
	}
	if upd.MFAEnabled != nil {
		f["mfa_enabled"] = boolStr(*upd.MFAEnabled)
	}
	if upd.MFALastStep != nil {
		f["mfa_last_step"] = *upd.MFALastStep
	}
	if upd.RecoveryCodes != nil {
		f["recovery"] = strings.Join(*upd.RecoveryCodes, ",")
	}
	if upd.EmailConfirmed != nil {
		f["email_confirmed"] = upd.EmailConfirmed.UnixMilli() * boolInt(!upd.EmailConfirmed.IsZero())
	}
	if upd.EmailPending != nil {
		f["email_pending"] = *upd.EmailPending
	}
	if upd.AlertsOff != nil {
		f["alerts_off"] = strings.Join(*upd.AlertsOff, ",")
	}
	if upd.PasswordBlocked != nil {
		f["pw_blocked"] = boolStr(*upd.PasswordBlocked)
	}
	if upd.Lock != nil {
		f["lock"] = *upd.Lock
	} else if upd.Disabled != nil {
		// A change of Disabled that names no kind (the CLI) is an operator's
		// decision: drop any staff-lock mark, so support cannot lift it.
		f["lock"] = ""
	}
	if len(f) == 0 {
		return nil
	}
	// Only identity-bearing fields matter to the request path.
	tell := upd.Email != nil || upd.Roles != nil || upd.Groups != nil || upd.Disabled != nil
	if upd.Disabled != nil && *upd.Disabled {
		// Disabling ends every session first, in the atomic part: even if
		// what follows fails, no replica lets an earlier session through.
		if err := s.commit(ctx, change{kind: feedUser, uid: uid, e: s.now().UnixNano()}); errors.Is(err, ErrFeed) {
			return err
		}
	}
	if upd.PasswordHash != nil {
		// A reset link asked for before the change must not set another
		// password afterwards: whoever changed it (knowing the old one)
		// may be shutting out the holder of a stolen link. Retired first,
		// so a failure leaves the old password and no link behind.
		if err := s.RetireResetLink(ctx, uid); err != nil {
			return err
		}
	}
	if err := s.rdb.HSet(ctx, keyUser(uid), f).Err(); err != nil {
		return err
	}
	if upd.Disabled != nil && *upd.Disabled != old.Disabled {
		if err := s.noteLocked(ctx, uid, *upd.Disabled); err != nil {
			return err
		}
	}
	if upd.Email != nil && !strings.EqualFold(*upd.Email, old.Email) {
		pipe := s.rdb.Pipeline()
		pipe.ZRem(ctx, keyEmailIndex, strings.ToLower(old.Email)+"\x00"+uid)
		if *upd.Email != "" {
			pipe.ZAdd(ctx, keyEmailIndex, redis.Z{Member: strings.ToLower(*upd.Email) + "\x00" + uid})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
	}
	if tell {
		// The record lives in the user's own slot, so its entry is a
		// second write; should it fail the caller hears so, and replicas
		// drop cached user states every minute anyway (Mirror.prune).
		return s.commit(ctx, change{kind: feedUser, uid: uid})
	}
	return nil
}

// ConsumeMFAStep records step as the last accepted TOTP step, atomically
// refusing (false) when a step at or after it was already used: a code is
// accepted once, even when two replicas see it at the same moment.
func (s *Store) ConsumeMFAStep(ctx context.Context, uid string, step int64) (bool, error) {
	res, err := consumeStepScript.Run(ctx, s.rdb, []string{keyUser(uid)}, step).Int()
	if err != nil {
		return false, err
	}
	return res == 1, nil
}

var consumeStepScript = redis.NewScript(`
local last = tonumber(redis.call('HGET', KEYS[1], 'mfa_last_step') or '0') or 0
if tonumber(ARGV[1]) <= last then return 0 end
redis.call('HSET', KEYS[1], 'mfa_last_step', ARGV[1])
return 1`)

// ConsumeRecoveryCode removes hash from the user's recovery codes, returning
// false when it was not there (already used), and how many remain.
func (s *Store) ConsumeRecoveryCode(ctx context.Context, uid, hash string) (bool, int, error) {
	res, err := consumeRecoveryScript.Run(ctx, s.rdb, []string{keyUser(uid)}, hash).Int()
	if err != nil {
		return false, 0, err
	}
	if res < 0 {
		return false, 0, nil
	}
	return true, res, nil
}

var consumeRecoveryScript = redis.NewScript(`
local codes = redis.call('HGET', KEYS[1], 'recovery') or ''
local kept, found, n = {}, false, 0
for c in string.gmatch(codes, '[^,]+') do
  if c == ARGV[1] and not found then found = true else n = n + 1; kept[n] = c end
end
if not found then return -1 end
redis.call('HSET', KEYS[1], 'recovery', table.concat(kept, ','))
return n`)

// FindUserByEmail loads the user whose address is email (any case), or
// ErrNotFound. When two accounts share an address (staff can set any),
// neither is returned: a mailed link must not pick one at random.
func (s *Store) FindUserByEmail(ctx context.Context, email string) (*User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || strings.ContainsRune(email, '\x00') {
		return nil, ErrNotFound
	}
	members, err := s.rdb.ZRangeByLex(ctx, keyEmailIndex, &redis.ZRangeBy{
		Min: "[" + email + "\x00", Max: "[" + email + "\x00\xff", Count: 2,
	}).Result()
	if err != nil {
		return nil, err
	}
	if len(members) != 1 {
		return nil, ErrNotFound
	}
	_, uid, _ := strings.Cut(members[0], "\x00")
	return s.FindUserByID(ctx, uid)
}
