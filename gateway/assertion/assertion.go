// Package assertion signs the identity of the person behind a proxied
// request for the app: a short-lived JWT (ES256) in a header, with the
// public keys published as a JWKS on every host. The keys live in Redis,
// sealed with a key derived from the configured secret, so every replica
// signs with the same ones; they rotate with overlap (a new key is
// published before it signs, an old one stays published until everything
// it signed has expired).
//
// Signing costs tens of microseconds, so an assertion is kept per session,
// route and host and signed again only shortly before it expires, when the
// signing key changes, or when the user's name, e-mail, roles or groups do.
// The cache never outlives the session: the caller asks for an assertion
// only for a session the revocation mirror just accepted.
package assertion

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/authgate/gateway/internal/seal"
	"github.com/authgate/gateway/store"
)

// MaxLifetime is the longest an assertion may live.
const MaxLifetime = 5 * time.Minute

// Options configure an Issuer.
type Options struct {
	// Secrets derive the key that seals private keys in Redis and the key
	// that turns session ids into the sid claim; current first.
	Secrets []string
	// Lifetime of one assertion (at most MaxLifetime).
	Lifetime time.Duration
	// KeyRotation is how long a key is the newest before the next is made.
	KeyRotation time.Duration
	// Refresh is how often the keys are read from Redis again (default 10s).
	Refresh time.Duration
	// Issuer is the iss claim: the portal's URL. Empty means the origin of
	// the app host the request came to (https://HOST, or http:// when
	// InsecureOrigin).
	Issuer         string
	InsecureOrigin bool
	// CacheSize bounds the cached assertions (default 10,000).
	CacheSize int
	Now       func() time.Time
	Log       *slog.Logger
}

// Issuer makes and caches assertions.
type Issuer struct {
	keys   *keyRing
	cache  *cache
	sidKey []byte
	opt    Options
}

// Claims are what an assertion says. Exported for tests and for the
// README's example.
type Claims struct {
	Issuer   string   `json:"iss"`
	Audience string   `json:"aud"`
	Subject  string   `json:"sub"`
	Name     string   `json:"name"`
	Email    string   `json:"email,omitempty"`
	Groups   []string `json:"groups"`
	Roles    []string `json:"roles"`
	Session  string   `json:"sid"`
	IssuedAt int64    `json:"iat"`
	Expiry   int64    `json:"exp"`
}

// New prepares an Issuer; call Load once (or Run) before the first request.
func New(st KeyStore, o Options) (*Issuer, error) {
	if o.Lifetime <= 0 || o.Lifetime > MaxLifetime {
		return nil, errors.New("assertion: lifetime must be above 0 and at most 5m")
	}
	if o.Refresh <= 0 {
		o.Refresh = 10 * time.Second
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 10_000
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	o.Issuer = strings.TrimRight(o.Issuer, "/")
	keys, err := newKeyRing(st, o.Secrets, o)
	if err != nil {
		return nil, err
	}
	sidKey, err := seal.Key(o.Secrets[0], "gateway assertion sid v1")
	if err != nil {
		return nil, err
	}
	return &Issuer{keys: keys, cache: newCache(o.CacheSize), sidKey: sidKey, opt: o}, nil
}

// Load reads (and, the first time, makes) the signing keys.
func (i *Issuer) Load(ctx context.Context) error { return i.keys.load(ctx) }

// Run keeps the keys current: reads them again every refresh interval,
// rotating and pruning when due, until ctx ends. Until a first load
// succeeds it retries every second.
func (i *Issuer) Run(ctx context.Context) {
	for i.keys.state.Load().current(i.opt.Now().UnixNano()) == nil {
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := i.keys.load(lctx)
		cancel()
		if err == nil {
			break
		}
		i.opt.Log.Warn("assertion signing keys not loaded yet", "err", err.Error())
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
	i.keys.run(ctx)
}

// Rotate makes the next signing key now, whatever the rotation period
// says: published at once, signing after the publication delay (six
// refresh intervals), the old one published until what it signed expired.
func (i *Issuer) Rotate(ctx context.Context) error {
	keys, err := i.keys.st.FindSigningKeys(ctx)
	if err != nil {
		return err
	}
	after := ""
	if len(keys) > 0 {
		after = keys[len(keys)-1].ID
	}
	now := i.opt.Now()
	return i.keys.add(ctx, after, now, now.Add(i.keys.prepublish()))
}

// ServeJWKS answers the public keys as a JSON Web Key Set.
func (i *Issuer) ServeJWKS(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/jwk-set+json")
	// Shorter than a new key is published before it signs (a minute by
	// default), so a verifier that caches the set knows the key in time.
	h.Set("Cache-Control", "public, max-age=30")
	h.Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(i.keys.state.Load().jwks)
}

// Header returns the assertion header's value for cur on the route (an
// index the caller keeps stable; -1 for the single upstream), whose host
// is routeHost ("" for a route of any host: the request's host is the
// audience then). ok is false when no key can sign yet: the caller must
// not proxy the request without it.
//
// A cached assertion costs no allocation: the returned slice is shared
// and must not be modified (http.Header values are replaced, not edited).
func (i *Issuer) Header(cur *store.Principal, route int, routeHost, reqHost string) (value []string, ok bool) {
	now := i.opt.Now().UnixNano()
	key := i.keys.state.Load().current(now)
	if key == nil {
		return nil, false
	}
	ck := cacheKey{sid: cur.Claims.SessionID, route: route}
	if routeHost == "" || i.opt.Issuer == "" {
		ck.host = reqHost // the audience or the issuer depends on it
	}
	if e := i.cache.get(ck); e != nil && e.key == key && now < e.refreshAt && e.sameUser(cur.User) {
		return e.value, true
	}
	e, err := i.sign(cur, key, now, routeHost, reqHost)
	if err != nil {
		i.opt.Log.Error("assertion not signed", "err", err.Error())
		return nil, false
	}
	i.cache.put(ck, e)
	return e.value, true
}

// sign makes a fresh assertion.
func (i *Issuer) sign(cur *store.Principal, key *signingKey, now int64, routeHost, reqHost string) (*entry, error) {
	host := strings.ToLower(reqHost)
	aud := routeHost
	if aud == "" {
		aud = host
		if h, _, err := net.SplitHostPort(host); err == nil {
			aud = h
		}
	}
	aud = strings.ToLower(aud)
	iss := i.opt.Issuer
	if iss == "" {
		scheme := "https://"
		if i.opt.InsecureOrigin {
			scheme = "http://"
		}
		iss = scheme + host
	}
	u := cur.User
	groups, roles := u.Groups, u.Roles
	if groups == nil {
		groups = []string{}
	}
	if roles == nil {
		roles = []string{}
	}
	iat := now / int64(time.Second)
	life := int64(i.opt.Lifetime / time.Second)
	c := Claims{
		Issuer: iss, Audience: aud, Subject: u.ID, Name: u.Username, Email: u.Email,
		Groups: groups, Roles: roles, Session: i.sessionRef(cur.Claims.SessionID),
		IssuedAt: iat, Expiry: iat + life,
	}
	tok, err := jwt.Signed(key.signer).Claims(c).Serialize()
	if err != nil {
		return nil, err
	}
	// Signed again when a fifth of the lifetime (at most a minute) is
	// left, so an app never receives one about to expire.
	margin := min(i.opt.Lifetime/5, time.Minute)
	return &entry{
		value: []string{tok}[:1:1], key: key, refreshAt: now + int64(i.opt.Lifetime-margin),
		user: u, id: u.ID, username: u.Username, email: u.Email, groups: u.GroupsHeader,
	}, nil
}

// sessionRef is the sid claim: a stable name for the session that is
// neither the cookie nor the session id (which staff URLs carry), so an
// app can tell sessions apart without holding anything that acts on them.
func (i *Issuer) sessionRef(sessionID string) string {
	m := hmac.New(sha256.New, i.sidKey)
	m.Write([]byte(sessionID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}
