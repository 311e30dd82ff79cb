// Package passwords hashes and verifies user passwords with argon2id and
// checks new passwords against one policy (NIST SP 800-63B-4: NFKC
// normalisation, length bounds, no composition rules, no common, patterned
// or account-derived passwords, a zxcvbn strength estimate).
package passwords

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

// Params are the argon2id cost parameters. They are written into every
// encoded hash, so changing them only affects hashes made afterwards.
type Params struct {
	Memory  uint32 // memory cost in KiB
	Time    uint32 // number of passes over the memory
	Threads uint8  // degree of parallelism
	SaltLen uint32 // salt length in bytes
	KeyLen  uint32 // derived key length in bytes
}

// DefaultParams returns the second recommended option of RFC 9106
// (section 4): 64 MiB, 3 passes, 4 lanes, 128-bit salt, 256-bit tag. It is
// the option meant for machines that cannot spare 2 GiB per hash.
func DefaultParams() Params {
	return Params{Memory: 64 * 1024, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}
}

// TestParams returns deliberately weak parameters so tests run fast.
// Never use them in production.
func TestParams() Params {
	return Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}
}

// Limits on parameters accepted from an encoded hash. Verify trusts the
// parameters stored in the hash, so without bounds a corrupted or planted
// row (say m=4294967295) could make a single login allocate gigabytes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 100
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// ErrMalformedHash is returned (wrapped) when an encoded hash cannot be
// parsed or carries parameters outside the accepted bounds.
var ErrMalformedHash = errors.New("passwords: malformed argon2id hash")

func (p Params) validate() error {
	switch {
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemoryKiB:
		return fmt.Errorf("memory %d KiB out of range", p.Memory)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d out of range", p.Time)
	case p.Threads < 1:
		return errors.New("threads must be at least 1")
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range", p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d out of range", p.KeyLen)
	}
	return nil
}

// Hasher hashes and verifies passwords. At most maxConcurrent argon2
// computations run at once: each one allocates Params.Memory, so an
// unbounded login flood would otherwise exhaust memory. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	sem    chan struct{}
	// dummy is a well-formed hash with the current params, used by
	// VerifyDummy. Its salt and key are zeros: the result is never used,
	// only the time it takes.
	dummy string
}

// NewHasher returns a Hasher using p for new hashes and allowing at most
// maxConcurrent argon2 computations at once (runtime.NumCPU() if
// maxConcurrent <= 0, since more than that only adds memory, not speed).
// Invalid params are reported by Hash, not here.
func NewHasher(p Params, maxConcurrent int) *Hasher {
	if maxConcurrent <= 0 {
		maxConcurrent = runtime.NumCPU()
	}
	return &Hasher{
		params: p,
		sem:    make(chan struct{}, maxConcurrent),
		dummy:  encode(p, make([]byte, p.SaltLen), make([]byte, p.KeyLen)),
	}
}

// Params returns the parameters used for new hashes.
func (h *Hasher) Params() Params { return h.params }

// acquire takes a concurrency slot, giving up when ctx ends so a request
// whose client has gone away does not queue for expensive work.
func (h *Hasher) acquire(ctx context.Context) error {
	// Checked first because select picks randomly among ready cases: an
	// already-cancelled ctx must not win a free slot.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Hasher) release() { <-h.sem }

// derive runs argon2id under the concurrency bound. Once started, the
// computation itself cannot be interrupted; only the wait honours ctx.
func (h *Hasher) derive(ctx context.Context, p Params, password string, salt []byte) ([]byte, error) {
	if err := h.acquire(ctx); err != nil {
		return nil, err
	}
	defer h.release()
	return argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen), nil
}

// Hash returns password hashed with a fresh random salt, in PHC string
// format: $argon2id$v=19$m=65536,t=3,p=4$<salt>$<hash> (unpadded base64).
// The password is hashed in its NFKC form (Normalize), the form Check
// judged. It returns ctx.Err() if ctx ends while waiting for a free slot.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.params.validate(); err != nil {
		return "", fmt.Errorf("passwords: invalid params: %w", err)
	}
	salt := make([]byte, h.params.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("passwords: reading salt: %w", err)
	}
	key, err := h.derive(ctx, h.params, Normalize(password), salt)
	if err != nil {
		return "", err
	}
	return encode(h.params, salt, key), nil
}

// Verify reports whether password matches encoded. It uses the parameters
// stored in encoded, not the Hasher's, so hashes made before a parameter
// change keep verifying (see NeedsRehash). A malformed encoded yields an
// error wrapping ErrMalformedHash; a wrong password yields false, nil. It
// returns ctx.Err() if ctx ends while waiting for a free slot.
//
// The password is tried in its NFKC form first, the form Hash stores. Hashes
// made before passwords were normalised hold the password as it was typed,
// so when NFKC changes the password (a full-width letter, a no-break space,
// a decomposed accent) the typed form is tried too: such a person keeps
// signing in, and their next password change stores the normalised form.
// Only passwords NFKC changes pay for the second hash, whether the account
// exists or not (VerifyDummy goes through here), so timing tells nothing
// about the account.
func (h *Hasher) Verify(ctx context.Context, encoded, password string) (ok bool, err error) {
	p, salt, want, err := decode(encoded)
	if err != nil {
		return false, err
	}
	normal := Normalize(password)
	ok, err = h.verifyForm(ctx, p, salt, want, normal)
	if ok || err != nil || normal == password {
		return ok, err
	}
	return h.verifyForm(ctx, p, salt, want, password)
}

// verifyForm derives one form of a password and compares it with want.
func (h *Hasher) verifyForm(ctx context.Context, p Params, salt, want []byte, password string) (bool, error) {
	got, err := h.derive(ctx, p, password, salt)
	if err != nil {
		return false, err
	}
	// Constant time so response timing does not reveal how many leading
	// bytes of the stored hash a guess matched.
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// VerifyDummy does the work of a failed Verify against a fixed hash with
// the current params and discards the result. Call it when the user does
// not exist so that such logins take as long as wrong-password ones and
// response time does not reveal which usernames are registered.
func (h *Hasher) VerifyDummy(ctx context.Context, password string) {
	_, _ = h.Verify(ctx, h.dummy, password)
}

// NeedsRehash reports whether encoded was made with parameters other than
// the Hasher's current ones, so that the caller can store a fresh hash
// after the next successful login. It also reports true for an encoding it
// cannot parse, since such a hash should be replaced too.
func (h *Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	return err != nil || p != h.params
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// b64 is strict so that each hash has exactly one valid encoding; a
// lenient decoder would accept variants with altered trailing bits.
var b64 = base64.RawStdEncoding.Strict()

// decode parses a PHC argon2id string. Parsing is strict (exact field
// order, no signs or spaces) because the input comes from storage and any
// deviation means corruption or tampering.
func decode(encoded string) (p Params, salt, key []byte, err error) {
	bad := func(why string) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, why)
	}
	f := strings.Split(encoded, "$")
	if len(f) != 6 || f[0] != "" {
		return bad("wrong number of fields")
	}
	if f[1] != "argon2id" {
		return bad("algorithm is not argon2id")
	}
	if f[2] != "v="+strconv.Itoa(argon2.Version) {
		return bad("unsupported version")
	}
	kv := strings.Split(f[3], ",")
	if len(kv) != 3 {
		return bad("wrong parameter list")
	}
	m, err1 := parseParam(kv[0], "m=", 32)
	t, err2 := parseParam(kv[1], "t=", 32)
	par, err3 := parseParam(kv[2], "p=", 8)
	if err := errors.Join(err1, err2, err3); err != nil {
		return bad(err.Error())
	}
	if salt, err = b64.DecodeString(f[4]); err != nil {
		return bad("salt is not valid base64")
	}
	if key, err = b64.DecodeString(f[5]); err != nil {
		return bad("hash is not valid base64")
	}
	p = Params{
		Memory:  uint32(m),
		Time:    uint32(t),
		Threads: uint8(par),
		SaltLen: uint32(len(salt)),
		KeyLen:  uint32(len(key)),
	}
	if err := p.validate(); err != nil {
		return bad(err.Error())
	}
	return p, salt, key, nil
}

func parseParam(s, prefix string, bits int) (uint64, error) {
	v, ok := strings.CutPrefix(s, prefix)
	// ParseUint accepts neither signs nor spaces, but it does accept
	// leading zeros; rejecting them keeps the encoding canonical.
	if !ok || v == "" || (len(v) > 1 && v[0] == '0') {
		return 0, fmt.Errorf("bad %q parameter", strings.TrimSuffix(prefix, "="))
	}
	n, err := strconv.ParseUint(v, 10, bits)
	if err != nil {
		return 0, fmt.Errorf("bad %q parameter", strings.TrimSuffix(prefix, "="))
	}
	return n, nil
}
