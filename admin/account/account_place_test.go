package account_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/server"
	"github.com/authgate/gateway/internal/testkit/geoiptest"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// With a GeoIP database configured, the devices list and the API show an
// approximate place next to each IP.
func TestAccountShowsPlaceWithGeoIPDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "city.mmdb")
	geoiptest.Write(t, db, "GeoLite2-City", map[string][3]string{
		"127.0.0.0/8": {"Testville", "Wonderland", "WL"},
	})
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.GeoIPDB = db }})
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)

	resp := c.Get(t, "/.gateway/account", "Accept", "text/html")
	doc, err := goquery.NewDocumentFromReader(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("account page: %d %v", resp.StatusCode, err)
	}
	if got := doc.Find("#devices .place").Text(); got != "Testville, Wonderland" {
		t.Errorf("place on the page = %q, want %q", got, "Testville, Wonderland")
	}

	resp = c.Get(t, "/.gateway/api/v1/me/sessions")
	var out struct {
		Sessions []struct {
			Place string `json:"place"`
		} `json:"sessions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Sessions) != 1 {
		t.Fatalf("me/sessions: %v %+v", err, out)
	}
	if out.Sessions[0].Place != "Testville, Wonderland" {
		t.Errorf("place in the API = %q", out.Sessions[0].Place)
	}
}

// A configured database that is missing or unusable stops start-up with
// one line naming the setting.
func TestGeoIPDatabaseProblemsStopStartUp(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Defaults()
	cfg.Listen, cfg.OpsListen = "127.0.0.1:0", "127.0.0.1:0"
	cfg.Upstream = "http://127.0.0.1:1"
	cfg.Secret = strings.Repeat("s", 48)

	cfg.GeoIPDB = filepath.Join(dir, "missing.mmdb")
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "geoip_db (GATEWAY_GEOIP_DB)") {
		t.Fatalf("Validate with a missing database: %v, want an error naming geoip_db", err)
	}

	cfg.GeoIPDB = filepath.Join(dir, "garbage.mmdb")
	if err := os.WriteFile(cfg.GeoIPDB, []byte("not a database"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Validate: %v (an existing file passes; its contents are checked at start-up)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	app, err := server.New(ctx, &cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), server.Options{})
	if err == nil {
		app.Close()
		t.Fatal("start-up succeeded with a garbage GeoIP database")
	}
	if msg := err.Error(); !strings.Contains(msg, "geoip_db (GATEWAY_GEOIP_DB)") || strings.Contains(msg, "\n") {
		t.Errorf("start-up error %q, want one line naming geoip_db", msg)
	}
}
