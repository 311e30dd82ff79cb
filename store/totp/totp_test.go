package totp

import (
	"bytes"
	"encoding/base64"
	"image/png"
	"net/url"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/testenv"
)

// rfcSecret is the SHA1 key of RFC 6238's test vectors, "12345678901234567890".
const rfcSecret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"

func TestValidateRFCVectors(t *testing.T) {
	// RFC 6238 appendix B, SHA1, last six of the eight digits.
	for _, tc := range []struct {
		unix int64
		code string
	}{
		{59, "287082"}, {1111111109, "081804"}, {1111111111, "050471"},
		{1234567890, "005924"}, {2000000000, "279037"},
	} {
		now := time.Unix(tc.unix, 0)
		step, ok, err := Validate(rfcSecret, tc.code, now)
		if err != nil || !ok {
			t.Errorf("Validate(%s at %d) = %v, %v; want accepted", tc.code, tc.unix, ok, err)
			continue
		}
		if want := tc.unix / 30; step != want {
			t.Errorf("step at %d = %d, want %d", tc.unix, step, want)
		}
	}
}

func TestValidateSkew(t *testing.T) {
	secret := GenerateSecret()
	now := time.Unix(1_700_000_000, 0)
	cur := Step(now)
	for _, tc := range []struct {
		offset int64
		ok     bool
	}{{-3, false}, {-2, false}, {-1, true}, {0, true}, {1, true}, {2, false}} {
		code, err := CodeAt(secret, cur+tc.offset)
		if err != nil {
			t.Fatal(err)
		}
		step, ok, err := Validate(secret, code, now)
		if err != nil {
			t.Fatal(err)
		}
		if ok != tc.ok {
			t.Errorf("code of step %+d accepted=%v, want %v", tc.offset, ok, tc.ok)
		}
		if ok && step != cur+tc.offset {
			t.Errorf("code of step %+d matched step %d, want %d", tc.offset, step, cur+tc.offset)
		}
	}
}

func TestValidateInput(t *testing.T) {
	secret := GenerateSecret()
	now := time.Now()
	code, _ := CodeAt(secret, Step(now))
	for _, typed := range []string{code, " " + code[:3] + " " + code[3:] + " ", code[:3] + "-" + code[3:]} {
		if _, ok, _ := Validate(secret, typed, now); !ok {
			t.Errorf("Validate(%q) refused, want accepted", typed)
		}
	}
	for _, typed := range []string{"", "12345", "1234567", "abcdef", code + "0", "１２３４５６"} {
		if _, ok, _ := Validate(secret, typed, now); ok {
			t.Errorf("Validate(%q) accepted", typed)
		}
	}
	if _, _, err := Validate("not base32!", "123456", now); err == nil {
		t.Error("Validate with a malformed secret: no error")
	}
}

// TestCodesMatchOathtool checks interoperability with a real authenticator
// implementation: oathtool's code for now is accepted, at the step oathtool
// used.
func TestCodesMatchOathtool(t *testing.T) {
	bin := testenv.LookPath(t, "oathtool", testenv.RequireOathtool)
	secret := GenerateSecret()
	at := time.Now().Add(-45 * time.Second).Truncate(time.Second)
	out, err := exec.Command(bin, "--totp", "-b", "-N", "@"+strconv.FormatInt(at.Unix(), 10), secret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	code := strings.TrimSpace(string(out))
	want, _ := CodeAt(secret, Step(at))
	if code != want {
		t.Fatalf("oathtool says %s, CodeAt says %s", code, want)
	}
	// 45 s ago is one or two steps back: accepted only when it is one.
	_, ok, _ := Validate(secret, code, at.Add(29*time.Second))
	if !ok {
		t.Error("oathtool code refused within the skew")
	}
	if _, ok, _ := Validate(secret, code, at.Add(61*time.Second)); ok {
		t.Error("oathtool code accepted more than one step later")
	}
}

func TestSealOpen(t *testing.T) {
	old, _ := New([]string{"old secret old secret old secret old"})
	cur, _ := New([]string{"new secret new secret new secret new", "old secret old secret old secret old"})
	other, _ := New([]string{"another secret another secret another"})
	secret := GenerateSecret()

	sealed := old.Seal("u1", secret)
	if strings.Contains(sealed, secret) {
		t.Fatal("sealed value contains the secret")
	}
	if got, err := old.Open("u1", sealed); err != nil || got != secret {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if got, err := cur.Open("u1", sealed); err != nil || got != secret {
		t.Errorf("after rotation, Open = %q, %v; want the secret via the previous key", got, err)
	}
	if _, err := other.Open("u1", sealed); err == nil {
		t.Error("a codec without the key opened the secret")
	}
	if _, err := old.Open("u2", sealed); err == nil {
		t.Error("a secret sealed for u1 opened for u2")
	}
	if a, b := cur.Seal("u1", secret), cur.Seal("u1", secret); a == b {
		t.Error("two seals of the same secret are equal (nonce reuse)")
	}
	b := []byte(sealed)
	b[len(b)-3] ^= 1
	if _, err := old.Open("u1", string(b)); err == nil {
		t.Error("a tampered value opened")
	}
	for _, bad := range []string{"", "v1.", "v1.!!!", "v2." + sealed[3:], secret} {
		if _, err := old.Open("u1", bad); err == nil {
			t.Errorf("Open(%q) succeeded", bad)
		}
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := NewRecoveryCodes()
	if len(codes) != 10 {
		t.Fatalf("%d codes, want 10", len(codes))
	}
	shape := regexp.MustCompile(`^[2-9a-hjkmnp-z]{5}-[2-9a-hjkmnp-z]{5}$`)
	seen := map[string]bool{}
	for _, c := range codes {
		if !shape.MatchString(c) {
			t.Errorf("code %q does not look like xxxxx-xxxxx", c)
		}
		if seen[c] {
			t.Errorf("code %q twice", c)
		}
		seen[c] = true
	}

	cur, _ := New([]string{"new secret new secret new secret new", "old secret old secret old secret old"})
	old, _ := New([]string{"old secret old secret old secret old"})
	stored := old.HashRecoveryCodes("u1", codes)
	for i, h := range stored {
		if strings.Contains(h, ",") || strings.Contains(strings.ToLower(h), strings.ReplaceAll(codes[i], "-", "")) {
			t.Fatalf("stored form %q is unfit (comma or plain code)", h)
		}
	}
	c := codes[3]
	for _, typed := range []string{c, strings.ToUpper(c), strings.ReplaceAll(c, "-", ""), " " + c[:5] + " " + c[6:] + " "} {
		hashes, ok := cur.RecoveryHashes("u1", typed)
		if !ok || !contains(hashes, stored[3]) {
			t.Errorf("typed %q: hashes %v do not include the stored one (after rotation)", typed, hashes)
		}
		if h, _ := cur.RecoveryHashes("u2", typed); contains(h, stored[3]) {
			t.Errorf("the code of u1 matches for u2")
		}
	}
	for _, typed := range []string{"", "123456", "abcde-fghi", "abcde-fghij1", "abcde-fgh0j"} {
		if _, ok := cur.RecoveryHashes("u1", typed); ok {
			t.Errorf("RecoveryHashes(%q) ok, want not a recovery code", typed)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestEnrolment(t *testing.T) {
	secret := GenerateSecret()
	if len(secret) != 32 {
		t.Errorf("secret %q has %d characters, want 32 (160 bits)", secret, len(secret))
	}
	e := NewEnrolment("gw.example.com", "alice@example.com", secret)
	u, err := url.Parse(e.URL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if u.Scheme != "otpauth" || u.Host != "totp" || u.Path != "/gw.example.com:alice@example.com" ||
		q.Get("secret") != secret || q.Get("issuer") != "gw.example.com" || q.Get("digits") != "6" ||
		q.Get("period") != "30" || q.Get("algorithm") != "SHA1" {
		t.Errorf("key URI %s", e.URL)
	}
	data, err := e.QRDataURL()
	if err != nil {
		t.Fatal(err)
	}
	b64, ok := strings.CutPrefix(data, "data:image/png;base64,")
	if !ok {
		t.Fatalf("QR is not a PNG data URL: %.40s", data)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("QR PNG does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 200 {
		t.Errorf("QR is %dpx wide", b.Dx())
	}
	if got := GroupKey("ABCDEFGHIJ"); got != "ABCD EFGH IJ" {
		t.Errorf("GroupKey = %q", got)
	}
}
