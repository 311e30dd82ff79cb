package passkeys

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/authgate/gateway/store"
)

// CeremonyTTL is how long a begun ceremony may be answered.
const CeremonyTTL = 3 * time.Minute

// Store is what the ceremonies need from persistence (*store.Store).
type Store interface {
	PasskeyHandle(ctx context.Context, uid string) ([]byte, error)
	FindUserByPasskeyHandle(ctx context.Context, handle []byte) (*store.User, error)
	FindUserByID(ctx context.Context, uid string) (*store.User, error)
	FindPasskeys(ctx context.Context, uid string) ([]*store.Passkey, error)
	CreatePasskey(ctx context.Context, uid string, p *store.Passkey) error
	UsePasskey(ctx context.Context, uid, id string, u store.PasskeyUse) error
	PutCeremony(ctx context.Context, key string, data []byte, ttl time.Duration) error
	TakeCeremony(ctx context.Context, key string) ([]byte, error)
}

var _ Store = (*store.Store)(nil)

// Kinds of ceremony; a ceremony answers only the kind it was begun as.
const (
	KindRegister = "register" // add a passkey to a signed-in account
	KindSignIn   = "signin"   // discoverable sign-in, no username
	KindStep     = "step"     // second step after the password
)

// Service begins and finishes ceremonies.
type Service struct {
	Store Store
	// Name is the relying party's display name ("Sign-in gateway").
	Name string
	// Now is the clock of created and last-used times (nil: time.Now).
	Now func() time.Time
}

// Errors of a ceremony that refuse it; anything else is a technical
// failure.
var (
	// ErrNoCeremony: no ceremony of this kind for this browser or session
	// (never begun, already answered, or expired).
	ErrNoCeremony = errors.New("passkeys: no ceremony in progress")
	// ErrRefused: the answer did not verify (wrong origin or challenge,
	// bad signature, no user verification, unknown or removed passkey…).
	ErrRefused = errors.New("passkeys: refused")
	// ErrNoPasskey: the account has no passkey for this host.
	ErrNoPasskey = errors.New("passkeys: no passkey for this host")
)

// ceremony is what is kept server-side between begin and finish.
type ceremony struct {
	Kind    string               `json:"kind"`
	UID     string               `json:"uid,omitempty"`
	RP      RP                   `json:"rp"`
	Session webauthn.SessionData `json:"session"`
}

func ceremonyKey(kind, binding string) string {
	sum := sha256.Sum256([]byte(binding))
	return kind + ":" + hex.EncodeToString(sum[:])
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) webauthn(rp RP) (*webauthn.WebAuthn, error) {
	name := s.Name
	if name == "" {
		name = rp.ID
	}
	timeout := webauthn.TimeoutConfig{Enforce: true, Timeout: CeremonyTTL, TimeoutUVD: CeremonyTTL}
	return webauthn.New(&webauthn.Config{
		RPID: rp.ID, RPDisplayName: name, RPOrigins: []string{rp.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		Timeouts:              webauthn.TimeoutsConfig{Login: timeout, Registration: timeout},
		// Outputs of extensions nobody asked for are not used for anything;
		// some browsers add credProps on their own.
		ExtensionsUnsolicitedOutputPolicy: protocol.UnsolicitedOutputPolicyIgnore,
	})
}

func (s *Service) put(ctx context.Context, binding string, c ceremony) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.Store.PutCeremony(ctx, ceremonyKey(c.Kind, binding), b, CeremonyTTL)
}

// take removes the ceremony of kind bound to binding (single use) and
// returns it.
func (s *Service) take(ctx context.Context, kind, binding string) (*ceremony, error) {
	b, err := s.Store.TakeCeremony(ctx, ceremonyKey(kind, binding))
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrNoCeremony
	}
	if err != nil {
		return nil, err
	}
	var c ceremony
	if err := json.Unmarshal(b, &c); err != nil || c.Kind != kind {
		return nil, ErrNoCeremony
	}
	return &c, nil
}

// account is a user as go-webauthn sees it: the random handle, the
// username to show in the browser's passkey picker, and the passkeys made
// for one relying party.
type account struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
	// keys are all the user's passkeys as loaded (every relying party),
	// so a verified answer names its passkey without reading them again.
	keys []*store.Passkey
}

func (a *account) WebAuthnID() []byte                         { return a.handle }
func (a *account) WebAuthnName() string                       { return a.name }
func (a *account) WebAuthnDisplayName() string                { return a.name }
func (a *account) WebAuthnCredentials() []webauthn.Credential { return a.creds }

// loadAccount builds the account of u with its passkeys for rpID.
func (s *Service) loadAccount(ctx context.Context, u *store.User, rpID string) (*account, error) {
	handle, err := s.Store.PasskeyHandle(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("passkey handle: %w", err)
	}
	keys, err := s.Store.FindPasskeys(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("find passkeys: %w", err)
	}
	a := &account{handle: handle, name: u.Username, keys: keys}
	for _, p := range keys {
		if p.RPID == rpID {
			a.creds = append(a.creds, credential(p))
		}
	}
	return a, nil
}

func credential(p *store.Passkey) webauthn.Credential {
	c := webauthn.Credential{
		ID: p.ID, PublicKey: p.PublicKey, AttestationType: p.AttestationType, AttestationFormat: p.AttestationFormat,
		Flags:         webauthn.NewCredentialFlags(protocol.AuthenticatorFlags(p.Flags)),
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
	for _, t := range p.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	return c
}

func findCredential(creds []webauthn.Credential, id []byte) bool {
	for _, c := range creds {
		if bytes.Equal(c.ID, id) {
			return true
		}
	}
	return false
}
