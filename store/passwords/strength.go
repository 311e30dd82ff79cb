package passwords

import (
	"math"
	"strings"
	"unicode/utf8"

	zxcvbn "github.com/ccojocar/zxcvbn-go"
	"github.com/ccojocar/zxcvbn-go/scoring"
)

// MinScore is the lowest zxcvbn score (0 to 4) a new password may have. The
// estimator is github.com/ccojocar/zxcvbn-go, a maintained Go port of
// Dropbox's zxcvbn: it finds the cheapest way to build the password from
// dictionary words (common passwords, English words, names), keyboard
// patterns, repeats, sequences, dates and leet substitutions, and turns
// that into an estimated number of guesses. Score 3 means at least about
// 2·10^10 guesses (34 bits; "10^6 seconds at 10^4 guesses a second" in the
// library's terms): out of reach of an online attack and a real cost
// offline against argon2id.
const MinScore = 3

// minBits is the entropy at which the library's score reaches MinScore:
// crack time 0.5·2^bits / 10^4 guesses per second ≥ 10^6 seconds.
var minBits = math.Log2(2 * 1e6 * 1e4)

// estimateChunk bounds the text given to the estimator at once. Its cost
// grows much faster than the length (a 1,024-character password takes
// seconds), so longer passwords are estimated in chunks and the chunks'
// bits added up. A chunk that already occurs earlier in the password
// (overlaps allowed, so any repeated pattern finds itself) adds nothing, so
// "1111…1x" does not pass on its length alone. Only a pattern spanning two
// chunks can be missed, and a password that long has plenty of bits
// elsewhere.
const estimateChunk = 48

// strongEnough runs the estimator on pw (already normalised), with the
// account's identifiers as extra dictionary words. When pw scores below
// MinScore it says why, naming the pattern that weighs most.
func strongEnough(pw string, userWords []string) (why string, ok bool) {
	var bits float64
	var first scoring.MinEntropyMatch
	for start := 0; start < len(pw); {
		end, n := start, 0
		for end < len(pw) && n < estimateChunk {
			_, size := utf8.DecodeRuneInString(pw[end:])
			end += size
			n++
		}
		chunk := pw[start:end]
		if i := strings.Index(pw[:end-1], chunk); i < 0 || i >= start {
			r := zxcvbn.PasswordStrength(chunk, userWords)
			if start == 0 {
				first = r
			}
			bits += r.Entropy
		}
		if bits >= minBits {
			return "", true
		}
		start = end
	}
	return "This password is too easy to guess: " + weakness(first) +
		". Try a few unrelated words, or a password from a password manager.", false
}

// weakness names, in plain words, the kind of pattern that covers most of
// the password in the estimator's cheapest explanation of it.
func weakness(r scoring.MinEntropyMatch) string {
	cover := map[string]int{}
	for _, m := range r.MatchSequence {
		kind := m.Pattern
		if kind == "dictionary" && m.DictionaryName == "user_inputs" {
			kind = "user"
		}
		cover[kind] += m.J - m.I + 1
	}
	best, most := "bruteforce", 0
	for _, kind := range []string{"user", "dictionary", "spatial", "repeat", "sequence", "date", "bruteforce"} {
		if cover[kind] > most {
			best, most = kind, cover[kind]
		}
	}
	switch best {
	case "user":
		return "it is mostly your username or email"
	case "dictionary":
		return "it is mostly common words, names or passwords"
	case "spatial":
		return "it is mostly a pattern of neighbouring keys"
	case "repeat":
		return "it is mostly repeated characters"
	case "sequence":
		return "it is mostly a sequence like \"abc\" or \"123\""
	case "date":
		return "it is mostly a date"
	}
	return "it is too short for the characters it uses"
}
