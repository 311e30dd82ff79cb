package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad loads any YAML document with any GATEWAY_ variables on top, the
// way the binary starts. Whatever the input, Load either returns a
// configuration that validates, or one *Error whose message is a single
// line (what an operator reads in the log), never a panic.
func FuzzLoad(f *testing.F) {
	f.Add(fullYAML, "GATEWAY_LISTEN=:9000")
	f.Add("secret: "+testSecret+"\n", "")
	f.Add("", "GATEWAY_SECRET="+testSecret+"\nGATEWAY_ROUTES=app.example.com=http://127.0.0.1:1")
	f.Add("secret: "+testSecret+"\nsession: {idle_timeout: 200h}\n", "GATEWAY_SESSION_LIFETIME=1h")
	f.Add("a: &x {b: *x}\n", "GATEWAY_NOPE=1")
	f.Add("secret: "+testSecret+"\nroutes:\n  - host: a.example.com\n    upstream: http://x:1\n    public_paths: [/p/]\n", "GATEWAY_RATE_LIMIT_PER_IP=10/s")
	f.Add("<<: {listen: x}\n---\nx: 1\n", "GATEWAY_COOKIE_SECURE=maybe")
	f.Add("secret: \"line\\nbreak\"\n", "GATEWAY_TRUSTED_PROXIES=10.0.0.0/8,::1\nGATEWAY_PUBLIC_PATHS=/a, /b/")
	path := filepath.Join(f.TempDir(), "gateway.yaml")
	f.Fuzz(func(t *testing.T, doc, env string) {
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		environ := strings.Split(env, "\n")
		cfg, err := Load(path, environ)
		if err != nil {
			var ce *Error
			if !errors.As(err, &ce) {
				t.Fatalf("Load: %T %v; want *config.Error", err, err)
			}
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !strings.HasPrefix(msg, "invalid configuration: ") {
				t.Fatalf("Load error is not one line: %q", msg)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Load accepted a configuration that does not validate again: %v", err)
		}
	})
}
