package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

func TestAPITokenLifecycle(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	tok := &APIToken{Name: "ticket bot", Role: RoleSupport, OwnerID: "u1", CreatedBy: "alice"}
	secret, err := s.CreateAPIToken(ctx, tok, 30*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if d := tok.Expires.Sub(tok.Created); d < 30*24*time.Hour-time.Second || d > 30*24*time.Hour+time.Second {
		t.Fatalf("expires %v after creation, want 30 days", d)
	}
	if !strings.HasPrefix(secret, APITokenPrefix) || len(secret) < 40 || tok.ID == "" {
		t.Fatalf("secret %q id %q", secret, tok.ID)
	}
	got, err := s.FindAPITokenBySecret(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Name != "ticket bot" || got.Role != RoleSupport || got.CreatedBy != "alice" ||
		got.OwnerID != "u1" || !got.Expires.Equal(tok.Expires) {
		t.Fatalf("find by secret: %+v %v", got, err)
	}
	// The record outlives the expiry by apiTokenKeep (so callers are told it
	// expired), then Redis drops it and the list forgets it.
	h, _ := s.rdb.HGet(ctx, keyAPITokens, tok.ID).Result()
	if ttl := s.rdb.PTTL(ctx, keyAPIToken(h)).Val(); ttl < 30*24*time.Hour+apiTokenKeep-time.Minute || ttl > 30*24*time.Hour+apiTokenKeep {
		t.Fatalf("token record lives %v, want 30 days plus %v", ttl, apiTokenKeep)
	}
	gone := &APIToken{Name: "dropped", Role: RoleSupport, OwnerID: "u1"}
	if _, err := s.CreateAPIToken(ctx, gone, time.Hour); err != nil {
		t.Fatal(err)
	}
	gh, _ := s.rdb.HGet(ctx, keyAPITokens, gone.ID).Result()
	s.rdb.Del(ctx, keyAPIToken(gh))
	list, err := s.FindAPITokens(ctx)
	if n, _ := s.rdb.HLen(ctx, keyAPITokens).Result(); n != 1 {
		t.Fatalf("the index keeps %d entries after a record was dropped, want 1", n)
	}
	if err != nil || len(list) != 1 || list[0].LastUsed.IsZero() {
		t.Fatalf("list: %+v %v (want one token with a last use)", list, err)
	}
	keys, _ := s.rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		if strings.Contains(k, secret[len(APITokenPrefix):]) {
			t.Fatalf("key %s holds the secret", k)
		}
	}
	for _, bad := range []string{"", secret + "x", secret[len(APITokenPrefix):], strings.ToUpper(secret)} {
		if _, err := s.FindAPITokenBySecret(ctx, bad); !errors.Is(err, ErrNotFound) {
			t.Errorf("secret %q: %v, want not found", bad, err)
		}
	}
	if _, err := s.DeleteAPIToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindAPITokenBySecret(ctx, secret); !errors.Is(err, ErrNotFound) {
		t.Fatalf("revoked token still works: %v", err)
	}
	if _, err := s.DeleteAPIToken(ctx, tok.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second revoke: %v", err)
	}
	for _, bad := range []struct {
		tok *APIToken
		ttl time.Duration
	}{
		{&APIToken{Name: "x", Role: RoleUser, OwnerID: "u1"}, time.Hour},
		{&APIToken{Name: "x", Role: RoleAdmin}, time.Hour},
		{&APIToken{Name: "x", Role: RoleAdmin, OwnerID: "u1"}, APITokenMaxTTL + time.Second},
		{&APIToken{Name: "x", Role: RoleAdmin, OwnerID: "u1"}, 0},
	} {
		if _, err := s.CreateAPIToken(ctx, bad.tok, bad.ttl); err == nil {
			t.Errorf("token %+v for %v was made", bad.tok, bad.ttl)
		}
	}
}

func TestAPITokenCoveredByItsOwner(t *testing.T) {
	owner := func(disabled bool, roles ...string) *UserState {
		return &UserState{ID: "u1", Roles: roles, Disabled: disabled}
	}
	for _, c := range []struct {
		role  string
		owner *UserState
		want  bool
	}{
		{RoleAdmin, owner(false, RoleAdmin), true},
		{RoleAdmin, owner(false, RoleSupport), false},
		{RoleAdmin, owner(true, RoleAdmin), false},
		{RoleSupport, owner(false, RoleAdmin), true},
		{RoleSupport, owner(false, RoleSupport), true},
		{RoleSupport, owner(false, RoleUser), false},
		{RoleSupport, owner(true, RoleSupport), false},
		{RoleSupport, nil, false},
		{RoleSupport, &UserState{ID: "u2", Roles: []string{RoleAdmin}}, false},
	} {
		tok := &APIToken{Role: c.role, OwnerID: "u1"}
		if got := tok.CoveredBy(c.owner); got != c.want {
			t.Errorf("%s token, owner %+v: %v, want %v", c.role, c.owner, got, c.want)
		}
	}
}
