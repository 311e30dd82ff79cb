package config

import "testing"

func TestUIBrandingIsChecked(t *testing.T) {
	for _, tc := range []struct {
		name string
		ui   UI
		want []string // error parts; none means valid
	}{
		{"defaults", UI{Title: DefaultUITitle}, nil},
		{"full", UI{Title: "Acme accounts", LogoURL: "https://cdn.example.com/logo.svg", Accent: "#0B5CAD", AppURL: "https://app.example.com/"}, nil},
		{"local logo and app", UI{Title: "Acme", LogoURL: "/static/logo.png", AppURL: "/"}, nil},
		{"empty title means the default", UI{Title: "  "}, nil},
		{"long title", UI{Title: "An extremely long name for a sign-in service that never fits a phone"}, []string{"ui.title", "GATEWAY_UI_TITLE", "60"}},
		{"control in title", UI{Title: "Acme\x1b[31m"}, []string{"ui.title", "control"}},
		{"script logo", UI{Title: "A", LogoURL: "javascript:alert(1)"}, []string{"ui.logo_url", "GATEWAY_UI_LOGO_URL", "http"}},
		{"protocol-relative logo", UI{Title: "A", LogoURL: "//evil.example/x.png"}, []string{"ui.logo_url", "must be a path"}},
		{"no host", UI{Title: "A", LogoURL: "https:///x.png"}, []string{"ui.logo_url", "no host"}},
		{"backslash logo", UI{Title: "A", LogoURL: "/\\evil.example/x.png"}, []string{"ui.logo_url"}},
		{"data logo", UI{Title: "A", LogoURL: "data:image/svg+xml,<svg/>"}, []string{"ui.logo_url"}},
		{"logo with password", UI{Title: "A", LogoURL: "https://u:p@cdn.example.com/l.png"}, []string{"ui.logo_url", "password"}},
		{"quote in app url", UI{Title: "A", AppURL: "https://app.example.com/\" onclick=\"x"}, []string{"ui.app_url", "space"}},
		{"script app url", UI{Title: "A", AppURL: "JavaScript:alert(1)"}, []string{"ui.app_url", "GATEWAY_UI_APP_URL"}},
		{"named colour", UI{Title: "A", Accent: "red"}, []string{"ui.accent", "GATEWAY_UI_ACCENT", "six hex digits"}},
		{"css injection", UI{Title: "A", Accent: "#000;}body{display:none"}, []string{"ui.accent", "six hex digits"}},
		{"pale accent", UI{Title: "A", Accent: "#f0a500"}, []string{"ui.accent", "contrast of 2.", "4.5:1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			c.UI = tc.ui
			err := c.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkErr(t, err, tc.want...)
		})
	}
}

func TestUIAccentIsLowerCasedAndLogoOriginAllowed(t *testing.T) {
	c := validConfig()
	c.UI = UI{Title: "Acme", Accent: "#0B5CAD", LogoURL: "https://cdn.example.com:8443/a/logo.svg?v=2"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.UI.Accent != "#0b5cad" {
		t.Errorf("accent %q", c.UI.Accent)
	}
	if o := c.UI.LogoOrigin(); o != "https://cdn.example.com:8443" {
		t.Errorf("logo origin %q", o)
	}
	if o := (UI{LogoURL: "/logo.png"}).LogoOrigin(); o != "" {
		t.Errorf("local logo origin %q", o)
	}
}

func TestContrastWithWhite(t *testing.T) {
	for hex, want := range map[string]float64{"#000000": 21, "#ffffff": 1, "#0b5cad": 6.6} {
		if got := ContrastWithWhite(hex); got < want-0.1 || got > want+0.1 {
			t.Errorf("%s: %.2f, want about %.1f", hex, got, want)
		}
	}
}
