// Package testkit groups the helpers that only tests use: a real
// redis-server per test (redistest), headless Chromium (browsertest), a whole
// gateway on loopback ports (harness) and the rules for missing external
// programs (testenv). Nothing under this folder ships in the binary;
// production wiring lives in internal/server.
package testkit
