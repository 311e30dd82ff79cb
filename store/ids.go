package store

import (
	"crypto/rand"
	"encoding/base64"
)

// NewSessionID returns a fresh session id with 144 random bits, URL-safe.
func NewSessionID() string { return randomToken(18) }

// newUserID returns a fresh user id with 96 random bits.
func newUserID() string { return randomToken(12) }

// randomToken returns n random bytes as unpadded base64url; crypto/rand
// never fails on supported platforms (Go 1.24+ panics instead of returning).
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
