// Package geoiptest writes small MaxMind DB files for tests: no real
// GeoLite2 file may be downloaded in CI.
package geoiptest

import (
	"bytes"
	"encoding/binary"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
)

// Write writes a small IPv4 MaxMind DB of dbType to path, with one
// City record per prefix: {"city": city, "country": country, "iso": code}.
// It exists for tests because no real GeoLite2 file
// may be downloaded in CI; the format is MaxMind DB 2.0, written by hand.
func Write(tb testing.TB, path, dbType string, places map[string][3]string) {
	tb.Helper()
	type rec struct {
		prefix netip.Prefix
		data   map[string]any
	}
	var recs []rec
	for p, v := range places {
		pfx := netip.MustParsePrefix(p)
		if !pfx.Addr().Is4() {
			tb.Fatalf("geoiptest.Write: %s is not IPv4", p)
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
