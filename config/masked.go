package config

import (
	"bytes"
	"fmt"

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
