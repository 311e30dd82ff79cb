package passwords

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzCheck runs the policy on any input with any identifiers: it never
// panics, refuses only with a *PolicyError carrying a sentence, and what it
// accepts has the length asked for, a visible character, more than one
// distinct character and is not the username.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{
		strings.Repeat(" ", 12), strings.Repeat("\u00a0", 12), strings.Repeat("\u200b", 12), "aaaaaaaaaaaa",
		"123456789012", "abcdefghijkl", "passwordpassword", "password1234 ", "qwertyuiopas", "vzkq-trel-9m",
		"correct horse battery staple", "🔑 mein schlüssel", "ｐａｓｓｗｏｒｄ１２３４", "alice2024!alice",
	} {
		f.Add(s, "alice", "alice@example.com")
	}
	f.Fuzz(func(t *testing.T, pw, user, email string) {
		err := Check(pw, 12, user, email)
		if err != nil {
			var pe *PolicyError
			if !errors.As(err, &pe) || !strings.HasSuffix(pe.Reason, ".") {
				t.Fatalf("Check(%q) = %v; want a *PolicyError with a sentence", pw, err)
			}
			return
		}
		n := Normalize(pw)
		if c := utf8.RuneCountInString(n); c < 12 || c > MaxLen {
			t.Fatalf("Check accepted %q of %d characters", pw, c)
		}
		if !hasVisible(n) || oneRune(strings.ToLower(n)) {
			t.Fatalf("Check accepted %q: nothing visible or one character", pw)
		}
		if u := strings.ToLower(Normalize(user)); len(u) >= 3 && strings.ToLower(n) == u {
			t.Fatalf("Check accepted the username %q", pw)
		}
	})
}
