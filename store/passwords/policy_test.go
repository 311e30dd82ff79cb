package passwords

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	const (
		tooShort = "Use at least 12 characters."
		tooLong  = "Use at most 1024 characters."
		common   = "This password is too common; choose something less guessable."
		identity = "Don't use your username or email as the password."
		invalid  = "The password contains characters that are not valid text."
	)
	tests := []struct {
		name, pw, user, email string
		want                  string // "" means accepted
	}{
		{"empty", "", "", "", tooShort},
		{"too short", "abcdefghijk", "", "", tooShort},
		{"exactly min", "vzkq-trel-9m", "", "", ""},
		{"exactly max", strings.Repeat("ab", 512), "", "", ""},
		{"too long", strings.Repeat("a", 1025), "", "", tooLong},
		// 11 code points but 22 bytes: bytes must not count.
		{"unicode too short", strings.Repeat("é", 11), "", "", tooShort},
		{"unicode exactly min", strings.Repeat("é", 12), "", "", ""},
		{"emoji passphrase", "🔑 mein schlüssel", "", "", ""},
		// 1024 code points but 4096 bytes.
		{"unicode exactly max", strings.Repeat("🔑", 1024), "", "", ""},
		{"unicode too long", strings.Repeat("🔑", 1025), "", "", tooLong},
		{"invalid utf8", "abcdefghijkl\xff", "", "", invalid},
		{"common", "qwerty123456", "", "", common},
		{"common other", "1qaz2wsx3edc", "", "", common},
		{"common any case", "QWERTY123456", "", "", common},
		{"username", "AliceWonder99", "alicewonder99", "", identity},
		{"email", "alice.smith@example.com", "", "Alice.Smith@Example.com", identity},
		{"email local part", "ALICE.SMITH.1990", "", "alice.smith.1990@example.com", identity},
		{"contains username is fine", "alicewonder99 likes tea", "alicewonder99", "", ""},
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
			if pe.Reason != tt.want || err.Error() != tt.want {
				t.Fatalf("Check(%q) reason = %q; want %q", tt.pw, pe.Reason, tt.want)
			}
		})
	}
}

func TestCheckMinLenFloor(t *testing.T) {
	var pe *PolicyError
	if err := Check("", 0, "", ""); !errors.As(err, &pe) || pe.Reason != "Use at least 1 character." {
		t.Fatalf("Check(\"\", 0) = %v; want %q", err, "Use at least 1 character.")
	}
}
