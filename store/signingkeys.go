package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"
)

// keySigningKeys holds the keys that sign identity assertions: one field
// per key id (a JSON SigningKey) and "newest", the id of the key added
// last. Every replica signs with the same keys, so they live in Redis; the
// private halves are sealed by the caller with a key derived from the
// configured secret.
const keySigningKeys = "gw:assertion:keys"

const newestSigningKey = "newest"

// SigningKey is one assertion signing key as stored.
type SigningKey struct {
	ID string `json:"id"`
	// Created is when the key was made; ActiveFrom is when replicas start
	// signing with it. The gap lets every replica publish it before any
	// assertion needs it. A key is retired when the next key's ActiveFrom
	// comes.
	Created    time.Time `json:"created"`
	ActiveFrom time.Time `json:"active_from"`
	// Public is the public key as a JWK (JSON), in the clear.
	Public json.RawMessage `json:"public"`
	// Sealed is the private key, encrypted by the caller.
	Sealed string `json:"sealed"`
}

// FindSigningKeys returns every stored signing key, oldest ActiveFrom
// first. Records that do not decode are skipped.
func (s *Store) FindSigningKeys(ctx context.Context) ([]SigningKey, error) {
	m, err := s.rdb.HGetAll(ctx, keySigningKeys).Result()
	if err != nil {
		return nil, err
	}
	keys := make([]SigningKey, 0, len(m))
	for field, v := range m {
		if field == newestSigningKey {
			continue
		}
		var k SigningKey
		if json.Unmarshal([]byte(v), &k) != nil || k.ID != field {
			continue
		}
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b SigningKey) int { return a.ActiveFrom.Compare(b.ActiveFrom) })
	return keys, nil
}

// AddSigningKey stores k as the newest key, but only if the newest key is
// still after ("" when there is none): of several replicas rotating at
// the same moment exactly one wins, and false tells the others to read
// the keys again.
func (s *Store) AddSigningKey(ctx context.Context, k SigningKey, after string) (bool, error) {
	b, err := json.Marshal(k)
	if err != nil {
		return false, err
	}
	n, err := addSigningKeyScript.Run(ctx, s.rdb, []string{keySigningKeys}, after, k.ID, string(b)).Int()
	if err != nil {
		return false, err
	}
	return n == 1, nil
}

var addSigningKeyScript = redis.NewScript(`
local newest = redis.call('HGET', KEYS[1], 'newest') or ''
if newest ~= ARGV[1] then return 0 end
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], ARGV[2], ARGV[3], 'newest', ARGV[2])
return 1`)

// DeleteSigningKey removes a key that no assertion still alive was signed
// with; the newest key is never removed.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return deleteSigningKeyScript.Run(ctx, s.rdb, []string{keySigningKeys}, id).Err()
}

var deleteSigningKeyScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'newest') == ARGV[1] then return 0 end
return redis.call('HDEL', KEYS[1], ARGV[1])`)
