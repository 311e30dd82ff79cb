package passkeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/authgate/gateway/store"
)

// BeginSignIn starts a sign-in with a discoverable passkey: no username,
// the browser offers the passkeys it has for rp. binding is a random id the
// browser keeps in a cookie for the ceremony.
func (s *Service) BeginSignIn(ctx context.Context, rp RP, binding string) (*protocol.CredentialAssertion, error) {
	wa, err := s.webauthn(rp)
	if err != nil {
		return nil, err
	}
	assertion, sd, err := wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin sign-in: %w", err)
	}
	if err := s.put(ctx, binding, ceremony{Kind: KindSignIn, RP: rp, Session: *sd}); err != nil {
		return nil, err
	}
	return assertion, nil
}

// BeginStep starts the second step of u's sign-in after the password,
// offering u's passkeys for rp; binding is the pending session's id.
// ErrNoPasskey when u has none there.
func (s *Service) BeginStep(ctx context.Context, rp RP, u *store.User, binding string) (*protocol.CredentialAssertion, error) {
	wa, err := s.webauthn(rp)
	if err != nil {
		return nil, err
	}
	acct, err := s.loadAccount(ctx, u, rp.ID)
	if err != nil {
		return nil, err
	}
	if len(acct.creds) == 0 {
		return nil, ErrNoPasskey
	}
	assertion, sd, err := wa.BeginLogin(acct, webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, fmt.Errorf("begin second step: %w", err)
	}
	if err := s.put(ctx, binding, ceremony{Kind: KindStep, UID: u.ID, RP: rp, Session: *sd}); err != nil {
		return nil, err
	}
	return assertion, nil
}

// Assertion is a browser's answer, taken out of its ceremony but not yet
// verified.
type Assertion struct {
	c      *ceremony
	parsed *protocol.ParsedCredentialAssertionData
	bad    string // why the answer could not be read
	// User is the account the answer names (nil when it names none): the
	// one brute-force attempts are counted against.
	User *store.User
}

// OpenAssertion takes the ceremony of kind (KindSignIn or KindStep) bound
// to binding, so this answer is the only one it will ever get, and reads
// the answer. For KindStep, uid must be the user the step was begun for.
// ErrNoCeremony when there is none; an unreadable answer is refused by
// Verify.
func (s *Service) OpenAssertion(ctx context.Context, kind, binding, uid string, body []byte) (*Assertion, error) {
	c, err := s.take(ctx, kind, binding)
	if err != nil {
		return nil, err
	}
	if kind == KindStep && c.UID != uid {
		return nil, ErrNoCeremony
	}
	a := &Assertion{c: c}
	a.parsed, err = protocol.ParseCredentialRequestResponseBytes(body)
	if err != nil {
		a.bad = describe(err)
		return a, nil
	}
	var u *store.User
	if kind == KindStep {
		u, err = s.Store.FindUserByID(ctx, c.UID)
	} else {
		u, err = s.Store.FindUserByPasskeyHandle(ctx, a.parsed.Response.UserHandle)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
	case err != nil:
		return nil, err
	default:
		a.User = u
	}
	return a, nil
}

// Result is a verified sign-in with a passkey.
type Result struct {
	Passkey *store.Passkey
	// CounterWarning: the signature counter did not go up, so the passkey
	// may have been copied. The sign-in stands (synced passkeys and some
	// authenticators keep no counter); the person is told.
	CounterWarning bool
}

// Verify checks the answer against the passkey it names (origin, relying
// party, challenge, signature, user verification, backup flags) and
// records the use. ok is false for a refusal, with reason for the log; err
// is a technical failure.
func (s *Service) Verify(ctx context.Context, a *Assertion) (res Result, ok bool, reason string, err error) {
	if a.bad != "" {
		return Result{}, false, "unreadable answer: " + a.bad, nil
	}
	if a.User == nil {
		return Result{}, false, "no account has this passkey", nil
	}
	acct, err := s.loadAccount(ctx, a.User, a.c.RP.ID)
	if err != nil {
		return Result{}, false, "", err
	}
	if !findCredential(acct.creds, a.parsed.RawID) {
		return Result{}, false, "passkey not (or no longer) on the account", nil
	}
	wa, err := s.webauthn(a.c.RP)
	if err != nil {
		return Result{}, false, "", err
	}
	var cred *webauthn.Credential
	if a.c.Kind == KindSignIn {
		_, cred, err = wa.ValidatePasskeyLogin(func([]byte, []byte) (webauthn.User, error) { return acct, nil }, a.c.Session, a.parsed)
	} else {
		cred, err = wa.ValidateLogin(acct, a.c.Session, a.parsed)
	}
	if err != nil {
		return Result{}, false, describe(err), nil
	}
	id := store.EncodePasskeyID(cred.ID)
	use := store.PasskeyUse{
		At: s.now().UTC(), SignCount: cred.Authenticator.SignCount, Flags: byte(cred.Flags.ProtocolValue()),
		CounterWarning: cred.Authenticator.CloneWarning,
	}
	if err := s.Store.UsePasskey(ctx, a.User.ID, id, use); errors.Is(err, store.ErrNotFound) {
		return Result{}, false, "passkey removed during sign-in", nil
	} else if err != nil {
		return Result{}, false, "", err
	}
	for _, p := range acct.keys {
		if p.EncodedID() == id {
			p.LastUsed = use.At
			res.Passkey = p
		}
	}
	res.CounterWarning = use.CounterWarning
	return res, true, "", nil
}
