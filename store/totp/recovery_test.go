package totp

import (
	"slices"
	"strings"
	"testing"
)

// New codes use only characters no one confuses, in the "abcde-fghij" form.
func TestNewRecoveryCodesHaveNoLookAlikes(t *testing.T) {
	seen := map[string]bool{}
	for range 50 {
		for _, c := range NewRecoveryCodes() {
			if len(c) != 11 || c[5] != '-' || strings.Trim(c[:5]+c[6:], recoveryAlphabet) != "" {
				t.Fatalf("code %q is not five and five characters of the alphabet", c)
			}
			if strings.ContainsAny(c, "0o1il") {
				t.Fatalf("code %q has a look-alike character", c)
			}
			if seen[c] {
				t.Fatalf("code %q made twice", c)
			}
			seen[c] = true
		}
	}
}

// A code is accepted however it is typed (case, spaces, dashes), and codes
// made before the new alphabet (base32, with i, l and o) keep working.
func TestRecoveryCodeTypedAnyWayMatches(t *testing.T) {
	c, err := New([]string{"a secret of at least thirty-two characters"})
	if err != nil {
		t.Fatal(err)
	}
	const uid = "u1"
	fresh := NewRecoveryCodes()[0]
	const old = "lio2a-bcd7e" // an earlier base32 code
	stored := c.HashRecoveryCodes(uid, []string{fresh, old})
	for _, tt := range []struct{ code, typed string }{
		{fresh, fresh},
		{fresh, strings.ToUpper(fresh)},
		{fresh, " " + strings.ReplaceAll(fresh, "-", " ") + " "},
		{fresh, strings.ReplaceAll(fresh, "-", "")[:3] + "-" + strings.ReplaceAll(fresh, "-", "")[3:]},
		{old, "LIO2A BCD7E"},
		{old, "lio2abcd7e"},
		{old, "lio-2ab-cd7e"},
	} {
		hashes, ok := c.RecoveryHashes(uid, tt.typed)
		if !ok || !slices.ContainsFunc(hashes, func(h string) bool { return slices.Contains(stored, h) }) {
			t.Errorf("%q typed as %q is not recognised", tt.code, tt.typed)
		}
	}
	for _, typed := range []string{"lio2a-bcd7", "lio2a-bcd7e-x", "lio2a_bcd7e"} {
		if _, ok := c.RecoveryHashes(uid, typed); ok {
			t.Errorf("%q accepted as a recovery code", typed)
		}
	}
}
