// Package mailtest runs a real SMTP server for a test: Mailpit
// (github.com/axllent/mailpit), which keeps what it receives and lists it
// over an HTTP API.
//
// Start runs a private mailpit on two free ports of 127.0.0.1 (SMTP and
// the HTTP API), without authentication and with its database in
// tb.TempDir(). It stops when the test ends. If mailpit is not installed
// the test is skipped, or fails when GATEWAY_TEST_REQUIRE_MAILPIT=1.
package mailtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/authgate/gateway/internal/testkit/testenv"
)

const (
	startTimeout = 15 * time.Second
	stopTimeout  = 5 * time.Second
)

// Server is a mailpit process that runs for one test.
type Server struct {
	// SMTPAddr is the SMTP listener, "127.0.0.1:N"; it stays the same
	// across Stop and Restart.
	SMTPAddr string
	// APIURL is the base URL of the HTTP API and web UI.
	APIURL string

	bin, dir string
	mu       sync.Mutex
	cmd      *exec.Cmd
	done     chan struct{}
	out      *bytes.Buffer
}

// Start runs a new mailpit and waits until both its listeners answer.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin := testenv.LookPath(tb, "mailpit", testenv.RequireMailpit)
	s := &Server{bin: bin, dir: tb.TempDir()}
	tb.Cleanup(func() { s.stop() })
	var err error
	for range 5 {
		var smtpPort, apiPort int
		if smtpPort, err = freePort(); err != nil {
			break
		}
		if apiPort, err = freePort(); err != nil {
			break
		}
		s.SMTPAddr = "127.0.0.1:" + strconv.Itoa(smtpPort)
		s.APIURL = "http://127.0.0.1:" + strconv.Itoa(apiPort)
		if err = s.start(); err == nil {
			return s
		}
	}
	tb.Fatalf("mailtest: start mailpit: %v", err)
	return nil
}

// URL is the smtp:// URL of the server, for smtp.url.
func (s *Server) URL() string { return "smtp://" + s.SMTPAddr }

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.bin,
		"--smtp", s.SMTPAddr, "--listen", strings.TrimPrefix(s.APIURL, "http://"),
		"--database", filepath.Join(s.dir, "mailpit.db"),
		"--disable-version-check", "--quiet", "--smtp-disable-rdns")
	s.out = &bytes.Buffer{}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done = cmd, done
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			s.cmd = nil
			return fmt.Errorf("mailpit exited: %s", s.out.String())
		default:
		}
		if ready(s.SMTPAddr, s.APIURL) {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.kill()
	return errors.New("mailpit did not answer within " + startTimeout.String())
}

func ready(smtpAddr, api string) bool {
	c, err := net.DialTimeout("tcp", smtpAddr, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	resp, err := http.Get(api + "/api/v1/messages")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// Stop stops the server: SMTP connections are refused until Restart.
// What it received is kept (its database stays in the temporary directory).
func (s *Server) Stop(tb testing.TB) {
	tb.Helper()
	s.stop()
}

// Restart starts the server again on the same ports.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.stop()
	var err error
	for attempt := range 5 {
		if err = s.start(); err == nil {
			return
		}
		time.Sleep(time.Duration(attempt+1) * 200 * time.Millisecond)
	}
	tb.Fatalf("mailtest: restart mailpit: %v", err)
}

func (s *Server) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		s.kill()
	}
	s.cmd = nil
}

func (s *Server) kill() {
	if s.cmd != nil {
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// Address is a mail address as the API gives it.
type Address struct {
	Name    string `json:"Name"`
	Address string `json:"Address"`
}

// Summary is a message as the list gives it.
type Summary struct {
	ID      string    `json:"ID"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Subject string    `json:"Subject"`
	Created time.Time `json:"Created"`
}

// Message is one message in full.
type Message struct {
	ID      string    `json:"ID"`
	From    Address   `json:"From"`
	To      []Address `json:"To"`
	Subject string    `json:"Subject"`
	Date    time.Time `json:"Date"`
	Text    string    `json:"Text"`
	HTML    string    `json:"HTML"`
}

// Messages lists what the server received, newest first.
func (s *Server) Messages(tb testing.TB) []Summary {
	tb.Helper()
	var out struct {
		Messages []Summary `json:"messages"`
	}
	s.getJSON(tb, "/api/v1/messages?limit=500", &out)
	return out.Messages
}

// Message reads one message.
func (s *Server) Message(tb testing.TB, id string) *Message {
	tb.Helper()
	var m Message
	s.getJSON(tb, "/api/v1/message/"+id, &m)
	return &m
}

// Find returns the newest message to the address to whose subject holds
// subject, or nil.
func (s *Server) Find(tb testing.TB, to, subject string) *Message {
	tb.Helper()
	for _, m := range s.Messages(tb) {
		for _, a := range m.To {
			if strings.EqualFold(a.Address, to) && strings.Contains(m.Subject, subject) {
				return s.Message(tb, m.ID)
			}
		}
	}
	return nil
}

// Await waits up to bound for a message as Find finds it, and fails the
// test when none comes. The bound is a limit, not a measurement: tests
// report how long it took.
func (s *Server) Await(tb testing.TB, to, subject string, bound time.Duration) *Message {
	tb.Helper()
	deadline := time.Now().Add(bound)
	for {
		if m := s.Find(tb, to, subject); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			tb.Fatalf("mailtest: no mail to %s with %q in its subject within %s; received: %+v", to, subject, bound, s.Messages(tb))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Count is how many messages went to the address.
func (s *Server) Count(tb testing.TB, to string) int {
	tb.Helper()
	n := 0
	for _, m := range s.Messages(tb) {
		for _, a := range m.To {
			if strings.EqualFold(a.Address, to) {
				n++
			}
		}
	}
	return n
}

func (s *Server) getJSON(tb testing.TB, path string, v any) {
	tb.Helper()
	resp, err := http.Get(s.APIURL + path)
	if err != nil {
		tb.Fatalf("mailtest: GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("mailtest: GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		tb.Fatalf("mailtest: GET %s: %v", path, err)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// setParentDeathSignal has Linux kill mailpit if the test binary dies
// (set by reflection: the field exists only on Linux).
func setParentDeathSignal(cmd *exec.Cmd) {
	attr := &syscall.SysProcAttr{}
	if f := reflect.ValueOf(attr).Elem().FieldByName("Pdeathsig"); f.IsValid() && f.CanSet() && f.Type() == reflect.TypeOf(syscall.SIGKILL) {
		f.Set(reflect.ValueOf(syscall.SIGKILL))
	}
	cmd.SysProcAttr = attr
}
