package httpsafe

import (
	"net/url"
	"slices"
	"testing"
)

func TestInvalidPath(t *testing.T) {
	for _, tt := range []struct {
		raw  string // as on the request line
		want bool
	}{
		{"/", false}, {"/a/b", false}, {"/caf%C3%A9", false}, {"/100%25", false}, {"/a%2541", false},
		{"/a%2Fb", false}, {"/%E2%82%AC", false}, {"/%25zz", false},
		{"/x%00y", true}, {"/x%01", true}, {"/x%1F", true}, {"/x%7f", true}, {"/x%ff", true},
		{"/x%c0%af", true}, {"/x%e0%80%af", true}, {"/x%c2%85", true}, {"/x%ed%a0%80", true},
		{"/x%2500", true}, {"/x%25ff", true}, {"/x%252500", true}, {"/x%25c0%25af", true},
	} {
		u, err := url.ParseRequestURI(tt.raw)
		if err != nil {
			t.Fatalf("%s: %v", tt.raw, err)
		}
		if got := InvalidPath(u.Path); got != tt.want {
			t.Errorf("InvalidPath(%s) = %v, want %v", tt.raw, got, tt.want)
		}
	}
	if !InvalidPath("/x\ty") || !InvalidPath("/x\x7f") || !InvalidPath("/\xff") {
		t.Error("raw controls and bytes that are not UTF-8 must be invalid")
	}
}

func TestReadPath(t *testing.T) {
	for _, tt := range []struct {
		raw     string
		main    string
		alts    []string
		escaped bool
	}{
		{"/a/b", "/a/b", nil, false},
		{"/a%20b/", "/a b/", nil, false},
		{"/a%2Fb", "/a/b", []string{"/a%2Fb"}, true},
		{"/admin/..%2F..%2Fpublic", "/public", []string{"/admin/..%2F..%2Fpublic"}, true},
		{"/admin/..%5c..%5cpublic", "/public", []string{`/admin/..%5C..%5Cpublic`}, true},
		{`/a\..\admin`, "/admin", []string{`/a\..\admin`}, true},
		{"/admin;x", "/admin;x", []string{"/admin"}, false},
		{"/public/..;/admin", "/public/..;/admin", []string{"/admin"}, false},
		{"/x/..%252Fadmin", "/x/..%2Fadmin", []string{"/admin"}, false},
		{"/x/%2e%2e/admin", "/admin", nil, false},
	} {
		u, err := url.ParseRequestURI(tt.raw)
		if err != nil {
			t.Fatalf("%s: %v", tt.raw, err)
		}
		f := ReadPath(u)
		var alts []string
		for i := range f.Len() {
			alts = append(alts, f.Alt(i))
		}
		if f.Main != tt.main || !slices.Equal(alts, tt.alts) || f.EscapedSlash != tt.escaped {
			t.Errorf("ReadPath(%s) = %q %q %v, want %q %q %v", tt.raw, f.Main, alts, f.EscapedSlash, tt.main, tt.alts, tt.escaped)
		}
	}
}

func TestDecodeEscapedSlashes(t *testing.T) {
	for raw, want := range map[string]string{"/a%2Fb%20c": "/a/b%20c", "/a%5cb": "/a/b", `/a\b`: "/a/b"} {
		u, _ := url.ParseRequestURI(raw)
		DecodeEscapedSlashes(u)
		if u.EscapedPath() != want || ReadPath(u).EscapedSlash {
			t.Errorf("DecodeEscapedSlashes(%s) = %s", raw, u.EscapedPath())
		}
	}
}

// An ordinary path is read without allocating: the check runs on every
// proxied request.
func TestReadPathAllocatesNothingForOrdinaryPaths(t *testing.T) {
	u, _ := url.ParseRequestURI("/app/page/x.css")
	if n := testing.AllocsPerRun(100, func() {
		if InvalidPath(u.Path) {
			t.Fatal("invalid")
		}
		if f := ReadPath(u); f.Len() != 0 {
			t.Fatal("alternatives")
		}
	}); n != 0 {
		t.Errorf("%v allocations per ordinary path, want 0", n)
	}
}
