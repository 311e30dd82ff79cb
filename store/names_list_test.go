package store

import (
	"go/ast"
	"go/parser"
	"go/token"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// constValues returns the string constants of file whose names start
// with prefix, read from the source, so a constant added later without
// being listed fails the test below.
func constValues(t *testing.T, file, prefix string) map[string]string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, n := range vs.Names {
				if !strings.HasPrefix(n.Name, prefix) || i >= len(vs.Values) {
					continue
				}
				if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					out[n.Name], _ = strconv.Unquote(lit.Value)
				}
			}
		}
	}
	return out
}

// EventTypes and AuditActions are what the pages check their labels
// against: each must hold every constant of its kind.
func TestEveryEventTypeAndAuditActionIsListed(t *testing.T) {
	for _, tc := range []struct {
		file, prefix string
		list         []string
	}{
		{"activity.go", "Event", EventTypes},
		{"audit.go", "Audit", AuditActions},
	} {
		consts := constValues(t, tc.file, tc.prefix)
		if len(consts) < 10 {
			t.Fatalf("%s: only %d %s constants found", tc.file, len(consts), tc.prefix)
		}
		for name, v := range consts {
			if !slices.Contains(tc.list, v) {
				t.Errorf("%s (%q) is not listed", name, v)
			}
		}
	}
}
