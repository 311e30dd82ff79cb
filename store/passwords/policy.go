package passwords

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxLen is the most code points a password may have. Long passphrases
// are welcome, but an unbounded input would let a client make the server
// hash megabytes per request.
const MaxLen = 1024

// PolicyError is returned by Check when a password is not acceptable.
// Reason is a complete sentence meant to be shown to the user as is.
type PolicyError struct {
	Reason string
}

// Error returns Reason.
func (e *PolicyError) Error() string { return e.Reason }

// Check reports whether password is acceptable as a new password, following
// NIST SP 800-63B: a minimum and maximum length, no composition rules (they
// push users towards predictable patterns like "Password1!"), and no
// password that is known to be common or derived from the account's own
// identifiers. Length is counted in Unicode code points, so non-ASCII
// passwords are not penalised for their byte length. minLen values below 1
// are treated as 1, because an empty password is never acceptable.
// Rejections are returned as *PolicyError.
func Check(password string, minLen int, username, email string) error {
	if !utf8.ValidString(password) {
		return &PolicyError{Reason: "The password contains characters that are not valid text."}
	}
	n := utf8.RuneCountInString(password)
	minLen = max(minLen, 1)
	if n < minLen {
		unit := "characters"
		if minLen == 1 {
			unit = "character"
		}
		return &PolicyError{Reason: fmt.Sprintf("Use at least %d %s.", minLen, unit)}
	}
	if n > MaxLen {
		return &PolicyError{Reason: fmt.Sprintf("Use at most %d characters.", MaxLen)}
	}
	if matchesIdentity(password, username, email) {
		return &PolicyError{Reason: "Don't use your username or email as the password."}
	}
	if IsCommon(password) {
		return &PolicyError{Reason: "This password is too common; choose something less guessable."}
	}
	return nil
}

// matchesIdentity reports whether password equals, ignoring case, the
// username, the email address or the email's local part: these are the
// first guesses an attacker who knows the account would try.
func matchesIdentity(password, username, email string) bool {
	candidates := []string{username, email}
	if at := strings.LastIndex(email, "@"); at >= 0 {
		candidates = append(candidates, email[:at])
	}
	for _, c := range candidates {
		if c != "" && strings.EqualFold(password, c) {
			return true
		}
	}
	return false
}
