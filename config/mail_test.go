package config

import (
	"strings"
	"testing"
)

const testWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestSMTPAndWebhookSettings(t *testing.T) {
	withPortal := func(c *Config) { c.PortalURL = "https://auth.example.com" }
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want []string // empty: valid
	}{
		{"off by default", func(*Config) {}, nil},
		{"starttls url", func(c *Config) {
			withPortal(c)
			c.SMTP.URL, c.SMTP.From = "smtp://u:p@mail.example.com:587", "Login <login@example.com>"
		}, nil},
		{"no portal", func(c *Config) {
			c.SMTP.URL, c.SMTP.From = "smtps://mail.example.com:465", "login@example.com"
		}, []string{"smtp.url", "GATEWAY_SMTP_URL", "portal_url"}},
		{"bad scheme", func(c *Config) { withPortal(c); c.SMTP.URL = "http://mail.example.com" }, []string{"smtp.url", "smtp://"}},
		{"no from", func(c *Config) { withPortal(c); c.SMTP.URL = "smtp://mail.example.com:587" }, []string{"smtp.from", "GATEWAY_SMTP_FROM"}},
		{"bad from", func(c *Config) {
			withPortal(c)
			c.SMTP.URL, c.SMTP.From = "smtp://mail.example.com:587", "not an address"
		}, []string{"smtp.from"}},
		{"plaintext with smtps", func(c *Config) {
			withPortal(c)
			c.SMTP.URL, c.SMTP.From, c.SMTP.Plaintext = "smtps://mail.example.com", "a@example.com", true
		}, []string{"smtp.plaintext"}},
		{"webhook ok", func(c *Config) {
			c.Notify.Webhooks = Webhooks{{URL: "https://app.example.com/hook", Secret: testWebhookSecret, Events: []string{"password.changed"}}}
		}, nil},
		{"webhook weak secret", func(c *Config) {
			c.Notify.Webhooks = Webhooks{{URL: "https://app.example.com/hook", Secret: "whsec_c2hvcnQ="}}
		}, []string{"notify.webhooks[0].secret", "GATEWAY_NOTIFY_WEBHOOKS", "whsec_"}},
		{"webhook unknown event", func(c *Config) {
			c.Notify.Webhooks = Webhooks{{URL: "https://app.example.com/hook", Secret: testWebhookSecret, Events: []string{"password.chnged"}}}
		}, []string{"notify.webhooks[0].events", "password.changed"}},
		{"webhook bad url", func(c *Config) {
			c.Notify.Webhooks = Webhooks{{URL: "ftp://app.example.com/hook", Secret: testWebhookSecret}}
		}, []string{"notify.webhooks[0].url"}},
		{"retry max below base", func(c *Config) {
			c.Notify.RetryMax.Duration = c.Notify.RetryBase.Duration / 2
		}, []string{"notify.retry_max", "GATEWAY_NOTIFY_RETRY_MAX"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.edit(&c)
			err := c.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			checkErr(t, err, tc.want...)
		})
	}
}

func TestWebhooksFromEnvAndYAML(t *testing.T) {
	env := minimalEnv(`GATEWAY_NOTIFY_WEBHOOKS=[{"url":"https://a.example.com/h","secret":"` + testWebhookSecret + `","events":["session.revoked"]}]`)
	c, err := Load("", env)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Notify.Webhooks) != 1 || c.Notify.Webhooks[0].Events[0] != "session.revoked" {
		t.Fatalf("from env: %+v", c.Notify.Webhooks)
	}
	path := writeFile(t, "notify:\n  webhooks:\n    - url: https://b.example.com/h\n      secret: "+testWebhookSecret+"\n")
	c, err = Load(path, minimalEnv())
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Notify.Webhooks) != 1 || c.Notify.Webhooks[0].URL != "https://b.example.com/h" {
		t.Fatalf("from YAML: %+v", c.Notify.Webhooks)
	}
	_, err = Load("", minimalEnv("GATEWAY_NOTIFY_WEBHOOKS=https://x"))
	checkErr(t, err, "GATEWAY_NOTIFY_WEBHOOKS", "JSON")
}

func TestMaskedHidesMailSecrets(t *testing.T) {
	c := validConfig()
	c.PortalURL = "https://auth.example.com"
	c.SMTP.URL, c.SMTP.From = "smtp://mailer:hunter2hunter2@mail.example.com:587", "a@example.com"
	c.Notify.Webhooks = Webhooks{{URL: "https://app.example.com/hook", Secret: testWebhookSecret}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	out := c.Masked()
	if strings.Contains(out, "hunter2") || strings.Contains(out, testWebhookSecret) {
		t.Fatalf("Masked shows a secret:\n%s", out)
	}
	if !strings.Contains(out, "smtp://mailer:xxxxx@mail.example.com:587") {
		t.Fatalf("Masked lost the SMTP host:\n%s", out)
	}
}
