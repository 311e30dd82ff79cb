// Package passkeys runs the WebAuthn ceremonies of the gateway with
// github.com/go-webauthn/webauthn: adding a passkey to an account, and
// checking one at sign-in (alone, discoverable, or as the second step after
// the password). It is used by both the sign-in flows (gateway) and the
// account pages (admin), which must not import each other, and keeps what it
// stores in the store.
//
// Every ceremony is kept server-side in Redis, under a key derived from the
// browser or session it was begun for, and is taken out with GETDEL when it
// is answered: a challenge is answered at most once, only by the browser it
// was given to, within CeremonyTTL.
package passkeys

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// RP is a relying party: the host name passkeys are bound to and the one
// origin their ceremonies may come from.
type RP struct {
	ID     string // e.g. "auth.example.com" or "localhost"
	Origin string // e.g. "https://auth.example.com" or "http://localhost:8080"
}

// ErrIPHost means the pages are reached by an IP address, which WebAuthn
// does not accept as a relying-party id: passkeys need a host name.
var ErrIPHost = errors.New("passkeys need the gateway to be reached by a host name, not an IP address")

// MsgIPHost is what the pages say instead of offering passkeys on an IP
// address.
const MsgIPHost = "Passkeys are not available here: this page is reached by an IP address, and passkeys need a host name (such as localhost or auth.example.com)."

// Party is the relying party of a request whose origin (scheme://host[:port]
// as the browser used it) is origin. With a portal (portalOrigin not empty)
// passkeys live on the portal whatever the request says, since every page
// that runs a ceremony is served there; without one, on the host the gateway
// is reached by, so http://localhost:8080 works for a trial.
func Party(portalOrigin, origin string) (RP, error) {
	if portalOrigin != "" {
		origin = portalOrigin
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return RP{}, errors.New("passkeys: no usable origin")
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if net.ParseIP(host) != nil {
		return RP{}, ErrIPHost
	}
	if host == "" || strings.ContainsAny(host, "/\\@ ") {
		return RP{}, errors.New("passkeys: no usable host name")
	}
	port := u.Port()
	if (u.Scheme == "http" && port == "80") || (u.Scheme == "https" && port == "443") {
		port = ""
	}
	o := u.Scheme + "://" + host
	if port != "" {
		o += ":" + port
	}
	return RP{ID: host, Origin: o}, nil
}
