package e2e

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/harness"
)

// Several "sign out of all devices, keep me" requests of one device at
// once (a double click, a retry) all answer with a cookie that works: none
// is killed by another's cut, nor cleared because another request already
// replaced the session, either of which would sign out the very device
// that asked to stay. The requests are real and concurrent, on one cookie,
// started a few milliseconds apart so that some overlap the others' cut
// and some arrive after the session was replaced; the last one is sent
// after the first answered (a retry still in flight).
func TestSignOutEverywhereKeepingThisDeviceTwiceAtOnce(t *testing.T) {
	g := harness.Start(t, harness.Options{})
	g.CreateUser(t, "alice")
	laptop, phone := g.NewClient(t), g.NewClient(t)
	phone.Login(t, "alice", harness.TestPassword)
	laptop.Login(t, "alice", harness.TestPassword)
	name, cookie := g.Config.Cookie.Name, laptop.SessionCookie()

	const n = 6
	var (
		wg     sync.WaitGroup
		start  = make(chan struct{})
		first  = make(chan struct{})
		once   sync.Once
		status [n]int
		got    [n]string
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, _ := http.NewRequest(http.MethodPost, g.URL+"/.gateway/api/v1/me/signout-all", strings.NewReader(`{"keep_current":true}`))
			req.Header.Set("Content-Type", "application/json")
			req.AddCookie(&http.Cookie{Name: name, Value: cookie})
			<-start
			if i == n-1 {
				<-first
			} else {
				time.Sleep(time.Duration(i) * 3 * time.Millisecond)
			}
			resp, err := http.DefaultClient.Do(req)
			once.Do(func() { close(first) })
			if err != nil {
				return
			}
			defer resp.Body.Close()
			status[i] = resp.StatusCode
			for _, c := range resp.Cookies() {
				if c.Name == name {
					got[i] = c.Value
				}
			}
		}()
	}
	close(start)
	wg.Wait()

	for i := range n {
		// A request that arrives after another one replaced the session is
		// refused (401), but it too leaves the device the new cookie.
		if (status[i] != http.StatusNoContent && status[i] != http.StatusUnauthorized) || got[i] == "" {
			t.Fatalf("request %d: status %d, new cookie set: %v", i, status[i], got[i] != "")
		}
		laptop.SetSessionCookie(got[i])
		if code, _ := staffCall(t, laptop, "GET", "/.gateway/api/v1/me", nil); code != http.StatusOK {
			t.Errorf("the cookie answered to request %d does not work (%d): the device that asked to stay is signed out", i, code)
		}
	}
	if code, _ := staffCall(t, phone, "GET", "/.gateway/api/v1/me", nil); code != http.StatusUnauthorized {
		t.Errorf("the other device is still signed in: %d", code)
	}
}
