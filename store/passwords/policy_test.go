package passwords

import (
	"crypto/rand"
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const (
		tooShort  = "Use at least 12 characters."
		tooLong   = "Use at most 1024 characters."
		common    = reasonCommon
		identity  = reasonIdentity
		invalid   = reasonInvalid
		invisible = reasonInvisible
		oneChar   = reasonOneChar
		repeated  = reasonRepeated
		sequence  = reasonSequence
		guessable = "This password is too easy to guess" // prefix: the rest names the pattern
	)
	tests := []struct {
		name, pw, user, email string
		want                  string // "" means accepted; otherwise the reason, or its start
	}{
		{"empty", "", "", "", tooShort},
		{"too short", "abcdefghijk", "", "", tooShort},
		{"exactly min", "vzkq-trel-9m", "", "", ""},
		{"exactly max", pseudoRandom(1024), "", "", ""},
		{"too long", pseudoRandom(1025), "", "", tooLong},
		// 11 code points but 22 bytes: bytes must not count.
		{"unicode too short", strings.Repeat("é", 11), "", "", tooShort},
		{"unicode counted in code points", "éàüßøåæœçñ€ł", "", "", ""},
		{"emoji passphrase", "🔑 mein schlüssel", "", "", ""},
		{"invalid utf8", "abcdefghijkl\xff", "", "", invalid},

		// The weak passwords of the black-box run, each with its reason.
		{"12 spaces", strings.Repeat(" ", 12), "", "", invisible},
		{"12 tabs", strings.Repeat("\t", 12), "", "", invisible},
		{"12 no-break spaces", strings.Repeat("\u00a0", 12), "", "", invisible},
		{"12 zero-width spaces", strings.Repeat("\u200b", 12), "", "", invisible},
		{"mixed invisible", " \u200b\u00a0\t\u2060\ufeff\u3000\u200d\u3164 \u2002\u180e", "", "", invisible},
		{"one letter", "aaaaaaaaaaaa", "", "", oneChar},
		{"one digit", "111111111111", "", "", oneChar},
		{"one letter any case", "aAaAaAaAaAaA", "", "", oneChar},
		{"digit sequence wrapping", "123456789012", "", "", sequence},
		{"alphabet", "abcdefghijkl", "", "", sequence},
		{"alphabet backwards", "LKJIHGFEDCBA", "", "", sequence},
		{"keyboard row", "qwertyuiopas", "", "", sequence},
		{"doubled alphabet", "aabbccddeeff", "", "", sequence},
		{"keyboard column", "1qaz2wsx3edc4rfv", "", "", sequence},
		{"word twice", "passwordpassword", "", "", repeated},
		{"short pattern", "abcabcabcabc", "", "", repeated},
		{"pattern cut short", "xy1xy1xy1xy1x", "", "", repeated},
		{"common with trailing digits and space", "password1234 ", "", "", common},
		{"common", "qwerty123456", "", "", common},
		{"common other", "iloveyou1234", "", "", common},
		{"common any case", "QWERTY123456", "", "", common},
		{"common decorated both ends", "!!!dragon2024!!!", "", "", common},
		{"full-width common is the common one (NFKC)", "ｐａｓｓｗｏｒｄ１２３４", "", "", common},

		// The account's own identifiers.
		{"username", "AliceWonder99", "alicewonder99", "", identity},
		{"username decorated", "alicewonder99!2024", "alicewonder99", "", identity},
		{"email", "alice.smith@example.com", "", "Alice.Smith@Example.com", identity},
		{"email local part", "ALICE.SMITH.1990", "", "alice.smith.1990@example.com", identity},
		{"local part twice", "alice.smith2024alice.smith", "", "alice.smith@example.com", identity},
		{"contains username is fine", "alicewonder99 likes green tea", "alicewonder99", "", ""},

		// The estimator catches what the rules above do not.
		{"common words", "monkeydragon1", "", "", guessable},
		{"date and name", "michael19851212", "", "", guessable},

		{"empty identities ignored", "vzkq-trel-9m", "", "", ""},
		{"no composition rules", "correct horse battery staple", "bob", "bob@example.com", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.pw, 12, tt.user, tt.email)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Check(%q) = %v; want nil", tt.pw, err)
				}
				return
			}
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("Check(%q) = %v; want *PolicyError", tt.pw, err)
			}
			if !strings.HasPrefix(pe.Reason, tt.want) || err.Error() != pe.Reason {
				t.Fatalf("Check(%q) reason = %q; want %q", tt.pw, pe.Reason, tt.want)
			}
		})
	}
}

// TestCheckRandomAccepted: a password from a password manager (16 random
// characters) is always accepted.
func TestCheckRandomAccepted(t *testing.T) {
	for range 50 {
		pw := rand.Text()[:16]
		if err := Check(pw, 12, "alice", "alice@example.com"); err != nil {
			t.Fatalf("Check(random %q) = %v; want nil", pw, err)
		}
	}
}

func TestCheckGuessableSaysWhy(t *testing.T) {
	err := Check("monkeydragon1", 12, "", "")
	if err == nil || !strings.Contains(err.Error(), "common words") {
		t.Fatalf("Check(monkeydragon1) = %v; want a reason naming common words", err)
	}
}

func TestCheckMinLenFloor(t *testing.T) {
	var pe *PolicyError
	if err := Check("", 0, "", ""); !errors.As(err, &pe) || pe.Reason != "Use at least 1 character." {
		t.Fatalf("Check(\"\", 0) = %v; want %q", err, "Use at least 1 character.")
	}
}

// pseudoRandom is n letters and digits with no pattern, the same every run.
func pseudoRandom(n int) string {
	const alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = alphabet[x%uint32(len(alphabet))]
	}
	return string(b)
}
