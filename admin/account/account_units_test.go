package account

import (
	"strings"
	"testing"
	"time"
)

func TestKeepCurrent(t *testing.T) {
	tests := []struct {
		vals []string
		want bool
	}{
		{nil, true},                   // field absent: the default is on
		{[]string{"0", "1"}, true},    // hidden 0, then the ticked box
		{[]string{"0"}, false},        // box not ticked: only the hidden 0
		{[]string{"1", "0"}, false},   // the last value wins
		{[]string{"false"}, false},    // spelled out
		{[]string{" Off "}, false},    // any case, any spaces
		{[]string{"on"}, true},        // a bare checkbox's value
		{[]string{"whatever"}, true},  // unknown: the safe default
		{[]string{"0", "true"}, true}, // JSON-ish spelling
	}
	for _, tt := range tests {
		if got := keepCurrent(tt.vals); got != tt.want {
			t.Errorf("keepCurrent(%q) = %v, want %v", tt.vals, got, tt.want)
		}
	}
}

func TestCleanDeviceName(t *testing.T) {
	tests := []struct {
		in, want, problem string
	}{
		{"  Work   laptop ", "Work laptop", ""},
		{"", "", ""}, // clears the name
		{"Alice's <b>phone</b>", "Alice's <b>phone</b>", ""},
		{strings.Repeat("é", 60), strings.Repeat("é", 60), ""},
		{strings.Repeat("é", 61), "", "at most 60"},
		{"bell\x07", "", "ordinary characters"},
		{"bad \xff utf-8", "", "ordinary characters"},
	}
	for _, tt := range tests {
		got, problem := cleanDeviceName(tt.in)
		if got != tt.want || !strings.Contains(problem, tt.problem) || (tt.problem == "") != (problem == "") {
			t.Errorf("cleanDeviceName(%q) = %q, %q; want %q, %q", tt.in, got, problem, tt.want, tt.problem)
		}
	}
}

func TestValidSessionID(t *testing.T) {
	for sid, want := range map[string]bool{
		"Th9_oHYDPx6koy09r8lCSsu-": true,
		"":                         false,
		"a}b":                      false,
		"../x":                     false,
		strings.Repeat("a", 65):    false,
	} {
		if got := validSessionID(sid); got != want {
			t.Errorf("validSessionID(%q) = %v, want %v", sid, got, want)
		}
	}
}

func TestWaitWords(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Second: "1 second", 30 * time.Second: "30 seconds", 59 * time.Second: "59 seconds",
		time.Minute: "1 minute", 61 * time.Second: "2 minutes", 15 * time.Minute: "15 minutes",
	} {
		if got := waitWords(d); got != want {
			t.Errorf("waitWords(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestEventWords(t *testing.T) {
	for typ, want := range map[string]string{
		"sign_in": "Signed in", "password_changed": "Password changed",
		"something_new": "Something new", "": "Activity",
	} {
		if got := eventWords(typ); got != want {
			t.Errorf("eventWords(%q) = %q, want %q", typ, got, want)
		}
	}
}

// The API's refusal codes for adding a passkey are the README's: a finish
// refused at the limit says too_many_passkeys, as its begin does.
func TestPasskeyErrorCodes(t *testing.T) {
	for status, want := range map[int]string{400: "no_ceremony", 404: "not_found", 409: "too_many_passkeys", 422: "passkey_refused", 503: "unavailable"} {
		if got := passkeyErrorCode(status); got != want {
			t.Errorf("%d: %q, want %q", status, got, want)
		}
	}
}
