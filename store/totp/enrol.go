package totp

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/url"
	"strings"

	"github.com/pquerna/otp"
)

// Enrolment is what a person needs to add the account to an authenticator
// app: the secret for typing in, the otpauth:// URL and its QR code.
type Enrolment struct {
	// Secret is the base32 secret (the "manual key").
	Secret string
	// URL is the otpauth://totp/… key URI that the QR code encodes.
	URL string
}

// NewEnrolment describes secret for an authenticator app, labelled with
// issuer (the service, e.g. the gateway's host name) and account (the
// username).
func NewEnrolment(issuer, account, secret string) *Enrolment {
	issuer = strings.NewReplacer(":", " ").Replace(issuer)
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", issuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", "30")
	// Some authenticator apps show a "+" literally: spaces go as %20.
	query := strings.ReplaceAll(v.Encode(), "+", "%20")
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + issuer + ":" + account, RawQuery: query}
	return &Enrolment{Secret: secret, URL: u.String()}
}

// QRDataURL renders the key URI as a QR code, a PNG in a data: URL (the
// pages' CSP allows data: images and nothing external).
func (e *Enrolment) QRDataURL() (string, error) {
	key, err := otp.NewKeyFromURL(e.URL)
	if err != nil {
		return "", err
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return "", err
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return "", err
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}
