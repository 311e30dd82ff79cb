package assertion

import (
	"testing"
	"time"

	"github.com/authgate/gateway/store"
)

// TestOpensKeysSealedByTheEarlierKeyRing: private signing keys sealed
// before the key ring sealed through internal/seal (captured from that
// code, under the current and under a previous secret) still open, so
// replicas keep signing with the keys already in Redis.
func TestOpensKeysSealedByTheEarlierKeyRing(t *testing.T) {
	k, err := newKeyRing(nil, []string{"current-secret-0123456789abcdef0123", "previous-secret-0123456789abcdef012"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const id = "20261202T063000Z-goldenkey1"
	for name, sealed := range map[string]string{
		"current secret":  "OHpbfZ10nWdvToldP7K0zF6_mJujX_otY3TfFEVBgbfScptyHQFzweGolpULRPHAAflNwfOHV2ieI9jLEcX47pUtxFmIlNSK69U4xso_JYYhskWyCC_3uQXKv5ga8soqMWUCQR07rKmIfVzLh6CBlc6E_vdepfLPIck6WoNXPsUpcEUIUZ5KDrBpIJtvUikYcjNf3bIUcaARyWBN6zxJBsVaI0J-Vw",
		"previous secret": "-5lBT4OwP7e3Phl2kTRlSEvsdd4DaWrzr5Aih6B74qnrSAvNgz5Z04zRbnRSNxw-vQiUL59DmREp3vjjW7X5dUaJR7yDMmMioCNHcduc8uDtxfual4lv8vZTtx3-lk19CjOXqew9wPZiv2tIhGQW1Aidh57RZ1dIPmw9yPbfdmNyPNm_s3WCs2KPQzUdrw-MttgQta5BLj5rACoJ0MavqT7cMGeIWA",
	} {
		sk := store.SigningKey{ID: id, ActiveFrom: time.Unix(0, 0), Sealed: sealed}
		if got, err := k.open(sk); err != nil || got.id != id || got.signer == nil {
			t.Errorf("%s: open = %+v, %v", name, got, err)
		}
		sk.ID = id + "x"
		if _, err := k.open(sk); err == nil {
			t.Errorf("%s: opened under another key id", name)
		}
	}
}
