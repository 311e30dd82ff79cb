package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// SecureOptions describe who asks to secure an account and how.
type SecureOptions struct {
	// IP and Agent are the vetted client address and user agent of the
	// request, for the activity and audit entries.
	IP, Agent string
	// Via says where the person asked, for the activity and audit entries
	// (e.g. "the link in a mail", "the account page").
	Via string
	// SignOut ends every session of the user; nil uses the store's own
	// SignOutEverywhere. The gateway passes its Sessions' one, which also
	// tells this replica's revocation mirror at once and clears the cookie.
	SignOut func(ctx context.Context) error
	// ResetTo is the address the asking link was mailed to, when the
	// person asked from a mailed link: reading that mail proves they own
	// it, so it becomes the account's confirmed address again (an intruder
	// may have changed it) and the reset link goes there. Empty: the
	// account's address as it is.
	ResetTo string
}

// SecureAccount is the answer to "This wasn't me": it refuses sign-in with
// the password until the password is reset, retires an outstanding reset
// link, removes every passkey and the staff API tokens the account made,
// then signs every device out, mails the person a new reset link
// (ForgotResetTTL) and writes the activity and the audit entry. The
// new-device alert's link and the account page's new-sign-ins panel both
// call it. It returns ErrNotFound for an unknown user.
func (s *Store) SecureAccount(ctx context.Context, uid string, o SecureOptions) error {
	ctx, cancel := detach(ctx) // half a protection is worse than none
	defer cancel()
	u, err := s.FindUserByID(ctx, uid)
	if err != nil {
		return err
	}
	// Block first: once the sessions are gone, nobody can sign in again
	// with the password an attacker may know. A change of address still
	// waiting for its confirmation may be the intruder's: it is dropped, so
	// its link no longer confirms anything.
	blocked, none := true, ""
	upd := UserUpdate{PasswordBlocked: &blocked, EmailPending: &none}
	restored := o.ResetTo != "" && !strings.EqualFold(o.ResetTo, u.Email)
	if restored {
		now := s.now().UTC()
		upd.Email, upd.EmailConfirmed = &o.ResetTo, &now
	}
	if err := s.UpdateUser(ctx, uid, upd); err != nil {
		return err
	}
	// Every other way in goes before the sessions do, so nobody can sign in
	// again between the sign-out and the end of this call. A reset link
	// already out (asked for by whoever knew the password, or given by
	// support) stops working; the person gets a new one below.
	if err := s.RetireResetLink(ctx, uid); err != nil {
		return err
	}
	// Whoever was signed in could have added a passkey of their own (a
	// recent sign-in is all that takes), which would outlive the sign-out
	// and the password block: every passkey goes, the person adds theirs
	// again after the reset.
	removed, err := s.DeletePasskeys(ctx, uid)
	if err != nil {
		return err
	}
	// Likewise a staff API token made with the account (a recent sign-in
	// and a staff role are all that takes): it would go on working.
	tokens, err := s.RevokeAPITokensOwnedBy(ctx, uid)
	if err != nil {
		return err
	}
	signOut := o.SignOut
	if signOut == nil {
		signOut = func(ctx context.Context) error { return s.SignOutEverywhere(ctx, uid, s.now()) }
	}
	if err := signOut(ctx); err != nil && !errors.Is(err, ErrNotReplicated) {
		return err
	}
	detail := "you said a sign-in was not you (" + o.Via + "): every device was signed out, " +
		"sign-in with the password is blocked until you set a new one, and a reset link was sent"
	if removed > 0 {
		detail += fmt.Sprintf("; %d passkey(s) removed (add yours again after the reset)", removed)
	}
	if len(tokens) > 0 {
		detail += fmt.Sprintf("; %d API token(s) made by the account revoked", len(tokens))
	}
	if restored {
		detail += "; the e-mail address is " + o.ResetTo + " again (it was " + u.Email + ")"
	}
	if err := s.AppendEventWith(ctx, uid, Event{Type: EventAccountSecured, IP: o.IP, Device: o.Agent, Detail: detail},
		[]OutboxMessage{{Kind: MessageMail, Template: MailResetLink, To: o.ResetTo, Data: map[string]string{"why": "secured"}}}); err != nil {
		return err
	}
	return s.AppendAudit(ctx, AuditEntry{
		Actor: u.Username, ActorRole: "self", Action: AuditAccountSecured, Target: u.Username, TargetID: uid,
		IP: o.IP, Detail: o.Via, Reason: "This wasn't me",
	})
}
