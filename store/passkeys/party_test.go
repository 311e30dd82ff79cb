package passkeys

import (
	"errors"
	"testing"
)

func TestParty(t *testing.T) {
	for _, tc := range []struct {
		portal, origin string
		want           RP
		err            error
	}{
		{"", "http://localhost:8080", RP{"localhost", "http://localhost:8080"}, nil},
		{"", "https://Auth.Example.com:443", RP{"auth.example.com", "https://auth.example.com"}, nil},
		{"", "http://app.example.com", RP{"app.example.com", "http://app.example.com"}, nil},
		// The portal wins whatever host the request names.
		{"https://auth.example.com", "http://evil.example.net", RP{"auth.example.com", "https://auth.example.com"}, nil},
		{"", "http://127.0.0.1:8080", RP{}, ErrIPHost},
		{"", "http://[::1]:8080", RP{}, ErrIPHost},
		{"http://127.0.0.1:9443", "http://localhost:8080", RP{}, ErrIPHost},
	} {
		got, err := Party(tc.portal, tc.origin)
		if got != tc.want || (tc.err != nil && !errors.Is(err, tc.err)) || (tc.err == nil && err != nil) {
			t.Errorf("Party(%q, %q) = %+v, %v; want %+v, %v", tc.portal, tc.origin, got, err, tc.want, tc.err)
		}
	}
	for _, bad := range []string{"", "localhost", "ftp://x.example", "http://"} {
		if _, err := Party("", bad); err == nil {
			t.Errorf("Party(%q) accepted", bad)
		}
	}
}

func TestCleanName(t *testing.T) {
	for in, want := range map[string]string{
		"  Work laptop ": "Work laptop",
		"":               DefaultName,
		"\x00\u202e\t":   DefaultName,
		"a\u202eb\nc":    "abc",
	} {
		if got := CleanName(in); got != want {
			t.Errorf("CleanName(%q) = %q, want %q", in, got, want)
		}
	}
	long := ""
	for range 100 {
		long += "é"
	}
	if got := CleanName(long); len([]rune(got)) != MaxNameLength {
		t.Errorf("long name kept %d characters", len([]rune(got)))
	}
}
