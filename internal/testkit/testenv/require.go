// Package testenv decides what a test does when an external program that it
// needs is not installed: skip by default, fail when the environment asks for
// it (as CI does).
//
// The environment variables are:
//
//	GATEWAY_TEST_REQUIRE_REDIS     redis-server
//	GATEWAY_TEST_REQUIRE_CHROMIUM  chromium (or chromium-browser, google-chrome)
//	GATEWAY_TEST_REQUIRE_OATHTOOL  oathtool
//	GATEWAY_TEST_REQUIRE_NGINX     nginx
//	GATEWAY_TEST_REQUIRE_SENTINEL  redis-sentinel
//	GATEWAY_TEST_REQUIRE_CADDY     caddy
//	GATEWAY_TEST_REQUIRE_MAILPIT   mailpit (go install github.com/axllent/mailpit@v1.33.1)
//	GATEWAY_TEST_REQUIRE_AXE       axe-core (npm package; see internal/testkit/axetest)
//
// Set one to "1" to turn a missing program into a test failure.
package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// Names of the environment variables that make a missing program a failure.
const (
	RequireRedis    = "GATEWAY_TEST_REQUIRE_REDIS"
	RequireChromium = "GATEWAY_TEST_REQUIRE_CHROMIUM"
	RequireOathtool = "GATEWAY_TEST_REQUIRE_OATHTOOL"
	RequireNginx    = "GATEWAY_TEST_REQUIRE_NGINX"
	RequireSentinel = "GATEWAY_TEST_REQUIRE_SENTINEL"
	RequireCaddy    = "GATEWAY_TEST_REQUIRE_CADDY"
	RequireMailpit  = "GATEWAY_TEST_REQUIRE_MAILPIT"
	RequireAxe      = "GATEWAY_TEST_REQUIRE_AXE"
)

// Require reports that the dependency what is missing. If the environment
// variable envVar is "1", the test fails; otherwise it is skipped. Require
// never returns.
func Require(tb testing.TB, what, envVar string) {
	tb.Helper()
	if os.Getenv(envVar) == "1" {
		tb.Fatalf("%s is required (%s=1) but not installed", what, envVar)
	}
	tb.Skipf("%s not installed; skipping (set %s=1 to make this a failure)", what, envVar)
}

// LookPath returns the path of the program bin, found with exec.LookPath. If
// bin is not installed, it calls Require, which skips or fails the test.
func LookPath(tb testing.TB, bin, envVar string) string {
	tb.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		Require(tb, bin, envVar)
	}
	return path
}
