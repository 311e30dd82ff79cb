package e2e

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	otptotp "github.com/pquerna/otp/totp"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// staffGivePasskey stores a passkey on u as a registration does (the key
// itself does not matter to removing it).
func staffGivePasskey(t *testing.T, g *harness.Gateway, u *store.User, name string) {
	t.Helper()
	err := g.Store.CreatePasskey(context.Background(), u.ID, &store.Passkey{
		ID: []byte(u.ID + name), Name: name, RPID: "localhost", Created: time.Now(), PublicKey: []byte("cose key"),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStaffRemovesPasskeys: support removes a user's passkeys with a
// reason, from the staff API and the console page; the user is signed out
// everywhere, sees it in their activity, and the audit log has it. The
// staff rule holds: support cannot do it to another staff member, nobody
// to themselves.
func TestStaffRemovesPasskeys(t *testing.T) {
	g := staffGateway(t, "off")
	bob, _ := staffSignIn(t, g, "bob", "support")
	ada, adaUser := staffSignIn(t, g, "ada", "admin")
	vera := g.CreateUser(t, "vera")
	vc := g.NewPortalClient(t)
	vc.Login(t, "vera", harness.TestPassword)
	staffGivePasskey(t, g, vera, "Old phone")
	staffGivePasskey(t, g, vera, "Laptop")
	staffGivePasskey(t, g, adaUser, "Ada's key")

	page := consoleDoc(t, bob, "/.gateway/admin/users/vera", http.StatusOK)
	if s := page.Find("#passkeys-count").Text(); !strings.Contains(s, "2 passkeys") {
		t.Fatalf("console page passkeys: %q", s)
	}
	const path = "/.gateway/api/v1/users/vera/passkeys/remove"
	if code, body := staffCall(t, bob, "POST", path, staffReason(" ")); code != http.StatusUnprocessableEntity {
		t.Fatalf("without a reason: %d %v", code, body)
	}
	if code, body := staffCall(t, bob, "POST", path, staffReason("lost both devices, ticket 4711")); code != http.StatusNoContent {
		t.Fatalf("remove: %d %v", code, body)
	}
	if n, _ := g.Store.CountPasskeys(context.Background(), vera.ID); n != 0 {
		t.Fatalf("%d passkeys left", n)
	}
	if staffAlive(t, vc) {
		t.Fatal("vera's session survived the removal of her passkeys")
	}
	if code, body := staffCall(t, bob, "POST", path, staffReason("again")); code != http.StatusConflict || body["code"] != "no_passkeys" {
		t.Fatalf("nothing to remove: %d %v", code, body)
	}
	audit := staffAudit(t, g, store.AuditFilter{Action: store.AuditPasskeysRemove})
	if len(audit) != 1 || audit[0].Actor != "bob" || audit[0].Target != "vera" || audit[0].Reason != "lost both devices, ticket 4711" {
		t.Fatalf("audit: %+v", audit)
	}
	found := false
	for _, e := range staffEvents(t, g, vera.ID) {
		if e.Type == store.EventPasskeyRemoved && strings.Contains(e.Detail, "removed your 2 passkeys") && strings.Contains(e.Detail, "ticket 4711") {
			found = true
		}
	}
	if !found {
		t.Fatalf("vera's activity lacks the removal: %+v", staffEvents(t, g, vera.ID))
	}

	// Support on an admin: refused, nothing removed.
	if code, body := staffCall(t, bob, "POST", "/.gateway/api/v1/users/ada/passkeys/remove", staffReason("x")); code != http.StatusForbidden {
		t.Fatalf("support on an admin: %d %v", code, body)
	}
	// Nobody on themselves (a stolen staff session must not drop the
	// factor its owner signs in with).
	if code, body := staffCall(t, ada, "POST", "/.gateway/api/v1/users/ada/passkeys/remove", staffReason("x")); code != http.StatusForbidden || body["code"] != "self_action" {
		t.Fatalf("admin on herself: %d %v", code, body)
	}
	if n, _ := g.Store.CountPasskeys(context.Background(), adaUser.ID); n != 1 {
		t.Fatalf("ada's passkeys after refusals: %d", n)
	}
}

// TestPasskeyMeetsMFARequire: under mfa.require a person's authenticator
// app cannot be turned off while it is their only second factor, and can
// once they have a passkey.
func TestPasskeyMeetsMFARequire(t *testing.T) {
	g := harness.Start(t, harness.Options{Configure: func(c *config.Config) { c.MFA.Require = "support,admin" }})
	sue := g.CreateUser(t, "sue", "support")
	secret := staffEnrolTOTP(t, g, sue)
	c := g.NewClient(t)
	staffSignInTOTP(t, c, "sue", secret)
	disable := func() (int, map[string]any) {
		// The code of the next 30-second step: the current one was used to sign in.
		code, err := otptotp.GenerateCode(secret, time.Now().Add(30*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return staffCall(t, c, "POST", "/.gateway/api/v1/me/2fa/disable", map[string]string{"password": harness.TestPassword, "code": code})
	}
	if code, body := disable(); code != http.StatusForbidden || body["code"] != "mfa_required" {
		t.Fatalf("turning off the only second factor: %d %v", code, body)
	}
	staffGivePasskey(t, g, sue, "Sue's key")
	if code, body := disable(); code != http.StatusNoContent {
		t.Fatalf("turning off the app beside a passkey: %d %v", code, body)
	}
	u, _ := g.Store.FindUserByID(context.Background(), sue.ID)
	if u.MFAEnabled {
		t.Fatal("the authenticator app is still on")
	}
}
