package account

import (
	"strings"

	"github.com/authgate/gateway/admin/web"
	"github.com/authgate/gateway/store"
)

// eventNames are the activity types in words, as a person reads them.
var eventNames = map[string]string{
	store.EventSignIn:          "Signed in",
	store.EventSignInFailed:    "Failed sign-in attempt",
	store.EventSignOut:         "Signed out",
	store.EventSessionRevoked:  "Device signed out",
	store.EventSignOutAll:      "Signed out of all devices",
	store.EventPasswordChanged: "Password changed",
	store.EventMFAEnabled:      "Two-step verification turned on",
	store.EventMFADisabled:     "Two-step verification turned off",
	store.EventMFAFailed:       "Wrong verification code",
	store.EventRecoveryUsed:    "Recovery code used",
	store.EventRecoveryRenewed: "New recovery codes made",
	store.EventNewDevice:       "Sign-in from a new device",
	store.EventLocked:          "Account locked",
	store.EventUnlocked:        "Account unlocked",
	store.EventDisabled:        "Account disabled",
	store.EventResetLink:       "Password reset link created",
	store.EventThrottled:       "Sign-in attempts slowed down",
	store.EventStaffAction:     "Support action",
	// Mail (gateway/wasntme.go, forgot.go, email_confirm.go).
	store.EventAccountSecured:    "Account secured (\"This wasn't me\")",
	store.EventResetRequested:    "Password reset link asked for",
	store.EventEmailChanged:      "E-mail address changed",
	store.EventEmailChangeAsked:  "E-mail confirmation sent",
	store.EventAlertsChanged:     "Alert choices changed",
	store.EventPasskeyAdded:      "Passkey added",
	store.EventPasskeyRemoved:    "Passkey removed",
	store.EventPasskeyWarning:    "Passkey may have been copied",
	store.EventIdentityConfirmed: "Confirmed it's you",
}

// eventWords names an event type; an unknown one (from a newer version) is
// shown as its words rather than dropped.
func eventWords(typ string) string {
	if s, ok := eventNames[typ]; ok {
		return s
	}
	s := strings.ReplaceAll(typ, "_", " ")
	if s == "" {
		return "Activity"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// eventDevice is the device label of the request that caused an event, or
// "" when there was none (a staff action from the console has no device of
// the person's).
func eventDevice(e store.Event) string {
	if strings.TrimSpace(e.Device) == "" {
		return ""
	}
	return web.DeviceLabel(e.Device)
}

// eventAlert marks events a person should notice: someone tried their
// password or code, a new device signed in, or staff changed something.
func eventAlert(e store.Event) bool {
	switch e.Type {
	case store.EventSignInFailed, store.EventMFAFailed, store.EventNewDevice, store.EventThrottled,
		store.EventLocked, store.EventDisabled, store.EventRecoveryUsed,
		store.EventAccountSecured, store.EventResetRequested, store.EventEmailChanged, store.EventPasskeyWarning:
		return true
	}
	return e.Actor != ""
}
