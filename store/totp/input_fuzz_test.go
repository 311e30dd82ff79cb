package totp

import (
	"strings"
	"testing"
	"time"
)

// FuzzCodeInput types anything into the code field, as a TOTP code, a
// recovery code and a check against a real secret: an accepted TOTP code
// is six ASCII digits, an accepted recovery code is in canonical form
// (stable when normalised again), and a code is valid only if it is the
// secret's code for a step within the allowed skew.
func FuzzCodeInput(f *testing.F) {
	for _, s := range []string{
		"123456", " 123 456 ", "123-456", "１２３４５６", "12345６", "1234567", "", "abcdefghij",
		"abcde-fghij", "ABCDE FGHIJ", "abcde-fghi1", "\t2345-67abc\t", "ａｂｃｄｅｆｇｈｉｊ", "0x1234",
	} {
		f.Add(s, int64(1_700_000_000))
	}
	f.Fuzz(func(t *testing.T, typed string, unix int64) {
		if code, ok := NormalizeCode(typed); ok {
			if len(code) != Digits || strings.Trim(code, "0123456789") != "" {
				t.Fatalf("NormalizeCode(%q) = %q accepted; want six ASCII digits", typed, code)
			}
		}
		if rc, ok := NormalizeRecoveryCode(typed); ok {
			if len(rc) != recoveryLen || strings.Trim(rc, "ABCDEFGHIJKLMNOPQRSTUVWXYZ23456789") != "" {
				t.Fatalf("NormalizeRecoveryCode(%q) = %q accepted; want %d letters and digits 2-9", typed, rc, recoveryLen)
			}
			if again, ok := NormalizeRecoveryCode(rc); !ok || again != rc {
				t.Fatalf("NormalizeRecoveryCode(%q) = %q, again %q %v; want it stable", typed, rc, again, ok)
			}
		}
		now := time.Unix(unix%(1<<40), 0) // keep the year within what time and HOTP handle
		step, ok, err := Validate(rfcSecret, typed, now)
		if err != nil {
			if Step(now) > 0 {
				t.Fatalf("Validate(%q) at %v: %v", typed, now, err)
			}
			return
		}
		if !ok {
			return
		}
		code, _ := NormalizeCode(typed)
		want, err := CodeAt(rfcSecret, step)
		if d := step - Step(now); err != nil || want != code || d < -Skew || d > Skew {
			t.Fatalf("Validate(%q) at %v accepted step %d (now %d), whose code is %q", typed, now, step, Step(now), want)
		}
	})
}
