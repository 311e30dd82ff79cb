package admin

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// WriteTestGeoIPDB writes a small IPv4 MaxMind DB of dbType to path, with one
// City record per prefix: {"city": city, "country": country, "iso": code}.
// It exists for tests (here and in admin_test) because no real GeoLite2 file
// may be downloaded in CI; the format is MaxMind DB 2.0, written by hand.
func WriteTestGeoIPDB(tb testing.TB, path, dbType string, places map[string][3]string) {
	tb.Helper()
	type rec struct {
		prefix netip.Prefix
		data   map[string]any
	}
	var recs []rec
	for p, v := range places {
		pfx := netip.MustParsePrefix(p)
		if !pfx.Addr().Is4() {
			tb.Fatalf("WriteTestGeoIPDB: %s is not IPv4", p)
		}
		data := map[string]any{"country": map[string]any{
			"iso_code": v[2], "names": map[string]any{"en": v[1]},
		}}
		if v[0] != "" {
			data["city"] = map[string]any{"names": map[string]any{"en": v[0]}}
		}
		recs = append(recs, rec{pfx.Masked(), data})
	}
	slices.SortFunc(recs, func(a, b rec) int { return strings.Compare(a.prefix.String(), b.prefix.String()) })

	// The search tree: each node has two records (bit 0, bit 1). A record is
	// a node index, "empty", or a reference to a data record.
	const empty, dataRef = -1, -2
	type record struct{ kind, val int }
	nodes := [][2]record{{{empty, 0}, {empty, 0}}}
	for i, r := range recs {
		ip := r.prefix.Addr().As4()
		node := 0
		for bit := 0; bit < r.prefix.Bits(); bit++ {
			b := (ip[bit/8] >> (7 - bit%8)) & 1
			if bit == r.prefix.Bits()-1 {
				nodes[node][b] = record{dataRef, i}
				break
			}
			if nodes[node][b].kind == empty {
				nodes = append(nodes, [2]record{{empty, 0}, {empty, 0}})
				nodes[node][b] = record{0, len(nodes) - 1}
			}
			node = nodes[node][b].val
		}
	}
	var data bytes.Buffer
	offsets := make([]int, len(recs))
	for i, r := range recs {
		offsets[i] = data.Len()
		mmdbEncode(&data, r.data)
	}
	n := len(nodes)
	var out bytes.Buffer
	for _, nd := range nodes {
		for _, r := range nd {
			v := n // empty
			switch r.kind {
			case dataRef:
				v = n + 16 + offsets[r.val]
			case 0:
				v = r.val
			}
			out.Write([]byte{byte(v >> 16), byte(v >> 8), byte(v)})
		}
	}
	out.Write(make([]byte, 16))
	out.Write(data.Bytes())
	out.WriteString("\xAB\xCD\xEFMaxMind.com")
	mmdbEncode(&out, map[string]any{
		"node_count": uint32(n), "record_size": uint16(24), "ip_version": uint16(4),
		"database_type": dbType, "languages": []any{"en"},
		"binary_format_major_version": uint16(2), "binary_format_minor_version": uint16(0),
		"build_epoch": uint64(1700000000), "description": map[string]any{"en": "test database"},
	})
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		tb.Fatal(err)
	}
}

// mmdbEncode writes v in the MaxMind DB data format.
func mmdbEncode(b *bytes.Buffer, v any) {
	switch v := v.(type) {
	case string:
		mmdbControl(b, 2, len(v))
		b.WriteString(v)
	case map[string]any:
		mmdbControl(b, 7, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			mmdbEncode(b, k)
			mmdbEncode(b, v[k])
		}
	case []any:
		mmdbControl(b, 11, len(v))
		for _, e := range v {
			mmdbEncode(b, e)
		}
	case uint16:
		mmdbUint(b, 5, uint64(v))
	case uint32:
		mmdbUint(b, 6, uint64(v))
	case uint64:
		mmdbUint(b, 9, v)
	default:
		panic("mmdbEncode: unsupported type")
	}
}

func mmdbUint(b *bytes.Buffer, typ int, v uint64) {
	raw := binary.BigEndian.AppendUint64(nil, v)
	raw = bytes.TrimLeft(raw, "\x00")
	mmdbControl(b, typ, len(raw))
	b.Write(raw)
}

// mmdbControl writes a control byte (and the extended type byte for types
// above 7); sizes here stay below 285.
func mmdbControl(b *bytes.Buffer, typ, size int) {
	first := byte(typ << 5)
	var ext []byte
	if typ > 7 {
		first = 0
		ext = []byte{byte(typ - 7)}
	}
	var extra []byte
	switch {
	case size < 29:
		first |= byte(size)
	case size < 29+256:
		first |= 29
		extra = []byte{byte(size - 29)}
	default:
		panic("mmdbControl: size too large for the test writer")
	}
	b.WriteByte(first)
	b.Write(ext)
	b.Write(extra)
}

func TestPlacesLookup(t *testing.T) {
	path := filepath.Join(t.TempDir(), "city.mmdb")
	WriteTestGeoIPDB(t, path, "GeoLite2-City", map[string][3]string{
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
	WriteTestGeoIPDB(t, asn, "GeoLite2-ASN", nil)
	unknown := filepath.Join(dir, "unknown.mmdb")
	WriteTestGeoIPDB(t, unknown, "Acme-Whatever", nil)
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
