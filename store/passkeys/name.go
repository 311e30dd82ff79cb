package passkeys

import (
	"strings"
	"unicode"
)

// MaxNameLength is the longest passkey name kept, in characters.
const MaxNameLength = 64

// DefaultName is the name of a passkey added without one.
const DefaultName = "Passkey"

// CleanName turns a typed passkey name into the one kept: control and
// formatting characters dropped, spaces trimmed, at most MaxNameLength
// characters, DefaultName when nothing is left.
func CleanName(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == unicode.ReplacementChar {
			continue
		}
		if n == MaxNameLength {
			break
		}
		b.WriteRune(r)
		n++
	}
	if out := strings.TrimSpace(b.String()); out != "" {
		return out
	}
	return DefaultName
}
