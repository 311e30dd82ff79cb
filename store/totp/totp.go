// Package totp holds the second factor's secrets and codes: it generates
// TOTP secrets (RFC 6238: 30 s, 6 digits, SHA1, as Google Authenticator,
// 1Password, Authy and oathtool expect), encrypts them for storage, checks
// codes with ±1 step of clock skew and says which time step matched, and
// makes and hashes single-use recovery codes.
//
// It keeps no state of its own: Check records the matched time step and
// used recovery codes through the store (store.ConsumeMFAStep and
// store.ConsumeRecoveryCode, atomic in Redis), so a code is accepted once
// even across replicas.
package totp

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Parameters every authenticator app understands.
const (
	// Period is the length of one time step.
	Period = 30 * time.Second
	// Digits is the length of a code.
	Digits = 6
	// Skew is how many steps before or after the current one are accepted.
	Skew = 1
	// secretBytes is the secret's size: 160 bits, as RFC 4226 recommends.
	secretBytes = 20
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// GenerateSecret returns a new random secret, base32 without padding.
func GenerateSecret() string {
	b := make([]byte, secretBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return b32.EncodeToString(b)
}

// Step is the time step t falls in.
func Step(t time.Time) int64 { return t.Unix() / int64(Period/time.Second) }

// NormalizeCode strips the spaces people type ("123 456") and reports
// whether what is left looks like a TOTP code (six digits).
func NormalizeCode(code string) (string, bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(code))
	if len(code) != Digits {
		return code, false
	}
	for _, c := range code {
		if c < '0' || c > '9' {
			return code, false
		}
	}
	return code, true
}

// ErrBadSecret is returned for a secret that is not valid base32.
var ErrBadSecret = errors.New("totp: malformed secret")

// Validate checks code against secret at now, allowing Skew steps either
// side. It returns the time step the code belongs to, which the caller must
// record (store.ConsumeMFAStep) so the code is accepted only once.
func Validate(secret, code string, now time.Time) (step int64, ok bool, err error) {
	code, isCode := NormalizeCode(code)
	if !isCode {
		return 0, false, nil
	}
	if _, err := b32.DecodeString(strings.ToUpper(secret)); err != nil {
		return 0, false, ErrBadSecret
	}
	cur := Step(now)
	// Every candidate is computed and compared in constant time, so the
	// response time says nothing about which step (if any) matched.
	found := int64(-1)
	for _, s := range []int64{cur - 1, cur, cur + 1} {
		want, err := CodeAt(secret, s)
		if err != nil {
			return 0, false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && found < 0 {
			found = s
		}
	}
	if found < 0 {
		return 0, false, nil
	}
	return found, true, nil
}

// CodeAt is the code of secret for time step step.
func CodeAt(secret string, step int64) (string, error) {
	if step < 0 {
		return "", errors.New("totp: negative time step")
	}
	return hotp.GenerateCodeCustom(secret, uint64(step), hotp.ValidateOpts{
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1,
	})
}

// GroupKey writes a secret in groups of four for people to type.
func GroupKey(secret string) string {
	var b strings.Builder
	for i, c := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(c)
	}
	return b.String()
}
