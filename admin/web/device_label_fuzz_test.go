package web

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// FuzzDeviceLabel labels any User-Agent a client sends. The label is shown
// to the person and to staff, so whatever the header holds it is short,
// valid text without markup, control or invisible formatting characters,
// and never empty.
func FuzzDeviceLabel(f *testing.F) {
	for _, s := range []string{
		"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
		"curl/8.5.0", "python-requests/2.31", "Googlebot/2.1 (+http://www.google.com/bot.html)", "", "   ",
		"<script>alert(1)</script>/1.0", "gateway\u202eevil/1", "Ünïcødé-tool/1.0", "Mozilla", "a/b/c d",
		strings.Repeat("x", 100) + "/1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		label := DeviceLabel(ua)
		if label == "" || !utf8.ValidString(label) || utf8.RuneCountInString(label) > 80 {
			t.Fatalf("DeviceLabel(%q) = %q: want non-empty valid text of at most 80 characters", ua, label)
		}
		for _, r := range label {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || strings.ContainsRune("<>\"'&`", r) {
				t.Fatalf("DeviceLabel(%q) = %q holds %U", ua, label, r)
			}
		}
	})
}
