package totp

import (
	"crypto/rand"
	"net/url"
	"strings"
)

// RecoveryCount is how many recovery codes a person gets at a time.
const RecoveryCount = 10

// recoveryLen is the length of a recovery code without its dash: ten
// base32 characters, 50 bits of entropy each.
const recoveryLen = 10

// NewRecoveryCodes makes RecoveryCount fresh codes, written "abcde-fghij"
// (lower case base32, which has no 0/O or 1/l to confuse).
func NewRecoveryCodes() []string {
	codes := make([]string, RecoveryCount)
	buf := make([]byte, 7) // 56 bits, of which the first 50 are used
	for i := range codes {
		_, _ = rand.Read(buf)
		s := strings.ToLower(b32.EncodeToString(buf))[:recoveryLen]
		codes[i] = s[:5] + "-" + s[5:]
	}
	return codes
}

// NormalizeRecoveryCode turns what a person typed into the canonical form
// (upper case, no dashes or spaces) and reports whether it can be a
// recovery code.
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
		if !(r >= 'A' && r <= 'Z' || r >= '2' && r <= '7') {
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
