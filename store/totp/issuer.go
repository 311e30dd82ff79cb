package totp

import "strings"

// Issuer is the label authenticator apps show above the account: the host
// people reach the gateway at, without port, or "Sign-in gateway" when the
// host is not a plain name.
func Issuer(host string) string {
	if h, _, ok := strings.Cut(host, ":"); ok && !strings.HasPrefix(host, "[") {
		host = h
	}
	if host == "" || len(host) > 253 {
		return "Sign-in gateway"
	}
	for _, r := range host {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-') {
			return "Sign-in gateway"
		}
	}
	return strings.ToLower(host)
}
