package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/authgate/gateway/internal/testkit/redistest"
)

func TestAPITokenLifecycle(t *testing.T) {
	s := openStore(t, redistest.Start(t))
	ctx := context.Background()
	tok := &APIToken{Name: "ticket bot", Role: RoleSupport, CreatedBy: "alice"}
	secret, err := s.CreateAPIToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, APITokenPrefix) || len(secret) < 40 || tok.ID == "" {
		t.Fatalf("secret %q id %q", secret, tok.ID)
	}
	got, err := s.FindAPITokenBySecret(ctx, secret)
	if err != nil || got.ID != tok.ID || got.Name != "ticket bot" || got.Role != RoleSupport || got.CreatedBy != "alice" {
		t.Fatalf("find by secret: %+v %v", got, err)
	}
	list, err := s.FindAPITokens(ctx)
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
	if _, err := s.CreateAPIToken(ctx, &APIToken{Name: "x", Role: RoleUser}); err == nil {
		t.Fatal("a token with role user was made")
	}
}
