package config

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// SMTP is where the gateway sends mail (security alerts, reset and
// confirmation links). An empty URL sends no mail.
type SMTP struct {
	// URL is smtp://user:pass@host:587 (STARTTLS, required) or
	// smtps://user:pass@host:465 (TLS from the first byte). The user and
	// password are optional (a relay that needs no login). STARTTLS may be
	// skipped only for a loopback host or with Plaintext.
	URL string `yaml:"url"`
	// From is the sender address, e.g. "Example Login <login@example.com>".
	From string `yaml:"from"`
	// Plaintext allows smtp:// without STARTTLS to a host that is not
	// loopback (a relay on a private network): the password and every
	// message then cross the network readable. Never over the internet.
	Plaintext bool `yaml:"plaintext"`
	// Timeout bounds one delivery (connect, TLS, login, send).
	Timeout Duration `yaml:"timeout"`
}

// Notify configures the outbox that delivers mail and webhooks.
type Notify struct {
	// Webhooks receive security events as signed JSON (Standard Webhooks).
	Webhooks Webhooks `yaml:"webhooks"`
	// RetryBase is the wait after a first failed delivery; each further
	// failure doubles it, up to RetryMax.
	RetryBase Duration `yaml:"retry_base"`
	RetryMax  Duration `yaml:"retry_max"`
	// MaxAttempts is how many failed deliveries make a message dead: kept,
	// counted in gateway_outbox_messages{state="dead"} and listed in the
	// console, where staff can send it again.
	MaxAttempts int `yaml:"max_attempts"`
}

// Webhook is one receiver of security events.
type Webhook struct {
	// URL receives a POST per event.
	URL string `yaml:"url" json:"url"`
	// Secret signs each request (Standard Webhooks): "whsec_" and the
	// base64 of 24 to 64 random bytes.
	Secret string `yaml:"secret" json:"secret"`
	// Events filters what is sent (WebhookEvents); empty sends every event.
	Events []string `yaml:"events" json:"events"`
}

// Webhooks is notify.webhooks. In the environment it is JSON:
// GATEWAY_NOTIFY_WEBHOOKS='[{"url":"https://app/hook","secret":"whsec_…","events":["password.changed"]}]'.
type Webhooks []Webhook

// UnmarshalText reads the environment's JSON form.
func (w *Webhooks) UnmarshalText(b []byte) error {
	var out []Webhook
	if len(strings.TrimSpace(string(b))) == 0 {
		*w = Webhooks{}
		return nil
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("is not a JSON list of {\"url\",\"secret\",\"events\"}: %v", err)
	}
	*w = out
	return nil
}

// WebhookEvents maps the event names of webhooks to the activity events
// they report.
var WebhookEvents = map[string]string{
	"session.revoked":       "session_revoked",
	"sessions.signed_out":   "sign_out_all",
	"password.changed":      "password_changed",
	"mfa.enabled":           "mfa_enabled",
	"mfa.disabled":          "mfa_disabled",
	"account.locked":        "locked",
	"account.unlocked":      "unlocked",
	"account.disabled":      "disabled",
	"account.secured":       "account_secured",
	"sign_in.new_device":    "new_device",
	"email.changed":         "email_changed",
	"recovery_code.used":    "recovery_code_used",
	"password_reset.issued": "reset_link_created",
}

// Defaults of the mail and outbox settings.
const (
	DefaultSMTPTimeout  = 30 * time.Second
	DefaultRetryBase    = 10 * time.Second
	DefaultRetryMax     = 15 * time.Minute
	DefaultMaxAttempts  = 50
	minWebhookSecretLen = 24
)

// MailEnabled reports whether smtp.url is set.
func (c *Config) MailEnabled() bool { return c.SMTP.URL != "" }

const smtpExample = "write e.g. \"smtp://user:password@mail.example.com:587\" (STARTTLS) or \"smtps://user:password@mail.example.com:465\""

func (c *Config) validateSMTP() error {
	s := &c.SMTP
	if s.URL == "" {
		if s.From != "" {
			return keyErr("smtp.url", "is empty but smtp.from is set; set smtp.url to send mail, %s", smtpExample)
		}
		return nil
	}
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return keyErr("smtp.url", "is not an smtp:// or smtps:// URL with a host; %s", smtpExample)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return keyErr("smtp.url", "must not have a path or query; %s", smtpExample)
	}
	if u.Scheme == "smtps" && s.Plaintext {
		return keyErr("smtp.plaintext", "is on with smtps://, which always uses TLS; turn it off")
	}
	if s.From == "" {
		return keyErr("smtp.from", "is empty; set the sender, e.g. \"Example Login <login@example.com>\"")
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		return keyErr("smtp.from", "%q is not a mail address: %v", s.From, err)
	}
	if !c.HasPortal() {
		return keyErr("smtp.url", "needs portal_url (GATEWAY_PORTAL_URL): the links in mails open the portal")
	}
	if s.Timeout.Duration <= 0 {
		return keyErr("smtp.timeout", "must be positive, e.g. \"30s\"")
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// SMTPLoopback reports whether smtp.url names a loopback host, where
// STARTTLS is used when offered but not required.
func (c *Config) SMTPLoopback() bool {
	u, err := url.Parse(c.SMTP.URL)
	return err == nil && isLoopbackHost(u.Hostname())
}

func (c *Config) validateNotify() error {
	n := &c.Notify
	if n.RetryBase.Duration <= 0 {
		return keyErr("notify.retry_base", "must be positive, e.g. \"10s\"")
	}
	if n.RetryMax.Duration < n.RetryBase.Duration {
		return keyErr("notify.retry_max", "%s is shorter than notify.retry_base (%s)", n.RetryMax.Duration, n.RetryBase.Duration)
	}
	if n.MaxAttempts < 1 {
		return keyErr("notify.max_attempts", "must be at least 1")
	}
	names := make([]string, 0, len(WebhookEvents))
	for k := range WebhookEvents {
		names = append(names, k)
	}
	slices.Sort(names)
	for i, w := range n.Webhooks {
		key := fmt.Sprintf("notify.webhooks[%d]", i)
		u, err := url.Parse(w.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return keyErr(key+".url", "%q is not an http:// or https:// URL", w.URL)
		}
		if u.User != nil {
			return keyErr(key+".url", "must not hold a user name or password; the secret signs each request")
		}
		if _, _, err := net.SplitHostPort(u.Host); err != nil && strings.Contains(u.Host, "]:") {
			return keyErr(key+".url", "%q has a bad host", w.URL)
		}
		raw, ok := strings.CutPrefix(w.Secret, "whsec_")
		key2, err := base64.StdEncoding.DecodeString(raw)
		if !ok || err != nil || len(key2) < minWebhookSecretLen || len(key2) > 64 {
			return keyErr(key+".secret", "must be \"whsec_\" and the base64 of 24 to 64 random bytes; generate one with `echo whsec_$(openssl rand -base64 32)`")
		}
		for _, e := range w.Events {
			if _, ok := WebhookEvents[e]; !ok {
				return keyErr(key+".events", "%q is not an event; known: %s", e, strings.Join(names, ", "))
			}
		}
	}
	return nil
}
