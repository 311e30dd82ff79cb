package assertion

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/authgate/gateway/internal/seal"
	"github.com/authgate/gateway/store"
)

// KeyStore keeps the signing keys every replica shares (store.Store).
type KeyStore interface {
	FindSigningKeys(ctx context.Context) ([]store.SigningKey, error)
	AddSigningKey(ctx context.Context, k store.SigningKey, after string) (bool, error)
	DeleteSigningKey(ctx context.Context, id string) error
}

var _ KeyStore = (*store.Store)(nil)

// signingKey is a stored key this replica can sign with.
type signingKey struct {
	id         string
	activeFrom int64 // unix nanos
	signer     jose.Signer
}

// keyState is what one refresh of the keys found; replaced whole.
type keyState struct {
	// usable are the keys that opened with a configured secret, oldest
	// ActiveFrom first.
	usable []*signingKey
	// jwks is the JSON of every stored public key, pre-published ones
	// included.
	jwks []byte
}

// current returns the key to sign with at now (unix nanos): the newest
// that is active. It allocates nothing; the request path calls it.
func (s *keyState) current(now int64) *signingKey {
	for i := len(s.usable) - 1; i >= 0; i-- {
		if s.usable[i].activeFrom <= now {
			return s.usable[i]
		}
	}
	return nil
}

// keyRing reads, rotates and prunes the shared signing keys.
type keyRing struct {
	st        KeyStore
	sealer    *seal.Sealer // the current secret seals, every configured one opens
	lifetime  time.Duration
	rotation  time.Duration
	refresh   time.Duration
	now       func() time.Time
	log       *slog.Logger
	state     atomic.Pointer[keyState]
	decrypted map[string]*signingKey // by id; only the refresh loop touches it
	// known are the stored records the last load found, oldest first; a
	// key Redis has since lost is written back from here (restoreLost).
	known []store.SigningKey
}

// purposeKeySeal derives the key that seals private signing keys in
// Redis, like the other keys derived from the configured secret.
const purposeKeySeal = "gateway assertion signing key v1"

func newKeyRing(st KeyStore, secrets []string, o Options) (*keyRing, error) {
	k := &keyRing{st: st, lifetime: o.Lifetime, rotation: o.KeyRotation, refresh: o.Refresh, now: o.Now, log: o.Log,
		decrypted: map[string]*signingKey{}}
	if len(secrets) == 0 {
		return nil, errors.New("assertion: no secret configured")
	}
	var err error
	if k.sealer, err = seal.New(secrets, purposeKeySeal); err != nil {
		return nil, err
	}
	k.state.Store(&keyState{jwks: []byte(`{"keys":[]}`)})
	return k, nil
}

// prepublish is how long a new key is published before it signs: every
// replica has read it (several refreshes; a minute by default) and a
// verifier that caches the key set for ServeJWKS's max-age has seen it.
func (k *keyRing) prepublish() time.Duration { return 6 * k.refresh }

// retention is how long a key stays published after the next one took
// over: an assertion it signed lives at most the lifetime, and a replica
// may go on signing with it until its next refresh.
func (k *keyRing) retention() time.Duration { return k.lifetime + 2*k.refresh + time.Minute }

// load reads the keys, makes the first one or the next one when due, drops
// keys no live assertion needs, and publishes the result.
func (k *keyRing) load(ctx context.Context) error {
	keys, err := k.st.FindSigningKeys(ctx)
	if err != nil {
		return err
	}
	if lost := k.lostKeys(keys); len(lost) > 0 {
		if keys, err = k.restoreLost(ctx, keys, lost); err != nil {
			return err
		}
	}
	now := k.now()
	var newest *store.SigningKey
	if len(keys) > 0 {
		newest = &keys[len(keys)-1]
	}
	switch {
	case newest == nil:
		// The first key signs at once: nobody can have cached a key set.
		return k.add(ctx, "", now, now)
	case !now.Before(newest.Created.Add(k.rotation)):
		return k.add(ctx, newest.ID, now, now.Add(k.prepublish()))
	}
	k.prune(ctx, keys, now)
	st := &keyState{}
	set := jose.JSONWebKeySet{Keys: []jose.JSONWebKey{}}
	seen := map[string]bool{}
	for _, sk := range keys {
		var pub jose.JSONWebKey
		if err := pub.UnmarshalJSON(sk.Public); err == nil {
			set.Keys = append(set.Keys, pub)
		}
		seen[sk.ID] = true
		d := k.decrypted[sk.ID]
		if d == nil {
			if d, err = k.open(sk); err != nil {
				k.log.Error("assertion signing key cannot be opened with the configured secrets; it stays published but this replica does not sign with it",
					"kid", sk.ID, "err", err.Error())
				continue
			}
			k.decrypted[sk.ID] = d
		}
		st.usable = append(st.usable, d)
	}
	for id := range k.decrypted {
		if !seen[id] {
			delete(k.decrypted, id)
		}
	}
	if st.current(now.UnixNano()) == nil {
		// Every stored key was sealed under a secret no longer configured
		// (or the store lost them): make one this replica can use, now.
		return k.add(ctx, newest.ID, now, now)
	}
	if st.jwks, err = json.Marshal(set); err != nil {
		return err
	}
	k.state.Store(st)
	k.known = keys
	return nil
}

// lostKeys returns the keys this replica last found in Redis that are
// newer than anything Redis holds now: a flush, a failover to a replica
// that had not received them, or a restore from an older snapshot lost
// them. Without them every assertion they signed (up to the lifetime) would
// stop verifying, and replicas would each make a new key. Older missing
// keys were pruned on purpose and stay gone.
func (k *keyRing) lostKeys(stored []store.SigningKey) []store.SigningKey {
	var newest time.Time
	if len(stored) > 0 {
		newest = stored[len(stored)-1].ActiveFrom
	}
	var lost []store.SigningKey
	for _, rec := range k.known {
		if rec.ActiveFrom.After(newest) {
			lost = append(lost, rec)
		}
	}
	return lost
}

// restoreLost writes the lost keys back after the stored newest, oldest
// first, and reads the keys again. Of several replicas writing back at once
// one wins each step (AddSigningKey compares the newest id); the others
// stop and read what it wrote.
func (k *keyRing) restoreLost(ctx context.Context, stored, lost []store.SigningKey) ([]store.SigningKey, error) {
	after := ""
	if len(stored) > 0 {
		after = stored[len(stored)-1].ID
	}
	restored := 0
	for _, rec := range lost {
		ok, err := k.st.AddSigningKey(ctx, rec, after)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		after = rec.ID
		restored++
	}
	if restored > 0 {
		k.log.Warn("assertion signing keys missing from Redis were written back from this replica's memory",
			"restored", restored, "newest", after)
	}
	return k.st.FindSigningKeys(ctx)
}

// add makes a new key active from activeFrom and stores it after the key
// after, then loads again: whoever won the race, every replica ends up
// with the same keys.
func (k *keyRing) add(ctx context.Context, after string, now, activeFrom time.Time) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return err
	}
	id := newKeyID(now)
	pub, err := jose.JSONWebKey{Key: &priv.PublicKey, KeyID: id, Algorithm: string(jose.ES256), Use: "sig"}.MarshalJSON()
	if err != nil {
		return err
	}
	sealed := k.sealer.Seal(der, []byte(id))
	rec := store.SigningKey{ID: id, Created: now.UTC(), ActiveFrom: activeFrom.UTC(), Public: pub, Sealed: sealed}
	added, err := k.st.AddSigningKey(ctx, rec, after)
	if err != nil {
		return err
	}
	if added {
		k.log.Info("assertion signing key added", "kid", id, "active_from", rec.ActiveFrom.Format(time.RFC3339))
	}
	keys, err := k.st.FindSigningKeys(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return errors.New("assertion: signing key not stored")
	}
	if n := keys[len(keys)-1]; !k.now().Before(n.Created.Add(k.rotation)) {
		return errors.New("assertion: newest signing key is already due for rotation (clock skew between replicas?)")
	}
	return k.load(ctx)
}

// prune deletes keys retired long enough ago that nothing they signed is
// still alive.
func (k *keyRing) prune(ctx context.Context, keys []store.SigningKey, now time.Time) {
	for i := 0; i+1 < len(keys); i++ {
		next := keys[i+1].ActiveFrom
		if now.After(next.Add(k.retention())) {
			if err := k.st.DeleteSigningKey(ctx, keys[i].ID); err != nil {
				k.log.Warn("assertion signing key not pruned", "kid", keys[i].ID, "err", err.Error())
			}
		}
	}
}

// open decrypts a stored private key with any configured secret.
func (k *keyRing) open(sk store.SigningKey) (*signingKey, error) {
	der, err := k.sealer.Open(sk.Sealed, []byte(sk.ID))
	if err != nil {
		return nil, err
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, err
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not a P-256 key")
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: jose.JSONWebKey{Key: ec, KeyID: sk.ID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return nil, err
	}
	return &signingKey{id: sk.ID, activeFrom: sk.ActiveFrom.UnixNano(), signer: signer}, nil
}

// newKeyID names a key by its creation time and a random part, so ids
// sort by age in logs and never repeat.
func newKeyID(now time.Time) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s-%s", now.UTC().Format("20060102T150405Z"), base64.RawURLEncoding.EncodeToString(b))
}

// run refreshes the keys every refresh interval until ctx ends; a failed
// refresh keeps the keys already known and tries again.
func (k *keyRing) run(ctx context.Context) {
	t := time.NewTicker(k.refresh)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := k.load(lctx); err != nil && ctx.Err() == nil {
			k.log.Warn("assertion signing keys not refreshed", "err", err.Error())
		}
		cancel()
	}
}
