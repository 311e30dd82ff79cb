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

// caddyfile is the forward-auth set-up documented in the README, on a
// loopback port, with no admin endpoint and no automatic HTTPS. %[1]d is
// the port, %[2]s the gateway and %[3]s the app.
const caddyfile = `{
	admin off
	auto_https off
}
http://127.0.0.1:%[1]d {
	handle /.gateway/* {
		reverse_proxy %[2]s
	}
	handle {
		forward_auth %[2]s {
			uri /.gateway/auth?redirect=1
			copy_headers X-Forwarded-User X-Forwarded-Email X-Forwarded-Groups
		}
		reverse_proxy %[3]s
	}
}
`

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
		if err := os.WriteFile(src, []byte(fmt.Sprintf(caddyfile, port, gatewayAddr, appAddr)), 0o600); err != nil {
			t.Fatal(err)
		}
		adapt := exec.Command(bin, "adapt", "--config", src, "--adapter", "caddyfile")
		adapt.Env = env
		out, err := adapt.Output()
		if err != nil {
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
}
