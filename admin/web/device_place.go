package web

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"strings"

	"github.com/oschwald/geoip2-golang"

	"github.com/authgate/gateway/config"
)

// Places turns an IP address into an approximate place ("Berlin,
// Germany") with a MaxMind-format database (GeoLite2/GeoIP2 City or
// Country, or a compatible DB-IP file). A nil *Places knows no places, so
// the pages simply leave the place out.
type Places struct {
	db *geoip2.Reader
}

// OpenPlaces opens the database at path once, for the life of the process
// (it is memory-mapped, not read per lookup). An empty path returns nil, nil:
// places are optional. A file that is missing, unreadable, of an unknown
// type or without location data is an error, so start-up fails with it
// rather than the pages silently showing no places.
func OpenPlaces(path string) (*Places, error) {
	if path == "" {
		return nil, nil
	}
	db, err := geoip2.Open(path)
	if err != nil {
		if db != nil {
			db.Close()
		}
		var pathErr *fs.PathError
		if errors.As(err, &pathErr) {
			return nil, geoipErr("%v", err) // names the file already
		}
		return nil, geoipErr("%s: %v", path, err)
	}
	// City answers for City and Country databases alike; anything else (an
	// ASN or ISP database) has no place to show.
	if _, err := db.City(net.IPv4(192, 0, 2, 1)); err != nil {
		var inv geoip2.InvalidMethodError
		if errors.As(err, &inv) {
			db.Close()
			return nil, geoipErr("%s is a %s database, which has no locations; use a City or Country database", path, inv.DatabaseType)
		}
	}
	return &Places{db: db}, nil
}

// geoipErr is a start-up error naming the setting, in config's one-line form.
func geoipErr(format string, args ...any) error {
	return &config.Error{Key: "geoip_db", Env: config.EnvName("geoip_db"), Problem: fmt.Sprintf(format, args...)}
}

// Lookup returns the approximate place of ip ("" when unknown, when ip is
// not an address, or when p is nil). It prefers English names.
func (p *Places) Lookup(ip string) string {
	if p == nil || ip == "" {
		return ""
	}
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	// An IPv4 address carried as IPv6 (::ffff:a.b.c.d) is looked up as IPv4,
	// which both IPv4-only and IPv6 databases answer.
	rec, err := p.db.City(net.IP(addr.Unmap().AsSlice()))
	if err != nil || rec == nil {
		return ""
	}
	var parts []string
	if n := rec.City.Names["en"]; n != "" {
		parts = append(parts, n)
	}
	if len(rec.Subdivisions) > 0 && len(parts) > 0 {
		if n := rec.Subdivisions[0].Names["en"]; n != "" && n != parts[0] {
			parts = append(parts, n)
		}
	}
	switch {
	case rec.Country.Names["en"] != "":
		parts = append(parts, rec.Country.Names["en"])
	case rec.Country.IsoCode != "":
		parts = append(parts, rec.Country.IsoCode)
	}
	return strings.Join(parts, ", ")
}

// Close releases the database.
func (p *Places) Close() error {
	if p == nil {
		return nil
	}
	return p.db.Close()
}
