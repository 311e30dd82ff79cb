package passwords

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
)

func testHasher(t *testing.T, maxConcurrent int) *Hasher {
	t.Helper()
	return NewHasher(TestParams(), maxConcurrent)
}

func TestHashVerifyRoundtrip(t *testing.T) {
	h := testHasher(t, 0)
	ctx := context.Background()
	for _, pw := range []string{"correct horse battery staple", "", "pässwörd 🔑"} {
		enc, err := h.Hash(ctx, pw)
		if err != nil {
			t.Fatalf("Hash(%q): %v", pw, err)
		}
		ok, err := h.Verify(ctx, enc, pw)
		if err != nil || !ok {
			t.Errorf("Verify(own hash of %q) = %v, %v; want true, nil", pw, ok, err)
		}
		ok, err = h.Verify(ctx, enc, pw+"x")
		if err != nil || ok {
			t.Errorf("Verify(wrong password) = %v, %v; want false, nil", ok, err)
		}
	}
}

func TestHashUsesFreshSalt(t *testing.T) {
	h := testHasher(t, 0)
	a, _ := h.Hash(context.Background(), "same")
	b, _ := h.Hash(context.Background(), "same")
	if a == b {
		t.Fatal("two hashes of the same password are identical; salt is not random")
	}
}

func TestEncodedFormat(t *testing.T) {
	h := NewHasher(Params{Memory: 2048, Time: 2, Threads: 2, SaltLen: 16, KeyLen: 32}, 1)
	enc, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "$argon2id$v=19$m=2048,t=2,p=2$"
	if !strings.HasPrefix(enc, prefix) {
		t.Fatalf("encoded = %q; want prefix %q", enc, prefix)
	}
	f := strings.Split(enc, "$")
	// 16 and 32 bytes in unpadded base64.
	// The only '=' are the four in v=, m=, t=, p=: no base64 padding.
	if len(f[4]) != 22 || len(f[5]) != 43 || strings.Count(enc, "=") != 4 {
		t.Errorf("salt/hash lengths %d/%d in %q; want 22/43 unpadded", len(f[4]), len(f[5]), enc)
	}
}

func TestVerifyUsesParamsFromHash(t *testing.T) {
	ctx := context.Background()
	old := NewHasher(Params{Memory: 2048, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}, 1)
	enc, err := old.Hash(ctx, "pw")
	if err != nil {
		t.Fatal(err)
	}
	cur := testHasher(t, 1)
	if ok, err := cur.Verify(ctx, enc, "pw"); err != nil || !ok {
		t.Fatalf("Verify of hash made with old params = %v, %v; want true, nil", ok, err)
	}
	if !cur.NeedsRehash(enc) {
		t.Error("NeedsRehash(old params) = false; want true")
	}
	if old.NeedsRehash(enc) {
		t.Error("NeedsRehash(current params) = true; want false")
	}
	if !cur.NeedsRehash("garbage") {
		t.Error("NeedsRehash(garbage) = false; want true")
	}
	// Only the key length differs.
	longer := TestParams()
	longer.KeyLen = 64
	if !NewHasher(longer, 1).NeedsRehash(enc) {
		t.Error("NeedsRehash with different key length = false; want true")
	}
}

func TestVerifyMalformed(t *testing.T) {
	h := testHasher(t, 1)
	good, err := h.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	f := strings.Split(good, "$")
	join := func(parts ...string) string { return strings.Join(parts, "$") }
	cases := map[string]string{
		"empty":         "",
		"bcrypt":        "$2a$10$abcdefghijklmnopqrstuu",
		"argon2i":       join("", "argon2i", f[2], f[3], f[4], f[5]),
		"version 16":    join("", "argon2id", "v=16", f[3], f[4], f[5]),
		"missing field": join("", "argon2id", f[2], f[3], f[5]),
		"extra field":   good + "$",
		"params order":  join("", "argon2id", f[2], "t=1,m=1024,p=1", f[4], f[5]),
		"negative":      join("", "argon2id", f[2], "m=1024,t=-1,p=1", f[4], f[5]),
		"leading zero":  join("", "argon2id", f[2], "m=01024,t=1,p=1", f[4], f[5]),
		"zero time":     join("", "argon2id", f[2], "m=1024,t=0,p=1", f[4], f[5]),
		"p overflow":    join("", "argon2id", f[2], "m=1024,t=1,p=256", f[4], f[5]),
		"huge memory":   join("", "argon2id", f[2], "m=4294967295,t=1,p=1", f[4], f[5]),
		"bad salt b64":  join("", "argon2id", f[2], f[3], "!!!!"+f[4][4:], f[5]),
		"padded hash":   join("", "argon2id", f[2], f[3], f[4], f[5]+"="),
		"short hash":    join("", "argon2id", f[2], f[3], f[4], f[5][:8]),
		"truncated":     good[:len(good)/2],
	}
	for name, enc := range cases {
		ok, err := h.Verify(context.Background(), enc, "pw")
		if ok || !errors.Is(err, ErrMalformedHash) {
			t.Errorf("%s: Verify(%q) = %v, %v; want false, ErrMalformedHash", name, enc, ok, err)
		}
	}
}

func TestVerifyTamperedKey(t *testing.T) {
	h := testHasher(t, 1)
	enc, _ := h.Hash(context.Background(), "pw")
	// Flip one character of the hash part to another valid base64 digit:
	// the encoding still parses, so the result must be a plain mismatch.
	b := []byte(enc)
	i := len(b) - 5
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	ok, err := h.Verify(context.Background(), string(b), "pw")
	if err != nil || ok {
		t.Fatalf("Verify(tampered key) = %v, %v; want false, nil", ok, err)
	}
}

func TestHashInvalidParams(t *testing.T) {
	for _, p := range []Params{
		{Memory: 1024, Time: 0, Threads: 1, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 1, Threads: 0, SaltLen: 16, KeyLen: 32},
		{Memory: 1024, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		{Memory: 4, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		if _, err := NewHasher(p, 1).Hash(context.Background(), "pw"); err == nil {
			t.Errorf("Hash with %+v succeeded; want error", p)
		}
	}
}

func TestDefaultParamsAreRFC9106Second(t *testing.T) {
	want := Params{Memory: 65536, Time: 3, Threads: 4, SaltLen: 16, KeyLen: 32}
	if got := DefaultParams(); got != want {
		t.Fatalf("DefaultParams() = %+v; want %+v", got, want)
	}
	if err := DefaultParams().validate(); err != nil {
		t.Fatal(err)
	}
}

func TestCancelledContextWhileWaiting(t *testing.T) {
	h := testHasher(t, 1)
	enc, _ := h.Hash(context.Background(), "pw")
	h.sem <- struct{}{} // occupy the only slot
	defer h.release()

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
		t.Errorf("Hash with cancelled ctx: err = %v; want context.Canceled", err)
	}
	if ok, err := h.Verify(ctx, enc, "pw"); ok || !errors.Is(err, context.Canceled) {
		t.Errorf("Verify with cancelled ctx = %v, %v; want false, context.Canceled", ok, err)
	}

	tctx, tcancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer tcancel()
	if _, err := h.Verify(tctx, enc, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify while slot busy: err = %v; want context.DeadlineExceeded", err)
	}
}

func TestCancelledContextWithFreeSlot(t *testing.T) {
	h := testHasher(t, 4)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 { // select would pick the free slot about half the time
		if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.Canceled) {
			t.Fatalf("Hash with cancelled ctx: err = %v; want context.Canceled", err)
		}
	}
}

func TestConcurrencyBound(t *testing.T) {
	h := testHasher(t, 1)
	h.sem <- struct{}{} // occupy the only slot

	done := make(chan error, 1)
	go func() {
		_, err := h.Hash(context.Background(), "pw")
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Hash finished (err=%v) while the only slot was taken", err)
	case <-time.After(50 * time.Millisecond):
	}
	h.release()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Hash did not finish after the slot was released")
	}
	if n := len(h.sem); n != 0 {
		t.Fatalf("%d slots still held after Hash returned", n)
	}
}

func TestNewHasherDefaultsConcurrency(t *testing.T) {
	if c := cap(NewHasher(TestParams(), 0).sem); c < 1 {
		t.Fatalf("semaphore capacity %d; want >= 1", c)
	}
	if c := cap(NewHasher(TestParams(), 3).sem); c != 3 {
		t.Fatalf("semaphore capacity %d; want 3", c)
	}
}

func TestVerifyDummy(t *testing.T) {
	h := testHasher(t, 1)
	// The dummy hash must parse with the current params, otherwise
	// VerifyDummy would return early and be faster than a real check.
	if p, _, _, err := decode(h.dummy); err != nil || p != h.params {
		t.Fatalf("dummy hash %q: params %+v, err %v", h.dummy, p, err)
	}
	h.VerifyDummy(context.Background(), "anything")
	if n := len(h.sem); n != 0 {
		t.Fatalf("%d slots still held after VerifyDummy", n)
	}
	// With the slot taken, a cancelled ctx must stop it from waiting.
	h.sem <- struct{}{}
	defer h.release()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	h.VerifyDummy(ctx, "anything")
}

// TestNormalizedHashing: a password is hashed in its NFKC form, so the same
// password typed composed or decomposed, or with full-width letters, signs
// in; a hash made before normalisation (of the typed form) still verifies.
func TestNormalizedHashing(t *testing.T) {
	h := testHasher(t, 0)
	ctx := context.Background()
	composed, decomposed := "caf\u00e9 au lait 42", "cafe\u0301 au lait 42"
	enc, err := h.Hash(ctx, decomposed)
	if err != nil {
		t.Fatal(err)
	}
	for _, pw := range []string{composed, decomposed} {
		if ok, err := h.Verify(ctx, enc, pw); err != nil || !ok {
			t.Errorf("Verify(%q) against the hash of %q = %v, %v; want true", pw, decomposed, ok, err)
		}
	}
	if enc2, _ := h.Hash(ctx, "ｐａｓｓ ｐｈｒａｓｅ"); !mustVerify(t, h, enc2, "pass phrase") {
		t.Error("full-width password does not verify as its ASCII form")
	}

	// A hash of the raw, non-NFKC form, as stored before normalisation.
	p := h.Params()
	salt := make([]byte, p.SaltLen)
	legacy := encode(p, salt, argon2IDKey(decomposed, salt, p))
	if !mustVerify(t, h, legacy, decomposed) {
		t.Error("a hash of the typed (decomposed) form no longer verifies")
	}
	if mustVerify(t, h, legacy, "cafe au lait 42") {
		t.Error("a different password verified against the legacy hash")
	}
}

func mustVerify(t *testing.T, h *Hasher, enc, pw string) bool {
	t.Helper()
	ok, err := h.Verify(context.Background(), enc, pw)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

func argon2IDKey(pw string, salt []byte, p Params) []byte {
	return argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}
