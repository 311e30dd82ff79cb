package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// TestLockedIsNotCalledDisabled: a person whose account support locked is
// told it is locked (and whom to ask), one an admin disabled that it is
// disabled; neither hears the other word.
func TestLockedIsNotCalledDisabled(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	locked, disabled := g.CreateUser(t, "locked"), g.CreateUser(t, "disabled")
	on, staff, admin := true, store.LockStaff, store.LockAdmin
	ctx := context.Background()
	if err := g.Store.UpdateUser(ctx, locked.ID, store.UserUpdate{Disabled: &on, Lock: &staff}); err != nil {
		t.Fatal(err)
	}
	if err := g.Store.UpdateUser(ctx, disabled.ID, store.UserUpdate{Disabled: &on, Lock: &admin}); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"locked": "locked", "disabled": "disabled"} {
		resp := signIn(t, g.NewClient(t), name, harness.TestPassword, "/")
		msg := pageError(t, resp.Body)
		other := map[string]string{"locked": "disabled", "disabled": "locked"}[name]
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(msg, "is "+want) || strings.Contains(msg, other) {
			t.Errorf("%s account signing in: %d %q, want it called %s", name, resp.StatusCode, msg, want)
		}
	}
}
