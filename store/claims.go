package store

import (
	"encoding/binary"
	"errors"
)

// Pending steps a half-signed-in session still has to take.
const (
	PendingNone   uint8 = 0
	PendingCode   uint8 = 1 // must enter a TOTP or recovery code
	PendingEnroll uint8 = 2 // must turn on 2FA before anything else
	// PendingPasskey: must add a passkey before anything else
	// (mfa.phishing_resistant).
	PendingPasskey uint8 = 3
)

// Claims is what the session cookie carries (encrypted and signed).
type Claims struct {
	SessionID  string
	UserID     string
	Generation string // data-set id; see Store.Generation
	IssuedAt   int64  // unix nanos this cookie's session id was issued
	Created    int64  // unix nanos of the original sign-in (absolute lifetime)
	AuthAt     int64  // unix nanos the password was last entered
	MFA        bool   // a second factor was passed in this session
	Pending    uint8  // PendingNone when fully signed in
}

// ClaimsSerializer is a compact binary securecookie.Serializer for *Claims:
// it avoids gob's reflection cost on every proxied request.
type ClaimsSerializer struct{}

var errClaimsFormat = errors.New("malformed session claims")

const claimsVersion = 1

// Serialize implements securecookie.Serializer.
func (ClaimsSerializer) Serialize(src any) ([]byte, error) {
	c, ok := src.(*Claims)
	if !ok {
		return nil, errors.New("ClaimsSerializer: want *Claims")
	}
	b := make([]byte, 0, 96)
	b = append(b, claimsVersion)
	for _, s := range []string{c.SessionID, c.UserID, c.Generation} {
		if len(s) > 255 {
			return nil, errClaimsFormat
		}
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(c.IssuedAt))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Created))
	b = binary.BigEndian.AppendUint64(b, uint64(c.AuthAt))
	var flags byte
	if c.MFA {
		flags = 1
	}
	return append(b, flags, c.Pending), nil
}

// Deserialize implements securecookie.Serializer.
func (ClaimsSerializer) Deserialize(b []byte, dst any) error {
	c, ok := dst.(*Claims)
	if !ok {
		return errors.New("ClaimsSerializer: want *Claims")
	}
	if len(b) < 1 || b[0] != claimsVersion {
		return errClaimsFormat
	}
	b = b[1:]
	var strs [3]string
	for i := range strs {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return errClaimsFormat
		}
		n := int(b[0])
		strs[i] = string(b[1 : 1+n])
		b = b[1+n:]
	}
	if len(b) != 26 {
		return errClaimsFormat
	}
	*c = Claims{
		SessionID: strs[0], UserID: strs[1], Generation: strs[2],
		IssuedAt: int64(binary.BigEndian.Uint64(b[0:])),
		Created:  int64(binary.BigEndian.Uint64(b[8:])),
		AuthAt:   int64(binary.BigEndian.Uint64(b[16:])),
		MFA:      b[24] == 1, Pending: b[25],
	}
	return nil
}
