package totp

import (
	"crypto/rand"
	"net/url"
	"strings"
)

// RecoveryCount is how many recovery codes a person gets at a time.
const RecoveryCount = 10

// recoveryLen is the length of a recovery code without its dash: ten
// characters of recoveryAlphabet, 49.5 bits of entropy each.
const recoveryLen = 10

// recoveryAlphabet has no two characters a person could take for each
// other when reading a code off paper: no 0 or o, no 1, i or l. Codes
// made before it (lower case base32, which has i, l and o) keep working:
// NormalizeRecoveryCode accepts both.
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// NewRecoveryCodes makes RecoveryCount fresh codes, written "abcde-fghij".
func NewRecoveryCodes() []string {
	codes := make([]string, RecoveryCount)
	for i := range codes {
		s := randomFrom(recoveryAlphabet, recoveryLen)
		codes[i] = s[:5] + "-" + s[5:]
	}
	return codes
}

// randomFrom draws n characters of alphabet uniformly (bytes that would
// favour the first characters are drawn again).
func randomFrom(alphabet string, n int) string {
	limit := 256 - 256%len(alphabet)
	out := make([]byte, 0, n)
	buf := make([]byte, 16)
	for len(out) < n {
		_, _ = rand.Read(buf)
		for _, b := range buf {
			if int(b) < limit && len(out) < n {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// NormalizeRecoveryCode turns what a person typed into the canonical form
// (upper case, no dashes or spaces, whatever their number or place) and
// reports whether it can be a recovery code, of either alphabet (base32
// codes made before recoveryAlphabet included).
func NormalizeRecoveryCode(typed string) (string, bool) {
	s := strings.Map(func(r rune) rune {
		switch {
		case r == '-' || r == ' ' || r == '\t':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, strings.TrimSpace(typed))
	if len(s) != recoveryLen {
		return "", false
	}
	for _, r := range s {
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '9') {
			return "", false
		}
	}
	return s, true
}

// RecoveryFile is the text of the downloadable copy of codes.
func RecoveryFile(account string, codes []string) string {
	var b strings.Builder
	b.WriteString("Recovery codes for " + account + "\n")
	b.WriteString("Each code works once. Keep them somewhere safe.\n\n")
	for _, c := range codes {
		b.WriteString(c + "\n")
	}
	return b.String()
}

// RecoveryDownloadURL is a data: URL of RecoveryFile, for a download link
// that needs no request to the server and no script.
func RecoveryDownloadURL(account string, codes []string) string {
	return "data:text/plain;charset=utf-8," + url.PathEscape(RecoveryFile(account, codes))
}
