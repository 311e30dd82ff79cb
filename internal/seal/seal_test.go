package seal

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"testing"
)

const (
	current  = "current-secret-0123456789abcdef0123"
	previous = "previous-secret-0123456789abcdef012"
	purpose  = "gateway test purpose v1"
)

// frozenAEAD and frozenSeal are the derivation and format that
// store/totp/codec.go and gateway/assertion/keys.go each wrote before this
// package existed, copied here unchanged: values in Redis were sealed this
// way and must keep opening.
func frozenAEAD(t *testing.T, secret, purpose string) cipher.AEAD {
	t.Helper()
	ek, err := hkdf.Key(sha256.New, []byte(secret), nil, purpose, 32)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(ek)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

func frozenSeal(t *testing.T, secret, purpose string, pt, aad []byte) string {
	aead := frozenAEAD(t, secret, purpose)
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, pt, aad))
}

func frozenOpen(t *testing.T, secret, purpose, sealed string, aad []byte) ([]byte, error) {
	b, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil {
		return nil, err
	}
	aead := frozenAEAD(t, secret, purpose)
	n := aead.NonceSize()
	return aead.Open(nil, b[:n], b[n:], aad)
}

func mustNew(t *testing.T, secrets ...string) *Sealer {
	t.Helper()
	s, err := New(secrets, purpose)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpensWhatTheOldCodeSealed(t *testing.T) {
	s := mustNew(t, current, previous)
	pt, aad := []byte("JBSWY3DPEHPK3PXP"), []byte("totp secret\x00u-42")
	for _, secret := range []string{current, previous} {
		got, err := s.Open(frozenSeal(t, secret, purpose, pt, aad), aad)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("sealed under %.8s… by the old code: got %q, %v", secret, got, err)
		}
	}
}

func TestOldCodeOpensWhatItSeals(t *testing.T) {
	s := mustNew(t, current, previous)
	pt, aad := []byte("a private key"), []byte("kid-1")
	got, err := frozenOpen(t, current, purpose, s.Seal(pt, aad), aad)
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("the old code opened %q, %v", got, err)
	}
	if _, err := frozenOpen(t, previous, purpose, s.Seal(pt, aad), aad); err == nil {
		t.Fatal("sealed under the previous secret: only the current one may seal")
	}
}

func TestKeyIsHKDFWithoutSalt(t *testing.T) {
	want, _ := hkdf.Key(sha256.New, []byte(current), nil, purpose, 32)
	got, err := Key(current, purpose)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Key = %x, %v; want %x", got, err, want)
	}
	other, _ := Key(current, purpose+"x")
	if bytes.Equal(got, other) {
		t.Fatal("two purposes gave the same key")
	}
}

func TestOpenRefuses(t *testing.T) {
	s := mustNew(t, current)
	aad := []byte("u-1")
	sealed := s.Seal([]byte("secret"), aad)
	raw, _ := base64.RawURLEncoding.DecodeString(sealed)
	flipped := bytes.Clone(raw)
	flipped[len(flipped)-1] ^= 1
	for name, c := range map[string]struct {
		sealed string
		aad    []byte
		s      *Sealer
	}{
		"other aad":       {sealed, []byte("u-2"), s},
		"tampered":        {base64.RawURLEncoding.EncodeToString(flipped), aad, s},
		"not base64":      {"!!" + sealed, aad, s},
		"too short":       {base64.RawURLEncoding.EncodeToString(raw[:20]), aad, s},
		"empty":           {"", aad, s},
		"secret not kept": {sealed, aad, mustNew(t, previous)},
		"other purpose":   {frozenSeal(t, current, purpose+" v2", []byte("secret"), aad), aad, s},
		"retired secret":  {frozenSeal(t, "retired-secret-0123456789abcdef0123", purpose, []byte("x"), aad), aad, mustNew(t, current, previous)},
	} {
		if got, err := c.s.Open(c.sealed, c.aad); !errors.Is(err, ErrUnopenable) {
			t.Errorf("%s: opened %q, err %v; want ErrUnopenable", name, got, err)
		}
	}
}

func TestSealUsesAFreshNonce(t *testing.T) {
	s := mustNew(t, current)
	if a, b := s.Seal([]byte("x"), nil), s.Seal([]byte("x"), nil); a == b {
		t.Fatal("the same value sealed twice gave the same text")
	}
}

func TestNewRefusesMissingSecrets(t *testing.T) {
	for name, secrets := range map[string][]string{"none": nil, "empty": {current, ""}} {
		if _, err := New(secrets, purpose); err == nil {
			t.Errorf("%s: New accepted %q", name, secrets)
		}
	}
}
