package httpsafe

import (
	"net/http"
	"reflect"
	"testing"
)

func TestNormalizeHeaderName(t *testing.T) {
	tests := map[string]string{
		"X-Forwarded-User":      "x-forwarded-user",
		"x_forwarded_user":      "x-forwarded-user",
		"X.Forwarded~User":      "x-forwarded-user",
		" X-Forwarded-User ":    "x-forwarded-user",
		"X-Forwarded-U\u017fer": "x-forwarded-user", // long s folds to s
		"X-Auth-\u0131d":        "x-auth-id",        // dotless i upper-cases to I
		"\u212a-Id":             "k-id",             // Kelvin sign
		"":                      "",
	}
	for in, want := range tests {
		if got := NormalizeHeaderName(in); got != want {
			t.Errorf("NormalizeHeaderName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStripIdentityHeaders(t *testing.T) {
	names := []string{"X-Forwarded-User", "X-Forwarded-Email", "X-Forwarded-Groups"}
	tests := []struct {
		name string
		in   http.Header
		want http.Header
	}{
		{
			name: "canonical",
			in:   http.Header{"X-Forwarded-User": {"admin"}, "Accept": {"*/*"}},
			want: http.Header{"Accept": {"*/*"}},
		},
		{
			name: "lower case non-canonical key",
			in:   http.Header{"x-forwarded-user": {"admin"}, "Accept": {"*/*"}},
			want: http.Header{"Accept": {"*/*"}},
		},
		{
			name: "underscores upper case",
			in:   http.Header{"X_FORWARDED_USER": {"admin"}, "X-Request-Id": {"1"}},
			want: http.Header{"X-Request-Id": {"1"}},
		},
		{
			name: "mixed separators",
			in:   http.Header{"X-Forwarded_user": {"admin"}, "X_forwarded-Email": {"a@b"}, "Cookie": {"s=1"}},
			want: http.Header{"Cookie": {"s=1"}},
		},
		{
			name: "other punctuation",
			in:   http.Header{"X.Forwarded.Groups": {"root"}, "Cookie": {"s=1"}},
			want: http.Header{"Cookie": {"s=1"}},
		},
		{
			name: "all spellings and multiple values at once",
			in: http.Header{
				"X-Forwarded-User":  {"a", "b"},
				"X_Forwarded_User":  {"c"},
				"x-forwarded_user":  {"d"},
				"X-Forwarded-Users": {"kept: different name"},
				"X-Forwarded-Use":   {"kept: prefix only"},
				"Xforwardeduser":    {"kept: separators matter"},
			},
			want: http.Header{
				"X-Forwarded-Users": {"kept: different name"},
				"X-Forwarded-Use":   {"kept: prefix only"},
				"Xforwardeduser":    {"kept: separators matter"},
			},
		},
		{
			name: "listed in connection only token",
			in:   http.Header{"Connection": {"X-Forwarded-User"}, "X-Forwarded-User": {"admin"}, "Accept": {"*/*"}},
			want: http.Header{"Accept": {"*/*"}},
		},
		{
			name: "listed in connection among others and odd spelling",
			in: http.Header{
				"Connection": {"keep-alive, x_forwarded_user", "Upgrade,X-FORWARDED-EMAIL , X-Custom"},
				"Upgrade":    {"websocket"},
				"X-Custom":   {"1"},
			},
			want: http.Header{
				"Connection": {"keep-alive, Upgrade, X-Custom"},
				"Upgrade":    {"websocket"},
				"X-Custom":   {"1"},
			},
		},
		{
			name: "non-canonical connection key",
			in:   http.Header{"connection": {"X-Forwarded-Groups"}, "Accept": {"*/*"}},
			want: http.Header{"Accept": {"*/*"}},
		},
		{
			name: "connection without identity tokens untouched",
			in:   http.Header{"Connection": {"keep-alive,  Upgrade"}, "Upgrade": {"h2c"}},
			want: http.Header{"Connection": {"keep-alive,  Upgrade"}, "Upgrade": {"h2c"}},
		},
		{
			name: "nothing to strip",
			in:   http.Header{"Accept": {"*/*"}, "Authorization": {"Bearer x"}},
			want: http.Header{"Accept": {"*/*"}, "Authorization": {"Bearer x"}},
		},
		{
			name: "empty header",
			in:   http.Header{},
			want: http.Header{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			StripIdentityHeaders(tt.in, names)
			if !reflect.DeepEqual(tt.in, tt.want) {
				t.Errorf("got %v, want %v", tt.in, tt.want)
			}
		})
	}
}

func TestStripIdentityHeadersNamesNormalized(t *testing.T) {
	// The configured names themselves may be written in any spelling.
	h := http.Header{"X-Forwarded-User": {"a"}, "Accept": {"*/*"}}
	StripIdentityHeaders(h, []string{"x_forwarded_USER", ""})
	if _, ok := h["X-Forwarded-User"]; ok || h.Get("Accept") != "*/*" {
		t.Errorf("got %v", h)
	}
	// No names: nothing happens (and nil header does not panic).
	h = http.Header{"X-Forwarded-User": {"a"}}
	StripIdentityHeaders(h, nil)
	StripIdentityHeaders(nil, []string{"X"})
	if h.Get("X-Forwarded-User") != "a" {
		t.Errorf("got %v", h)
	}
}
