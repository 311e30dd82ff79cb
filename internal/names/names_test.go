package names

import (
	"regexp"
	"strings"
	"testing"
)

// The patterns these checks replaced; the loops must agree with them.
var (
	usernamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._@-]{0,63}$`)
	groupPattern    = regexp.MustCompile(`^[a-z0-9][a-z0-9._:@-]{0,63}$`)
)

func TestNamesMatchThePatterns(t *testing.T) {
	cases := []string{
		"", "a", "A", "alice", "Alice", "alice.smith@example.com", "ops:eu-west", "_x", ".x", "-x", "@x", ":x",
		"x_", "x:y", "x y", "x\x00", "é", "x/y", "x,y", strings.Repeat("a", 64), strings.Repeat("a", 65),
		"0", "9lives", "a" + strings.Repeat("-", 63), "a\n",
	}
	for _, s := range cases {
		if got, want := IsUsername(s), usernamePattern.MatchString(s); got != want {
			t.Errorf("IsUsername(%q) = %v, want %v", s, got, want)
		}
		if got, want := IsGroup(s), groupPattern.MatchString(s); got != want {
			t.Errorf("IsGroup(%q) = %v, want %v", s, got, want)
		}
	}
}

func FuzzNamesMatchThePatterns(f *testing.F) {
	for _, s := range []string{"alice", "ops:eu", "a@b.c", "", "_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if IsUsername(s) != usernamePattern.MatchString(s) || IsGroup(s) != groupPattern.MatchString(s) {
			t.Errorf("%q: loops and patterns disagree", s)
		}
	})
}
