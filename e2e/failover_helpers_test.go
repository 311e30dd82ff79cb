package e2e

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/authgate/gateway/gateway"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// timedCode fetches path with c and returns the status and how long the
// answer took.
func timedCode(t *testing.T, c *harness.Client, path string) (int, time.Duration) {
	t.Helper()
	start := time.Now()
	code := codeOf(t, c, path)
	return code, time.Since(start)
}

// readyz fetches /readyz and decodes its JSON body.
func readyz(t *testing.T, g *harness.Gateway) (int, gateway.Readiness, time.Duration) {
	t.Helper()
	start := time.Now()
	resp, err := http.Get(g.OpsURL + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var r gateway.Readiness
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("/readyz body: %v", err)
	}
	return resp.StatusCode, r, time.Since(start)
}

// slowAnswer is far above the 1 s a hung Redis may cost a request and far
// below the 5 s it cost before every call had a deadline: assertions use it
// only to catch that regression, never to time anything tightly.
const slowAnswer = 2500 * time.Millisecond
