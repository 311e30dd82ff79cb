// Package names checks the shape of user and group names. The store keeps
// them in this form and route rules in the configuration name them, so
// both check with the same code.
//
// The checks are plain loops rather than regular expressions: the bounded
// repetition a pattern would need ({0,63}) compiles to a few hundred live
// objects per pattern, which every garbage collection cycle would scan for
// the life of the process.
package names

// MaxLength is the longest user or group name.
const MaxLength = 64

// IsUsername reports whether s is a canonical (lower-case) username: 1-64
// characters of a-z, 0-9 and . _ @ -, starting with a letter or digit.
func IsUsername(s string) bool { return valid(s, "._@-") }

// IsGroup reports whether s is a canonical (lower-case) group name: 1-64
// characters of a-z, 0-9 and . _ : @ -, starting with a letter or digit.
func IsGroup(s string) bool { return valid(s, "._:@-") }

func valid(s, punct string) bool {
	if len(s) == 0 || len(s) > MaxLength || !alnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !alnum(c) && !in(c, punct) {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

func in(c byte, set string) bool {
	for i := 0; i < len(set); i++ {
		if set[i] == c {
			return true
		}
	}
	return false
}
