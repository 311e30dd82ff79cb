// Package e2e holds end-to-end tests: real gateways on loopback listeners,
// a real redis-server, real browsers and real nginx where a test says so.
package e2e
