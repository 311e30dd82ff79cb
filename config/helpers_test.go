package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testSecret     = "s3cr3t-0123456789-abcdefghij-0123456789-XYZ"
	testPrevSecret = "old-s3cr3t-0123456789-abcdefghij-0123456789"
	testUpstream   = "http://127.0.0.1:3000"
)

// validConfig is Defaults plus the two settings it lacks.
func validConfig() Config {
	c := Defaults()
	c.Secret = testSecret
	c.Upstream = testUpstream
	return c
}

// minimalEnv makes an otherwise default configuration valid.
func minimalEnv(extra ...string) []string {
	return append([]string{"GATEWAY_SECRET=" + testSecret, "GATEWAY_UPSTREAM=" + testUpstream}, extra...)
}

// writeFile writes a YAML file into a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkErr asserts err is a one-line *Error-style message containing every
// part in want.
func checkErr(t *testing.T, err error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	msg := err.Error()
	if strings.ContainsAny(msg, "\r\n") {
		t.Errorf("error is not one line: %q", msg)
	}
	if !strings.HasPrefix(msg, "invalid configuration: ") {
		t.Errorf("error %q lacks the \"invalid configuration: \" prefix", msg)
	}
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q does not contain %q", msg, w)
		}
	}
}
