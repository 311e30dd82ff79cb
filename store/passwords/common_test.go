package passwords

import (
	"strings"
	"testing"
)

func TestCommonList(t *testing.T) {
	set := commonSet()
	if n := len(set); n < 10000 {
		t.Fatalf("common list has %d entries; want >= 10000", n)
	}
	lines := strings.Split(strings.TrimSuffix(commonTxt, "\n"), "\n")
	if len(lines) != len(set) {
		t.Errorf("common.txt has %d lines but %d unique entries", len(lines), len(set))
	}
	for w := range set {
		if w != strings.ToLower(w) || strings.TrimSpace(w) != w {
			t.Errorf("entry %q is not lower-case and trimmed", w)
		}
	}
}

func TestIsCommon(t *testing.T) {
	for _, pw := range []string{"123456", "password", "Password", "iloveyou", "qwerty123456", "pic's"} {
		if !IsCommon(pw) {
			t.Errorf("IsCommon(%q) = false; want true", pw)
		}
	}
	for _, pw := range []string{"", "vzkq-trel-9m", "correct horse battery staple"} {
		if IsCommon(pw) {
			t.Errorf("IsCommon(%q) = true; want false", pw)
		}
	}
}
