package web

import (
	"testing"
	"time"
)

// The user-agent parser is not in memory until a label is needed, and
// leaves it after a while without one.
func TestLazyParserBuildsOnDemandAndLetsGo(t *testing.T) {
	l := newLazyParser(time.Hour)
	if l.built() {
		t.Fatal("parser built before any label was asked for")
	}
	const firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
	if got := string(l.Parse(firefox).Browser()); got != "Firefox" {
		t.Fatalf("browser = %q, want Firefox", got)
	}
	if !l.built() {
		t.Fatal("parser not kept after use")
	}
	l.expire(time.Now().Add(30 * time.Minute))
	if !l.built() {
		t.Fatal("parser dropped although used within the idle period")
	}
	l.expire(time.Now().Add(2 * time.Hour))
	if l.built() {
		t.Fatal("parser still in memory after the idle period")
	}
	if got := string(l.Parse(firefox).Browser()); got != "Firefox" {
		t.Fatalf("after rebuilding: browser = %q, want Firefox", got)
	}
}
