package e2e

import (
	"slices"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

// TestMailLatency measures, for ten sign-ins from new browsers, the time
// from the new-device event (its time in the activity stream) to the
// alert's arrival in Mailpit (the time Mailpit stored it), and logs the
// median and the maximum. It asserts only that every mail arrived:
// go test ./e2e -run TestMailLatency -v
func TestMailLatency(t *testing.T) {
	const n = 10
	g, box := mailGateway(t)
	alice := g.CreateUser(t, "alice")
	mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)
	for range n {
		mailLoginOK(t, g, "alice", harness.TestPassword, uaIPhone)
	}
	deadline := time.Now().Add(mailBound)
	for box.Count(t, "alice@example.com") < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d alerts arrived", box.Count(t, "alice@example.com"), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	events, err := g.Store.FindEvents(t.Context(), alice.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	var at []time.Time // event times, oldest first
	for _, e := range slices.Backward(events) {
		if e.Type == store.EventNewDevice {
			at = append(at, e.Time)
		}
	}
	msgs := box.Messages(t) // newest first
	if len(at) != n || len(msgs) != n {
		t.Fatalf("%d events, %d mails", len(at), len(msgs))
	}
	var lat []time.Duration
	for i, m := range slices.Backward(msgs) {
		lat = append(lat, m.Created.Sub(at[i]))
	}
	slices.Sort(lat)
	t.Logf("event to Mailpit over %d new-device alerts: median %s, max %s (event times in ms, so ±1 ms)",
		n, lat[n/2].Round(time.Millisecond), lat[n-1].Round(time.Millisecond))
}
