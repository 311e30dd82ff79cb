package config

import (
	"bytes"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Masked returns the effective configuration as YAML, as printed by
// `gateway config check`. Secrets are never shown: secret and each previous
// secret appear as "<set, N bytes>" or "<unset>", and a password in
// redis.url appears as "xxxxx". The output can be read back by Load only
// after the real secrets are put in again.
func (c *Config) Masked() string {
	m := *c
	m.Secret = maskSecret(c.Secret)
	m.PreviousSecrets = make([]string, len(c.PreviousSecrets))
	for i, s := range c.PreviousSecrets {
		m.PreviousSecrets[i] = maskSecret(s)
	}
	m.Redis.URL = maskRedisURL(c.Redis.URL)
	m.SMTP.URL = maskSMTPURL(c.SMTP.URL)
	m.Notify.Webhooks = make(Webhooks, len(c.Notify.Webhooks))
	for i, w := range c.Notify.Webhooks {
		w.Secret = maskSecret(w.Secret)
		m.Notify.Webhooks[i] = w
	}

	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&m); err != nil {
		return fmt.Sprintf("# cannot render configuration: %v\n", err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Sprintf("# cannot render configuration: %v\n", err)
	}
	return b.String()
}

func maskSecret(s string) string {
	if s == "" {
		return "<unset>"
	}
	return fmt.Sprintf("<set, %d bytes>", len(s))
}

// maskSMTPURL hides the password of smtp.url.
func maskSMTPURL(s string) string {
	scheme, rest, ok := strings.Cut(s, "://")
	at := strings.LastIndexByte(rest, '@')
	if !ok || at < 0 {
		return s
	}
	user, _, hasPw := strings.Cut(rest[:at], ":")
	if !hasPw {
		return s
	}
	return scheme + "://" + user + ":xxxxx" + rest[at:]
}
