package web

import "testing"

func TestDeviceLabel(t *testing.T) {
	tests := []struct {
		name, ua, want string
	}{
		{"iPhone Safari",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
			"Safari on iOS (mobile)"},
		{"iPhone Chrome",
			"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/125.0.6422.80 Mobile/15E148 Safari/604.1",
			"Chrome on iOS (mobile)"},
		{"iPad Safari",
			"Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1",
			"Safari on iOS (tablet)"},
		{"Android Chrome phone",
			"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.6367.113 Mobile Safari/537.36",
			"Chrome on Android (mobile)"},
		{"Android Chrome tablet (no Mobile token)",
			"Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			"Chrome on Android (tablet)"},
		{"Samsung Internet",
			"Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
			"Samsung Browser on Android (mobile)"},
		{"Firefox on Linux",
			"Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
			"Firefox on Linux (desktop)"},
		{"Firefox on Ubuntu",
			"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
			"Firefox on Linux (desktop)"},
		{"Edge on Windows",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36 Edg/125.0.2535.51",
			"Edge on Windows (desktop)"},
		{"Chrome on Windows",
			"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36",
			"Chrome on Windows (desktop)"},
		{"Safari on macOS",
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
			"Safari on macOS (desktop)"},
		{"Chrome on ChromeOS",
			"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
			"Chrome on ChromeOS (desktop)"},
		{"headless Chrome",
			"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
			"Chrome on Linux (automated)"},
		{"curl", "curl/8.5.0", "curl (app or script)"},
		{"Go client", "Go-http-client/1.1", "Go-http-client (app or script)"},
		{"python requests", "python-requests/2.31.0", "python-requests (app or script)"},
		{"crawler", "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "Automated client"},
		{"empty", "", "Unknown device"},
		{"markup is not a product name", "<script>alert(1)</script>/1.0", "Unknown device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeviceLabel(tt.ua); got != tt.want {
				t.Errorf("DeviceLabel(%q) = %q, want %q", tt.ua, got, tt.want)
			}
		})
	}
}
