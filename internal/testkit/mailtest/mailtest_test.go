package mailtest

import (
	"net"
	"net/smtp"
	"testing"
	"time"
)

func send(t *testing.T, s *Server, to, subject string) error {
	t.Helper()
	msg := "From: a@example.com\r\nTo: " + to + "\r\nSubject: " + subject + "\r\n\r\nhello\r\n"
	return smtp.SendMail(s.SMTPAddr, nil, "a@example.com", []string{to}, []byte(msg))
}

func TestMailpitReceivesAndRestarts(t *testing.T) {
	s := Start(t)
	if err := send(t, s, "bob@example.com", "first"); err != nil {
		t.Fatal(err)
	}
	m := s.Await(t, "bob@example.com", "first", 10*time.Second)
	if m.Text == "" || m.To[0].Address != "bob@example.com" {
		t.Fatalf("message read back: %+v", m)
	}
	s.Stop(t)
	if c, err := net.DialTimeout("tcp", s.SMTPAddr, time.Second); err == nil {
		c.Close()
		t.Fatal("SMTP still answers after Stop")
	}
	s.Restart(t)
	if err := send(t, s, "bob@example.com", "second"); err != nil {
		t.Fatal(err)
	}
	s.Await(t, "bob@example.com", "second", 10*time.Second)
	if n := s.Count(t, "bob@example.com"); n != 2 {
		t.Fatalf("Count = %d after a restart, want 2 (the database is kept)", n)
	}
}
