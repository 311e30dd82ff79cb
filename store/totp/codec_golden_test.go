package totp

import "testing"

// Values written by the codec before it sealed through internal/seal
// (captured from that code): TOTP secrets and recovery codes already in
// Redis must keep opening and matching, so the purposes, the associated
// data and the "v1." format may never change.
const (
	goldenCurrent  = "current-secret-0123456789abcdef0123"
	goldenPrevious = "previous-secret-0123456789abcdef012"
	goldenSecret   = "JBSWY3DPEHPK3PXP"
	goldenUID      = "u-42"
)

func TestOpensSecretsSealedByTheEarlierCodec(t *testing.T) {
	c, err := New([]string{goldenCurrent, goldenPrevious})
	if err != nil {
		t.Fatal(err)
	}
	for name, sealed := range map[string]string{
		"current secret":  "v1.x6gNTPDEZLptqOtCon8JKWWt5WDePatHeziRDehr4_6Alk4wvdlNwDyqgv0",
		"previous secret": "v1.fVYT56_YtSiJRJUBkqopTaVZQnoatcMpah9IlxMpVYBx2p96twMExCTFkwc",
	} {
		if got, err := c.Open(goldenUID, sealed); err != nil || got != goldenSecret {
			t.Errorf("%s: Open = %q, %v; want %q", name, got, err, goldenSecret)
		}
		if _, err := c.Open("u-43", sealed); err == nil {
			t.Errorf("%s: opened for another user", name)
		}
	}
}

func TestRecoveryHashMatchesTheEarlierCodec(t *testing.T) {
	c, err := New([]string{goldenCurrent})
	if err != nil {
		t.Fatal(err)
	}
	const stored = "6UGOJd1aniBPPOoMRZQtNycDOIqWPYD4XilrosyXneU" // hash of jh3z2-2g8mg for u-42
	if got := c.HashRecoveryCodes(goldenUID, []string{"jh3z2-2g8mg"}); len(got) != 1 || got[0] != stored {
		t.Errorf("HashRecoveryCodes = %v; want [%s]", got, stored)
	}
}
