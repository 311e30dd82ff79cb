package e2e

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/internal/testkit/harness"
)

// lockedBuffer collects access lines written by the gateway's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// accessLine is one access log line.
type accessLine struct {
	Msg        string   `json:"msg"`
	RequestID  string   `json:"request_id"`
	User       string   `json:"user"`
	Route      string   `json:"route"`
	Method     string   `json:"method"`
	Path       string   `json:"path"`
	Status     int      `json:"status"`
	Bytes      int64    `json:"bytes"`
	DurationMS *float64 `json:"duration_ms"`
}

// waitAccessLine returns the line for request id; the line is written once
// the answer has gone out, so it may come a moment after the client has it.
func waitAccessLine(t *testing.T, buf *lockedBuffer, id string) accessLine {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		buf.mu.Lock()
		text := buf.b.String()
		buf.mu.Unlock()
		for line := range strings.SplitSeq(text, "\n") {
			if line == "" {
				continue
			}
			var l accessLine
			if err := json.Unmarshal([]byte(line), &l); err != nil {
				t.Fatalf("access log line is not JSON: %v\n%s", err, line)
			}
			if l.RequestID == id {
				return l
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no access line with request id %q in:\n%s", id, text)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func startWithAccessLog(t *testing.T, trusted ...string) (*harness.Gateway, *lockedBuffer) {
	buf := &lockedBuffer{}
	g := harness.Start(t, harness.Options{AccessLog: buf, Configure: func(c *config.Config) {
		c.Log.Access = true
		c.TrustedProxies = trusted
	}})
	return g, buf
}

func TestAccessLogLineForEachRequest(t *testing.T) {
	g, buf := startWithAccessLog(t)
	g.CreateUser(t, "alice")
	c := g.NewClient(t)
	c.Login(t, "alice", harness.TestPassword)

	// A client that is not a trusted proxy cannot choose its request id.
	resp := c.Get(t, "/app/report?token=s3cret-in-query", "X-Request-Id", "spoofed-id-1")
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("proxied request: status %d", resp.StatusCode)
	}
	var seen harness.Echoed
	if err := json.Unmarshal(body, &seen); err != nil {
		t.Fatal(err)
	}
	id := resp.Header.Get("X-Request-Id")
	if id == "" || id == "spoofed-id-1" {
		t.Fatalf("answer's X-Request-Id = %q, want a fresh id in place of the client's", id)
	}
	if got := seen.Header.Values("X-Request-Id"); len(got) != 1 || got[0] != id {
		t.Fatalf("app got X-Request-Id %q, want [%q] (the id the client was given)", got, id)
	}
	l := waitAccessLine(t, buf, id)
	want := accessLine{Msg: "access", RequestID: id, User: "alice", Route: "upstream", Method: "GET",
		Path: "/app/report", Status: 200, Bytes: int64(len(body))}
	if l.DurationMS == nil || *l.DurationMS < 0 {
		t.Errorf("duration_ms missing or negative: %v", l.DurationMS)
	}
	l.DurationMS = nil
	if l != want {
		t.Errorf("access line = %+v\nwant %+v", l, want)
	}
	buf.mu.Lock()
	if strings.Contains(buf.b.String(), "s3cret") {
		t.Errorf("the query string reached the access log:\n%s", buf.b.String())
	}
	buf.mu.Unlock()

	// Refused requests are logged too, with no user.
	anon := g.NewClient(t)
	resp = anon.Get(t, "/app/report")
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous request: status %d, want 401", resp.StatusCode)
	}
	l = waitAccessLine(t, buf, resp.Header.Get("X-Request-Id"))
	if l.User != "" || l.Status != http.StatusUnauthorized || l.Path != "/app/report" {
		t.Errorf("access line of a refused request = %+v, want no user and status 401", l)
	}
}

func TestAccessLogKeepsRequestIDFromTrustedProxy(t *testing.T) {
	g, buf := startWithAccessLog(t, "127.0.0.1/32", "::1/128")
	g.CreateUser(t, "bob")
	c := g.NewClient(t)
	c.Login(t, "bob", harness.TestPassword)

	seen, resp := c.Echo(t, "/app", "X-Request-Id", "4bf92f3577b34da6a3ce929d0e0e4736")
	if seen == nil {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := seen.Header.Get("X-Request-Id"); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("app got X-Request-Id %q, want the trusted proxy's", got)
	}
	if got := resp.Header.Get("X-Request-Id"); got != "4bf92f3577b34da6a3ce929d0e0e4736" {
		t.Errorf("answer's X-Request-Id = %q, want the trusted proxy's", got)
	}
	if l := waitAccessLine(t, buf, "4bf92f3577b34da6a3ce929d0e0e4736"); l.User != "bob" || l.Status != 200 {
		t.Errorf("access line = %+v", l)
	}

	// Even a trusted proxy's id is replaced when it could break a log line.
	seen, resp = c.Echo(t, "/app", "X-Request-Id", `id" , "user":"admin`)
	if seen == nil {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if got := seen.Header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, `" ,`) {
		t.Errorf("app got X-Request-Id %q, want a generated id", got)
	}
}
