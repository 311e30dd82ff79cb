package config

import (
	"fmt"
	"strings"
)

// Error is a configuration problem tied to one setting. Its message is always
// a single line of the form
//
//	invalid configuration: <yaml.key> (<GATEWAY_ENV>): <problem>
//
// where the key or the environment variable is left out when it is not known
// (an unknown environment variable has no key, an unknown YAML key no
// variable).
type Error struct {
	// Key is the YAML key path, e.g. "session.idle_timeout" or
	// "routes[1].upstream".
	Key string
	// Env is the environment variable that sets the key, e.g.
	// "GATEWAY_SESSION_IDLE_TIMEOUT".
	Env string
	// Problem says what is wrong and what to do about it.
	Problem string
}

// Error returns the one-line message described on the type.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("invalid configuration: ")
	switch {
	case e.Key != "" && e.Env != "":
		fmt.Fprintf(&b, "%s (%s): ", e.Key, e.Env)
	case e.Key != "":
		b.WriteString(e.Key + ": ")
	case e.Env != "":
		b.WriteString(e.Env + ": ")
	}
	b.WriteString(oneLine(e.Problem))
	return b.String()
}

// keyErr builds an *Error for a YAML key; the variable is derived from it.
func keyErr(key, format string, args ...any) error {
	return &Error{Key: key, Env: EnvName(key), Problem: fmt.Sprintf(format, args...)}
}

// oneLine folds any line breaks so a message stays on one line.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.Fields(strings.NewReplacer("\r", " ", "\n", "; ").Replace(s)), " ")
}
