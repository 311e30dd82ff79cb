package httpsafe

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzStripIdentityHeaders sends a header under any spelling, plus a
// Connection header naming it, through the stripper: afterwards no key and
// no Connection token is an identity header in any case, with any
// punctuation for "-", or with a Unicode letter that folds to the ASCII one
// (the Kelvin sign for k, the long s for s).
func FuzzStripIdentityHeaders(f *testing.F) {
	for _, s := range []string{
		"X-Forwarded-User", "x_forwarded_user", "X.FORWARDED.EMAIL", " X-Forwarded-Groups\t",
		"X-Forwarded-U\u017fer", "X-Forwarded-Email", "x-forwarded-user,", "Accept",
		"X-Forwarded-User-Agent", "X--Forwarded-User", "X-Forwarded-Groups\x00",
	} {
		f.Add(s, "keep-alive, "+s)
	}
	names := []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups"}
	s := NewHeaderStripper(names)
	f.Fuzz(func(t *testing.T, key, connection string) {
		h := http.Header{key: {"admin"}, "Connection": {connection}, "X-Kept": {"1"}}
		s.Strip(h)
		for k, vs := range h {
			if spellsIdentity(k, names) {
				t.Fatalf("key %q survived stripping", k)
			}
			if !strings.EqualFold(k, "connection") {
				continue
			}
			for _, v := range vs {
				for tok := range strings.SplitSeq(v, ",") {
					if spellsIdentity(tok, names) {
						t.Fatalf("Connection token %q survived stripping (header %q)", tok, v)
					}
				}
			}
		}
		if h.Get("X-Kept") != "1" && !spellsIdentity("X-Kept", names) {
			t.Fatalf("an unrelated header was stripped along with %q", key)
		}
	})
}

// spellsIdentity is the rule written out independently of
// NormalizeHeaderName: surrounding blanks ignored, every ASCII character
// that is not a letter or digit stands for "-", letters compared with
// Unicode simple case folding.
func spellsIdentity(k string, names []string) bool {
	k = strings.Trim(k, " \t")
	k = strings.Map(func(r rune) rune {
		if r < 0x80 && !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return '-'
		}
		return r
	}, k)
	for _, n := range names {
		if strings.EqualFold(k, n) {
			return true
		}
	}
	return false
}
