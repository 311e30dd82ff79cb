package web

import (
	"strings"
	"unicode"

	"github.com/medama-io/go-useragent/agents"
)

// device is what a User-Agent says about the device behind a session.
type device struct {
	Browser string // "Chrome", "Safari", "" when unknown
	OS      string // "Android", "macOS", "" when unknown
	Kind    string // "desktop", "mobile", "tablet", "TV", "automated" or ""
	// Tool names a non-browser client ("curl", "Go-http-client").
	Tool string
}

// osNames spells operating systems the way their makers do.
var osNames = map[agents.OS]string{
	agents.OSMacOS: "macOS", agents.OSIOS: "iOS", agents.OSChromeOS: "ChromeOS",
}

// describeDevice parses a User-Agent into a device. The parser is a
// maintained library, built on demand (device_parser.go); two corrections are made on top of it:
//   - Android tablets send no "Mobile" token (phones do), which the library
//     does not distinguish.
//   - Command-line tools and scripts are named by their product token
//     ("curl/8.5.0" → curl), so a person recognises their own scripts.
func describeDevice(ua string) device {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return device{}
	}
	a := uaParser.Parse(ua)
	d := device{Browser: string(a.Browser()), OS: string(a.OS())}
	if n, ok := osNames[a.OS()]; ok {
		d.OS = n
	}
	switch a.Device() {
	case agents.DeviceDesktop:
		d.Kind = "desktop"
	case agents.DeviceMobile:
		d.Kind = "mobile"
	case agents.DeviceTablet:
		d.Kind = "tablet"
	case agents.DeviceTV:
		d.Kind = "TV"
	case agents.DeviceBot:
		d.Kind = "automated"
	}
	if a.OS() == agents.OSAndroid && d.Kind == "mobile" && !strings.Contains(ua, "Mobile") {
		d.Kind = "tablet"
	}
	if d.Browser == "" && d.OS == "" {
		d.Tool = productToken(ua)
		if d.Tool != "" {
			d.Kind = ""
		}
	}
	return d
}

// productToken returns the first product name of a User-Agent when it is
// not a browser's ("Mozilla"), cleaned to safe, short text.
func productToken(ua string) string {
	name, _, _ := strings.Cut(ua, "/")
	name, _, _ = strings.Cut(name, " ")
	if name == "" || strings.EqualFold(name, "Mozilla") || len(name) > 40 {
		return ""
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !strings.ContainsRune("-_.", r) {
			return ""
		}
	}
	return name
}

// Label is the device in words, e.g. "Safari on iOS (mobile)",
// "Firefox on Linux (desktop)", "curl (app or script)".
func (d device) Label() string {
	var s string
	switch {
	case d.Tool != "":
		return d.Tool + " (app or script)"
	case d.Browser != "" && d.OS != "":
		s = d.Browser + " on " + d.OS
	case d.Browser != "":
		s = d.Browser
	case d.OS != "":
		s = d.OS + " device"
	default:
		if d.Kind == "automated" {
			return "Automated client"
		}
		return "Unknown device"
	}
	if d.Kind != "" {
		s += " (" + d.Kind + ")"
	}
	return s
}

// DeviceLabel is describeDevice(ua).Label().
func DeviceLabel(ua string) string { return describeDevice(ua).Label() }
