package notify

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	gomail "github.com/wneessen/go-mail"

	"github.com/authgate/gateway/config"
)

// Outgoing is one rendered mail.
type Outgoing struct {
	// ID is the outbox message's id: the same on every attempt, so it
	// makes a stable Message-ID.
	ID       string
	To       string
	Subject  string
	Text     string
	HTML     string
	Template string // what it is about (for the demo's list)
}

// Sender delivers rendered mail: SMTP in production, a MemoryBox in the demo.
type Sender interface {
	Send(ctx context.Context, m *Outgoing) error
}

// SMTP sends through the server of smtp.url with go-mail, one connection
// per message (alerts are rare; a kept connection would only time out).
type SMTP struct {
	from string
	opts []gomail.Option
	host string
}

// NewSMTP prepares the SMTP sender. smtp:// requires STARTTLS unless the
// host is loopback (then used when offered) or smtp.plaintext is on;
// smtps:// speaks TLS from the first byte.
func NewSMTP(cfg *config.Config) (*SMTP, error) {
	u, err := url.Parse(cfg.SMTP.URL)
	if err != nil {
		return nil, fmt.Errorf("smtp.url: %w", err)
	}
	port := 587
	if u.Scheme == "smtps" {
		port = 465
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			return nil, fmt.Errorf("smtp.url: bad port %q", p)
		}
	}
	opts := []gomail.Option{gomail.WithPort(port), gomail.WithTimeout(cfg.SMTP.Timeout.Duration)}
	switch {
	case u.Scheme == "smtps":
		opts = append(opts, gomail.WithSSL())
	case cfg.SMTP.Plaintext:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case cfg.SMTPLoopback():
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	default:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	}
	if u.User != nil && u.User.Username() != "" {
		pw, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(u.User.Username()), gomail.WithPassword(pw))
	}
	return &SMTP{from: cfg.SMTP.From, opts: opts, host: u.Hostname()}, nil
}

// Send delivers m. Errors name the server, never the message's content.
func (s *SMTP) Send(ctx context.Context, m *Outgoing) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.from); err != nil {
		return fmt.Errorf("smtp.from: %w", err)
	}
	if err := msg.To(m.To); err != nil {
		return fmt.Errorf("recipient address refused: %w", err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.ID + "@gateway")
	msg.SetDate()
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	c, err := gomail.NewClient(s.host, s.opts...)
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}
