package totp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/authgate/gateway/internal/seal"
)

// Purposes of the keys derived from each configured secret. Changing one
// makes every stored value unreadable, hence the version in the name.
const (
	purposeSecret   = "gateway totp secret v1"
	purposeRecovery = "gateway recovery code v1"
	sealedPrefix    = "v1."
)

// Codec encrypts TOTP secrets for storage and hashes recovery codes, with
// keys derived (HKDF-SHA256) from the configured secret and every previous
// one: values written under an older secret still open after a rotation.
type Codec struct {
	sealer   *seal.Sealer
	recovery [][]byte // HMAC keys, current secret first
}

// ErrUndecryptable means a stored secret opens with none of the configured
// secrets (it was written under one no longer configured, or tampered with).
var ErrUndecryptable = errors.New("totp: stored secret cannot be decrypted with any configured secret")

// New derives the keys from secrets, the current one first.
func New(secrets []string) (*Codec, error) {
	// seal.New refuses an empty list or an empty secret, for both kinds of key.
	sealer, err := seal.New(secrets, purposeSecret)
	if err != nil {
		return nil, fmt.Errorf("totp: %w", err)
	}
	c := &Codec{sealer: sealer}
	for _, s := range secrets {
		rk, err := seal.Key(s, purposeRecovery)
		if err != nil {
			return nil, err
		}
		c.recovery = append(c.recovery, rk)
	}
	return c, nil
}

// Seal encrypts a TOTP secret of user uid with AES-256-GCM under the
// current secret. The user id is bound in as associated data, so a sealed
// value copied onto another user does not open.
func (c *Codec) Seal(uid, secret string) string {
	return sealedPrefix + c.sealer.Seal([]byte(secret), aad(uid))
}

// Open decrypts what Seal wrote, trying the current secret and then every
// previous one.
func (c *Codec) Open(uid, sealed string) (string, error) {
	raw, ok := strings.CutPrefix(sealed, sealedPrefix)
	if !ok {
		return "", ErrUndecryptable
	}
	pt, err := c.sealer.Open(raw, aad(uid))
	if err != nil {
		return "", ErrUndecryptable
	}
	return string(pt), nil
}

func aad(uid string) []byte { return []byte("totp secret\x00" + uid) }

// RecoveryHashes returns the stored forms that a typed recovery code of
// user uid may have: one per configured secret, the current one first. The
// caller tries each against the stored list (store.ConsumeRecoveryCode).
// ok is false when the input cannot be a recovery code at all.
func (c *Codec) RecoveryHashes(uid, typed string) (hashes []string, ok bool) {
	code, ok := NormalizeRecoveryCode(typed)
	if !ok {
		return nil, false
	}
	for _, k := range c.recovery {
		hashes = append(hashes, recoveryHash(k, uid, code))
	}
	return hashes, true
}

// HashRecoveryCodes hashes freshly made codes for storage, under the
// current secret.
func (c *Codec) HashRecoveryCodes(uid string, codes []string) []string {
	out := make([]string, 0, len(codes))
	for _, code := range codes {
		n, _ := NormalizeRecoveryCode(code)
		out = append(out, recoveryHash(c.recovery[0], uid, n))
	}
	return out
}

// recoveryHash is a keyed hash (HMAC-SHA256), so a copy of the database
// alone does not allow checking guesses offline. The user id is mixed in so
// equal codes of two people differ in storage.
func recoveryHash(key []byte, uid, normalized string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(uid))
	m.Write([]byte{0})
	m.Write([]byte(normalized))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
