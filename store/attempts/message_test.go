package attempts

import (
	"testing"
	"time"
)

func TestIn(t *testing.T) {
	tests := []struct {
		wait time.Duration
		want string
	}{
		{0, "1 second"},
		{300 * time.Millisecond, "1 second"},
		{time.Second, "1 second"},
		{1500 * time.Millisecond, "2 seconds"},
		{59 * time.Second, "59 seconds"},
		{60 * time.Second, "1 minute"},
		{61 * time.Second, "2 minutes"},
		{2 * time.Minute, "2 minutes"},
		{15 * time.Minute, "15 minutes"},
		{time.Hour, "1 hour"},
		{90 * time.Minute, "2 hours"},
	}
	for _, tt := range tests {
		if got := In(tt.wait); got != tt.want {
			t.Errorf("In(%v) = %q, want %q", tt.wait, got, tt.want)
		}
	}
	if got := Message(2 * time.Minute); got != "Too many attempts. Try again in 2 minutes." {
		t.Errorf("Message = %q", got)
	}
}

func TestRetryAfter(t *testing.T) {
	for wait, want := range map[time.Duration]string{0: "1", time.Millisecond: "1", time.Second: "1", 1001 * time.Millisecond: "2", 15 * time.Minute: "900"} {
		if got := RetryAfter(wait); got != want {
			t.Errorf("RetryAfter(%v) = %q, want %q", wait, got, want)
		}
	}
}

func TestClientKey(t *testing.T) {
	tests := map[string]string{
		"192.0.2.1":               "192.0.2.1",
		"::ffff:192.0.2.1":        "192.0.2.1",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::/64",
		"2001:db8:1:2::1":         "2001:db8:1:2::/64",
		"invalid IP":              "invalid IP",
		"fe80::1%eth0":            "fe80::/64",
		"2001:db8:ffff:ffff::abc": "2001:db8:ffff:ffff::/64",
	}
	for in, want := range tests {
		if got := ClientKey(in); got != want {
			t.Errorf("ClientKey(%q) = %q, want %q", in, got, want)
		}
	}
}
