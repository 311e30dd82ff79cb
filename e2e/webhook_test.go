package e2e

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
	"github.com/authgate/gateway/store"
)

const hookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwZ2Ihb3Zlcg=="

// hookReceiver is an app's webhook endpoint as the README shows it: it
// checks the Standard Webhooks signature and timestamp, and ends the
// sessions of the user named in the event (here: records them).
type hookReceiver struct {
	mu       sync.Mutex
	key      []byte
	failNext int // answer 500 this many times first
	got      []hookEvent
	ids      []string
	refused  int
	// refusedBodies are the bodies of the refused requests.
	refusedBodies []string
}

type hookEvent struct {
	Type string `json:"type"`
	Data struct {
		UserID   string `json:"user_id"`
		Username string `json:"username"`
	} `json:"data"`
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	id, ts := r.Header.Get("webhook-id"), r.Header.Get("webhook-timestamp")
	mac := hmac.New(sha256.New, h.key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	sent, _ := strconv.ParseInt(ts, 10, 64)
	if !hmac.Equal([]byte(r.Header.Get("webhook-signature")), []byte(want)) || time.Since(time.Unix(sent, 0)).Abs() > 5*time.Minute {
		h.refused++
		h.refusedBodies = append(h.refusedBodies, string(body))
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	h.ids = append(h.ids, id)
	if h.failNext > 0 {
		h.failNext--
		http.Error(w, "busy", http.StatusInternalServerError)
		return
	}
	var ev hookEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	h.got = append(h.got, ev)
	w.WriteHeader(http.StatusNoContent)
}

func (h *hookReceiver) events() []hookEvent {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookEvent(nil), h.got...)
}

func TestWebhooksAreSignedRetriedAndFiltered(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(hookSecret, "whsec_"))
	recv := &hookReceiver{key: key, failNext: 1}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	other := &hookReceiver{key: []byte("another key entirely, not the gateway's")}
	srvOther := httptest.NewServer(other)
	t.Cleanup(srvOther.Close)

	g := harness.Start(t, harness.Options{Portal: true, Configure: func(c *config.Config) {
		c.MFA.Require = "off"
		c.Notify.RetryBase, c.Notify.RetryMax = config.Duration{Duration: 200 * time.Millisecond}, config.Duration{Duration: time.Second}
		c.Notify.Webhooks = config.Webhooks{
			{URL: srv.URL + "/gateway-events", Secret: hookSecret, Events: []string{"sessions.signed_out", "session.revoked"}},
			{URL: srvOther.URL + "/hook", Secret: hookSecret},
		}
	}})
	alice := g.CreateUser(t, "alice")
	c := mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)
	start := time.Now()
	if resp := acctCall(t, c, "POST", "/me/signout-all", `{"keep_current":true}`, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("sign out everywhere: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(mailBound)
	for len(recv.events()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no webhook received")
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("webhook accepted %s after the sign-out, one refused attempt included", time.Since(start).Round(time.Millisecond))
	ev := recv.events()[0]
	if ev.Type != "sessions.signed_out" || ev.Data.Username != "alice" || ev.Data.UserID != alice.ID {
		t.Fatalf("event %+v", ev)
	}
	recv.mu.Lock()
	ids, refused := recv.ids, recv.refused
	recv.mu.Unlock()
	if len(ids) != 2 || ids[0] != ids[1] || refused != 0 {
		t.Fatalf("deliveries %v (refused %d): want one failed and one retried, with the same webhook-id", ids, refused)
	}
	// The second receiver has no filter, so it gets this event and the
	// sign-in's; its key is not the gateway's, so it refuses every one.
	deadline = time.Now().Add(mailBound)
	for {
		other.mu.Lock()
		n := other.refused
		other.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second receiver got nothing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(other.events()) != 0 {
		t.Fatal("a receiver with another key accepted a signature")
	}
	// The password change is not in the first receiver's filter.
	acctCall(t, c, "POST", "/me/password", `{"current_password":"`+harness.TestPassword+`","new_password":"`+newPassword+`"}`, nil)
	// Once the unfiltered receiver saw the change, its messages were all
	// handed out (they are written together).
	deadline = time.Now().Add(mailBound)
	for {
		other.mu.Lock()
		seen := strings.Contains(strings.Join(other.refusedBodies, ""), `"password.changed"`)
		other.mu.Unlock()
		if seen {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the unfiltered receiver never got the password change")
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, e := range recv.events() {
		if e.Type == "password.changed" {
			t.Fatal("an event outside the filter was sent")
		}
	}
}

// TestDeadMessagesShowInTheConsoleAndCanBeSentAgain: a receiver that keeps
// failing makes its message dead after notify.max_attempts; an admin sees
// it on the console's outbox page with the error and sends it again once
// the receiver works.
func TestDeadMessagesShowInTheConsoleAndCanBeSentAgain(t *testing.T) {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(hookSecret, "whsec_"))
	recv := &hookReceiver{key: key, failNext: 2}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	g := harness.Start(t, harness.Options{Portal: true, Configure: func(c *config.Config) {
		c.MFA.Require = "off"
		c.Notify.RetryBase, c.Notify.RetryMax = config.Duration{Duration: 100 * time.Millisecond}, config.Duration{Duration: 100 * time.Millisecond}
		c.Notify.MaxAttempts = 2
		c.Notify.Webhooks = config.Webhooks{{URL: srv.URL + "/hook", Secret: hookSecret, Events: []string{"sessions.signed_out"}}}
	}})
	admin, _ := staffSignIn(t, g, "root", "admin")
	g.CreateUser(t, "alice")
	c := mailLoginOK(t, g, "alice", harness.TestPassword, uaFirefox)
	acctCall(t, c, "POST", "/me/signout-all", `{"keep_current":true}`, nil)
	deadline := time.Now().Add(mailBound)
	for {
		n, err := g.Store.CountOutbox(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if n.Dead == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the message did not die: %+v", n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(metricsText(t, g), `gateway_outbox_messages{state="dead"} 1`) {
		t.Error("gateway_outbox_messages does not count the dead message")
	}
	doc := acctDoc(t, admin.Get(t, "/.gateway/admin/outbox", "Accept", "text/html"), http.StatusOK)
	row := doc.Find("#outbox-dead tbody tr")
	if row.Length() != 1 || !strings.Contains(row.Text(), "answered 500") || !strings.Contains(row.Text(), "alice") {
		t.Fatalf("the outbox page does not list the dead message with its error: %q", doc.Find("#outbox-dead").Text())
	}
	action, _ := row.Find("form").Attr("action")
	if len(recv.events()) != 0 {
		t.Fatal("delivered although the receiver failed")
	}
	if resp := admin.PostForm(t, strings.TrimPrefix(action, g.PortalURL), nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("send again: %d", resp.StatusCode)
	}
	deadline = time.Now().Add(mailBound)
	for len(recv.events()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the message sent again never arrived")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Sending it again is a staff action: in the audit log, with whom it
	// is about and why it had been given up.
	es := staffAudit(t, g, store.AuditFilter{Action: store.AuditOutboxRequeue})
	if len(es) != 1 || es[0].Actor != "root" || es[0].Target != "alice" || !strings.Contains(es[0].Detail, "answered 500") || !strings.Contains(es[0].Detail, "given up after 2 attempts") {
		t.Fatalf("audit after sending again: %+v", es)
	}
	audit := acctDoc(t, admin.Get(t, "/.gateway/admin/audit", "Accept", "text/html"), http.StatusOK)
	if !strings.Contains(audit.Text(), "Sent a given-up message again") {
		t.Error("the audit page does not show the message sent again")
	}
	// Support does not see the page.
	sup, _ := staffSignIn(t, g, "helper", "support")
	if resp := sup.Get(t, "/.gateway/admin/outbox", "Accept", "text/html"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("support on the outbox page: %d, want 403", resp.StatusCode)
	}
}
