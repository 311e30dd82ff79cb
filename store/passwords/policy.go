package passwords

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
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

// Reasons a password is refused, in the words shown to the person.
const (
	reasonInvalid   = "The password contains characters that are not valid text."
	reasonInvisible = "The password has no visible characters: spaces and invisible characters alone are not a password."
	reasonOneChar   = "The password is one character repeated; choose something less predictable."
	reasonRepeated  = "The password repeats a short pattern (like \"abcabc\"); choose something less predictable."
	reasonSequence  = "The password is a sequence (like \"abcdef\", \"123456\" or a row of the keyboard); choose something less predictable."
	reasonIdentity  = "Don't build the password from your username or email."
	reasonCommon    = "This password is too common, even with digits or symbols added; choose something less guessable."
)

// Normalize is the form a password is checked and hashed in: Unicode NFKC,
// as NIST SP 800-63B asks, so that the same password typed on another
// keyboard or input method (a composed "é" or "e" plus an accent, a
// full-width letter, a no-break space) is the same password.
func Normalize(password string) string { return norm.NFKC.String(password) }

// Check reports whether password is acceptable as a new password, following
// NIST SP 800-63B-4: a minimum and maximum length and no composition rules
// (they push people towards predictable patterns like "Password1!"), but
// no password that is easy to guess. It refuses, after NFKC normalisation,
// a password that
//   - is shorter than minLen or longer than MaxLen code points (so non-ASCII
//     passwords are not penalised for their byte length; minLen values
//     below 1 are treated as 1, an empty password is never acceptable);
//   - has no visible character (spaces, tabs, no-break or zero-width
//     spaces);
//   - is one character repeated, or a short pattern repeated;
//   - is a sequence of letters or digits, or a walk along a keyboard row or
//     column, forwards or backwards;
//   - is built from the username, the email address or its local part,
//     with only digits and symbols added;
//   - is on the embedded list of common passwords, as typed or with the
//     digits and symbols around it removed ("password1234 ");
//   - scores below MinScore in the zxcvbn strength estimate (strength.go).
//
// Rejections are returned as *PolicyError, whose Reason says why in plain
// words.
func Check(password string, minLen int, username, email string) error {
	if !utf8.ValidString(password) {
		return &PolicyError{Reason: reasonInvalid}
	}
	pw := Normalize(password)
	n := utf8.RuneCountInString(pw)
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
	if !hasVisible(pw) {
		return &PolicyError{Reason: reasonInvisible}
	}
	// Case does not make a pattern less guessable: "AbCaBc" is "abcabc".
	folded := strings.ToLower(pw)
	switch {
	case oneRune(folded):
		return &PolicyError{Reason: reasonOneChar}
	case repeatsPattern(folded):
		return &PolicyError{Reason: reasonRepeated}
	case isSequence(folded):
		return &PolicyError{Reason: reasonSequence}
	case builtFromIdentity(folded, username, email):
		return &PolicyError{Reason: reasonIdentity}
	case IsCommon(folded) || IsCommon(trimNonLetters(folded)):
		return &PolicyError{Reason: reasonCommon}
	}
	if why, ok := strongEnough(pw, identityWords(username, email)); !ok {
		return &PolicyError{Reason: why}
	}
	return nil
}

// hasVisible reports whether s has a character that shows: not a space of
// any kind, not a control or formatting character (zero-width space,
// joiners, direction marks).
func hasVisible(s string) bool {
	for _, r := range s {
		if !unicode.IsSpace(r) && !unicode.IsControl(r) && !unicode.Is(unicode.Cf, r) &&
			!unicode.Is(unicode.Mn, r) && r != '\u3164' && r != '\u115f' && r != '\u1160' && r != '\uffa0' {
			return true
		}
	}
	return false
}

// oneRune reports whether s is one character repeated.
func oneRune(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	for _, r := range s {
		if r != first {
			return false
		}
	}
	return true
}

// repeatsPattern reports whether s is a pattern of at most half its length
// repeated, the last repetition possibly cut short: "passwordpassword",
// "abcabcabcabc", "abcabcabcab".
func repeatsPattern(s string) bool {
	rs := []rune(s)
	for p := 1; p <= len(rs)/2; p++ {
		same := true
		for i := p; i < len(rs); i++ {
			if rs[i] != rs[i-p] {
				same = false
				break
			}
		}
		if same {
			return true
		}
	}
	return false
}

// sequences are runs people type as "random": the alphabet, digits (which
// wrap: "1234567890123"), keyboard rows and columns of the common layouts,
// and the shifted digit row. A password that is a stretch of one of them,
// forwards or backwards, is a sequence.
var sequences = []string{
	"abcdefghijklmnopqrstuvwxyz",
	"0123456789",
	"qwertyuiopasdfghjklzxcvbnm", // QWERTY rows, left to right, top to bottom
	"qwertzuiopasdfghjklyxcvbnm", // QWERTZ
	"azertyuiopqsdfghjklmwxcvbn", // AZERTY
	"qazwsxedcrfvtgbyhnujmikolp", // QWERTY columns
	"1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p",
	"!@#$%^&*()_+",
	"`1234567890-=",
	"789456123", "741852963", // number pad
}

// isSequence reports whether s is a stretch of one of the sequences
// (repeated, so long runs and wrap-arounds count), forwards or backwards,
// also with each character doubled or more ("aabbccddeeff").
func isSequence(s string) bool {
	if d := squeeze(s); len(d) <= len(s)/2 && len(d) >= 3 && isStretch(d) {
		return true
	}
	return isStretch(s)
}

// squeeze drops each character equal to the one before it.
func squeeze(s string) string {
	var b strings.Builder
	var prev rune = -1
	for _, r := range s {
		if r != prev {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

func isStretch(s string) bool {
	rev := reverse(s)
	for _, seq := range sequences {
		// Enough copies that any stretch as long as s fits.
		long := strings.Repeat(seq, len(s)/len(seq)+2)
		if strings.Contains(long, s) || strings.Contains(long, rev) {
			return true
		}
	}
	return false
}

func reverse(s string) string {
	rs := []rune(s)
	for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
		rs[i], rs[j] = rs[j], rs[i]
	}
	return string(rs)
}

// identityWords are the account's identifiers an attacker who knows the
// account tries first: the username, the email address and its local part.
// Identifiers shorter than three characters are left out: they would refuse
// passwords that merely contain a common syllable.
func identityWords(username, email string) []string {
	var words []string
	for _, w := range []string{username, email, localPart(email)} {
		w = strings.ToLower(Normalize(strings.TrimSpace(w)))
		if utf8.RuneCountInString(w) >= 3 {
			words = append(words, w)
		}
	}
	return words
}

func localPart(email string) string {
	if at := strings.LastIndex(email, "@"); at >= 0 {
		return email[:at]
	}
	return ""
}

// builtFromIdentity reports whether folded is made of the account's
// identifiers with only digits, symbols and spaces around them:
// "alice2024!", "AliceAlice", "alice.smith@example.com". A password that
// merely contains the username among other words is fine.
func builtFromIdentity(folded, username, email string) bool {
	words := identityWords(username, email)
	if len(words) == 0 {
		return false
	}
	rest := folded
	for _, w := range words {
		rest = strings.ReplaceAll(rest, w, "")
	}
	if rest == folded {
		return false
	}
	for _, r := range rest {
		if unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// trimNonLetters removes the digits, symbols and spaces at both ends of s,
// the decoration people add to a common password to get past a list:
// "password1234 ", "!!qwerty2024".
func trimNonLetters(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return !unicode.IsLetter(r) })
}
