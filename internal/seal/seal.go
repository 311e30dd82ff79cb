// Package seal encrypts small values for storage under keys derived from
// the configured secrets: the current secret seals, the current and every
// previous one open, so values written before a rotation stay readable.
//
// The format is fixed: a key is HKDF-SHA256 of the secret with no salt and
// the purpose as info (32 bytes); a sealed value is AES-256-GCM's nonce
// followed by its ciphertext, base64url without padding. TOTP secrets and
// assertion signing keys already stored in Redis depend on every detail.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// ErrUnopenable means a sealed value opens under none of the configured
// secrets: it is malformed, was sealed for other associated data, under a
// secret no longer configured, or was tampered with.
var ErrUnopenable = errors.New("seal: no configured secret opens the value")

// Key derives the 32-byte key for purpose from secret (HKDF-SHA256, no
// salt). Each purpose names its use and a version: changing it makes every
// value keyed by it unreadable.
func Key(secret, purpose string) ([]byte, error) {
	return hkdf.Key(sha256.New, []byte(secret), nil, purpose, 32)
}

// Sealer seals and opens values for one purpose.
type Sealer struct {
	aeads []cipher.AEAD // current secret first
}

// New derives one AES-256-GCM key for purpose from each secret, the
// current one first. An empty secret is refused: it would seal under a key
// anyone can derive.
func New(secrets []string, purpose string) (*Sealer, error) {
	if len(secrets) == 0 {
		return nil, errors.New("seal: no secret configured")
	}
	s := &Sealer{}
	for _, secret := range secrets {
		if secret == "" {
			return nil, errors.New("seal: empty secret")
		}
		k, err := Key(secret, purpose)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		s.aeads = append(s.aeads, aead)
	}
	return s, nil
}

// Seal encrypts plaintext under the current secret with a fresh random
// nonce. aad is bound in but not stored: Open needs the same aad, so a
// value copied onto another owner does not open.
func (s *Sealer) Seal(plaintext, aad []byte) string {
	aead := s.aeads[0]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, plaintext, aad))
}

// Open decrypts what Seal wrote, trying the current secret and then every
// previous one.
func (s *Sealer) Open(sealed string, aad []byte) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return nil, ErrUnopenable
	}
	for _, aead := range s.aeads {
		n := aead.NonceSize()
		if len(b) < n+aead.Overhead() {
			return nil, ErrUnopenable
		}
		if pt, err := aead.Open(nil, b[:n], b[n:], aad); err == nil {
			return pt, nil
		}
	}
	return nil, ErrUnopenable
}
