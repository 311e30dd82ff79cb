package passkeys

import (
	"context"
	"fmt"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/authgate/gateway/store"
)

// BeginRegistration starts adding a passkey to u at rp. binding is the
// signed-in session's id, so only that session can finish it. The options
// ask for a discoverable credential (sign-in needs no username) and for
// user verification, and exclude the passkeys u already has there, so one
// authenticator is not registered twice.
func (s *Service) BeginRegistration(ctx context.Context, rp RP, u *store.User, binding string) (*protocol.CredentialCreation, error) {
	wa, err := s.webauthn(rp)
	if err != nil {
		return nil, err
	}
	all, err := s.Store.FindPasskeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	if len(all) >= store.MaxPasskeys {
		return nil, store.ErrTooManyPasskeys
	}
	acct, err := s.loadAccount(ctx, u, rp.ID)
	if err != nil {
		return nil, err
	}
	creation, sd, err := wa.BeginRegistration(acct,
		webauthn.WithAuthenticatorSelection(protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementRequired, RequireResidentKey: protocol.ResidentKeyRequired(),
			UserVerification: protocol.VerificationRequired,
		}),
		webauthn.WithExclusions(webauthn.Credentials(acct.creds).CredentialDescriptors()),
	)
	if err != nil {
		return nil, fmt.Errorf("begin registration: %w", err)
	}
	if err := s.put(ctx, binding, ceremony{Kind: KindRegister, UID: u.ID, RP: rp, Session: *sd}); err != nil {
		return nil, err
	}
	return creation, nil
}

// FinishRegistration checks the browser's answer to the registration
// begun for u under binding and stores the new passkey as name. Errors:
// ErrNoCeremony, ErrRefused (wrapped, with the reason), store errors.
func (s *Service) FinishRegistration(ctx context.Context, u *store.User, binding, name string, body []byte) (*store.Passkey, error) {
	c, err := s.take(ctx, KindRegister, binding)
	if err != nil {
		return nil, err
	}
	if c.UID != u.ID {
		return nil, ErrNoCeremony
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrRefused, describe(err))
	}
	wa, err := s.webauthn(c.RP)
	if err != nil {
		return nil, err
	}
	acct, err := s.loadAccount(ctx, u, c.RP.ID)
	if err != nil {
		return nil, err
	}
	cred, err := wa.CreateCredential(acct, c.Session, parsed)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrRefused, describe(err))
	}
	p := &store.Passkey{
		ID: cred.ID, Name: name, RPID: c.RP.ID, Created: s.now().UTC(), PublicKey: cred.PublicKey,
		Flags: byte(cred.Flags.ProtocolValue()), SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID,
		AttestationType: cred.AttestationType, AttestationFormat: cred.AttestationFormat,
	}
	for _, t := range cred.Transport {
		p.Transports = append(p.Transports, string(t))
	}
	if err := s.Store.CreatePasskey(ctx, u.ID, p); err != nil {
		return nil, err
	}
	return p, nil
}

// describe is a refusal's reason for the log: the library's details, never
// key material.
func describe(err error) string {
	if pe, ok := err.(*protocol.Error); ok {
		if pe.DevInfo != "" {
			return pe.Details + " (" + pe.DevInfo + ")"
		}
		return pe.Details
	}
	return err.Error()
}
