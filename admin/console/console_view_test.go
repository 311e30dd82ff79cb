package console

import (
	"testing"

	"github.com/authgate/gateway/store"
)

// Every audit action has words of its own: the audit log never shows an
// internal id such as signout_all.
func TestEveryAuditActionHasWords(t *testing.T) {
	for _, a := range store.AuditActions {
		if _, ok := auditActionLabels[a]; !ok {
			t.Errorf("audit action %q has no label", a)
		}
	}
	for _, c := range auditActionChoices() {
		if c.Label == c.Value {
			t.Errorf("filter shows %q as is", c.Value)
		}
	}
}

// Every activity type has words of its own on the console's timelines.
func TestEveryEventTypeHasWords(t *testing.T) {
	for _, e := range store.EventTypes {
		if _, ok := consoleEventLabels[e]; !ok {
			t.Errorf("activity type %q has no console label", e)
		}
	}
}

// A lock by support and a disable by an admin are told apart.
func TestStatusTextNamesLockAndDisable(t *testing.T) {
	for _, tc := range []struct {
		u    store.User
		want string
	}{
		{store.User{}, "Active"},
		{store.User{Disabled: true, Lock: store.LockStaff}, "Locked by support (support or an admin can unlock it)"},
		{store.User{Disabled: true, Lock: store.LockAdmin}, "Disabled by an admin (only an admin can enable it)"},
		{store.User{Disabled: true}, "Disabled by an admin (only an admin can enable it)"},
	} {
		if got := staffUserStatusText(&tc.u); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.u, got, tc.want)
		}
	}
}
