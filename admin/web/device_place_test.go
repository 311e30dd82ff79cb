package web

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/authgate/gateway/internal/testkit/geoiptest"
)

func TestPlacesLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	geoiptest.Write(t, path, "GeoLite2-City", map[string][3]string{
		"81.2.69.0/24":    {"London", "United Kingdom", "GB"},
		"203.0.113.0/24":  {"", "Australia", "AU"},
		"198.51.100.7/32": {"Berlin", "Germany", "DE"},
	})
	places, err := OpenPlaces(path)
	if err != nil {
		t.Fatal(err)
	}
	defer places.Close()
	tests := []struct{ ip, want string }{
		{"81.2.69.142", "London, United Kingdom"},
		{"203.0.113.9", "Australia"},
		{"198.51.100.7", "Berlin, Germany"},
		{"198.51.100.8", ""},
		{"::ffff:81.2.69.1", "London, United Kingdom"},
		{"2001:db8::1", ""}, // an IPv4-only database knows no IPv6 place
		{"not an ip", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := places.Lookup(tt.ip); got != tt.want {
			t.Errorf("Lookup(%q) = %q, want %q", tt.ip, got, tt.want)
		}
	}
	var none *Places
	if got := none.Lookup("81.2.69.142"); got != "" {
		t.Errorf("nil Places found %q", got)
	}
}

func TestOpenPlacesRefusesBadFiles(t *testing.T) {
	if p, err := OpenPlaces(""); p != nil || err != nil {
		t.Fatalf("OpenPlaces(\"\") = %v, %v; want nil, nil (places are optional)", p, err)
	}
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(garbage, []byte("this is not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	asn := filepath.Join(dir, "asn.mmdb")
	geoiptest.Write(t, asn, "GeoLite2-ASN", nil)
	unknown := filepath.Join(dir, "unknown.mmdb")
	geoiptest.Write(t, unknown, "Acme-Whatever", nil)
	for _, path := range []string{filepath.Join(dir, "missing.mmdb"), garbage, asn, unknown} {
		p, err := OpenPlaces(path)
		if err == nil {
			p.Close()
			t.Errorf("OpenPlaces(%s) succeeded, want an error", filepath.Base(path))
			continue
		}
		if !strings.Contains(err.Error(), "geoip_db (GATEWAY_GEOIP_DB)") {
			t.Errorf("error %q does not name the setting", err)
		}
	}
}
