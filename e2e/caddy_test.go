package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/authgate/gateway/internal/testkit/testenv"
)

// readmeCaddyfile is the README's Caddy forward-auth example, word for
// word but for the addresses: the site on a loopback port, with no admin
// endpoint and no automatic HTTPS, in front of gateway and app.
func readmeCaddyfile(t *testing.T, port int, gateway, app string) string {
	t.Helper()
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(readme), "**Caddy** (tested with")
	if ok {
		_, block, ok = strings.Cut(block, "```caddy\n")
	}
	if ok {
		block, _, ok = strings.Cut(block, "```")
	}
	site := fmt.Sprintf("http://127.0.0.1:%d {\n\tbind 127.0.0.1", port)
	for _, r := range [][2]string{{"app.example.com {", site}, {"gateway:8080", gateway}, {"app:3000", app}} {
		if !ok || !strings.Contains(block, r[0]) {
			t.Fatalf("the README's Caddy example has no %q", r[0])
		}
		block = strings.ReplaceAll(block, r[0], r[1])
	}
	return "{\n\tadmin off\n\tauto_https off\n}\n" + block
}

// startCaddy runs Caddy in front of gateway and app and returns its base
// URL. The Caddyfile is adapted to JSON first so that config persistence
// can be turned off too (Debian's Caddy 2.6 has no persist_config option);
// HOME and the XDG directories point into a temporary directory.
func startCaddy(t *testing.T, gatewayAddr, appAddr string) string {
	t.Helper()
	bin := testenv.LookPath(t, "caddy", testenv.RequireCaddy)
	dir := t.TempDir()
	env := []string{"HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "config"), "XDG_DATA_HOME=" + filepath.Join(dir, "data"), "PATH=/usr/bin:/bin"}
	for attempt := 0; attempt < 4; attempt++ {
		port := freePort(t)
		src := filepath.Join(dir, "Caddyfile")
		if err := os.WriteFile(src, []byte(readmeCaddyfile(t, port, gatewayAddr, appAddr)), 0o600); err != nil {
			t.Fatal(err)
		}
		adapt := exec.Command(bin, "adapt", "--config", src, "--adapter", "caddyfile")
		adapt.Env = env
		out, err := adapt.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("caddy adapt: %v %s", err, ee.Stderr)
		} else if err != nil {
			t.Fatalf("caddy adapt: %v", err)
		}
		var cfg map[string]any
		if err := json.Unmarshal(out, &cfg); err != nil {
			t.Fatalf("caddy adapt output: %v", err)
		}
		cfg["admin"] = map[string]any{"disabled": true, "config": map[string]any{"persist": false}}
		js, _ := json.Marshal(cfg)
		conf := filepath.Join(dir, "caddy.json")
		if err := os.WriteFile(conf, js, 0o600); err != nil {
			t.Fatal(err)
		}
		if base, busy := launchCaddy(t, bin, conf, env, port); !busy {
			return base
		}
	}
	t.Fatal("no free port for caddy")
	return ""
}

func launchCaddy(t *testing.T, bin, conf string, env []string, port int) (string, bool) {
	t.Helper()
	cmd := exec.Command(bin, "run", "--config", conf)
	cmd.Env = env
	return runFrontProxy(t, cmd, port, syscall.SIGTERM, "")
}

func TestCaddyForwardAuthWithRules(t *testing.T) {
	g, app := rulesGateway(t)
	base := startCaddy(t, strings.TrimPrefix(g.URL, "http://"), strings.TrimPrefix(app.URL, "http://"))
	checkFrontedRules(t, base, true)
	checkFrontedSpoofing(t, base)
}
