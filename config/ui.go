package config

import (
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// MaxUITitle is the longest accepted ui.title, in characters.
const MaxUITitle = 60

var accentPattern = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// validateUI checks the branding. Each value ends up in every page: the
// title as text, the URLs in href and src attributes, the colour in a
// stylesheet; templ escapes text and attributes, and these checks keep
// what is escaped meaningful (no script: URLs, no CSS beyond a colour).
func (c *Config) validateUI() error {
	u := &c.UI
	u.Title = strings.TrimSpace(u.Title)
	if u.Title == "" {
		u.Title = DefaultUITitle
	}
	switch {
	case len([]rune(u.Title)) > MaxUITitle:
		return keyErr("ui.title", "is %d characters; keep it to %d so it fits a phone's header", len([]rune(u.Title)), MaxUITitle)
	case strings.IndexFunc(u.Title, unicode.IsControl) >= 0:
		return keyErr("ui.title", "contains a control character")
	}
	if u.LogoURL != "" {
		if err := checkPageURL(u.LogoURL); err != "" {
			return keyErr("ui.logo_url", "%q %s", u.LogoURL, err)
		}
	}
	if u.AppURL != "" {
		if err := checkPageURL(u.AppURL); err != "" {
			return keyErr("ui.app_url", "%q %s", u.AppURL, err)
		}
	}
	if u.Accent != "" {
		if !accentPattern.MatchString(u.Accent) {
			return keyErr("ui.accent", "%q is not a colour; write six hex digits, e.g. %q", u.Accent, "#0b5cad")
		}
		u.Accent = strings.ToLower(u.Accent)
		if r := ContrastWithWhite(u.Accent); r < 4.5 {
			return keyErr("ui.accent", "%s has a contrast of %.2f:1 with the white text of buttons; pick a darker colour (at least 4.5:1)", u.Accent, r)
		}
	}
	return nil
}

// checkPageURL accepts a path on this host or an absolute http(s) URL,
// and returns what is wrong otherwise.
func checkPageURL(raw string) string {
	if strings.IndexFunc(raw, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return "contains a space or control character"
	}
	if strings.HasPrefix(raw, "/") && !strings.HasPrefix(raw, "//") && !strings.HasPrefix(raw, "/\\") {
		return ""
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return "must be a path starting with \"/\" or an http:// or https:// URL"
	case u.Host == "":
		return "has no host"
	case u.User != nil:
		return "must not contain a user name or password"
	}
	return ""
}

// LogoOrigin is the origin the pages' CSP must allow for ui.logo_url
// ("" when the logo is on the gateway's own host, or there is none).
func (u UI) LogoOrigin() string {
	if u.LogoURL == "" || strings.HasPrefix(u.LogoURL, "/") {
		return ""
	}
	p, err := url.Parse(u.LogoURL)
	if err != nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// ContrastWithWhite is the WCAG contrast ratio of a "#rrggbb" colour with
// white (1 to 21).
func ContrastWithWhite(hex string) float64 {
	return 1.05 / (RelativeLuminance(hex) + 0.05)
}

// RelativeLuminance is the WCAG 2 relative luminance of "#rrggbb".
func RelativeLuminance(hex string) float64 {
	v, err := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	if err != nil {
		return 0
	}
	ch := func(shift uint) float64 {
		c := float64((v>>shift)&0xff) / 255
		if c <= 0.04045 {
			return c / 12.92
		}
		return math.Pow((c+0.055)/1.055, 2.4)
	}
	return 0.2126*ch(16) + 0.7152*ch(8) + 0.0722*ch(0)
}
