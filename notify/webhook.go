package notify

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/authgate/gateway/config"
	"github.com/authgate/gateway/store"
)

// Webhooks are signed as Standard Webhooks (standardwebhooks.com) sign
// them: the headers webhook-id (the same on every retry, so a receiver can
// drop repeats), webhook-timestamp (unix seconds of this attempt) and
// webhook-signature "v1,<base64 HMAC-SHA256 of id.timestamp.body>", keyed
// with the base64 part of the "whsec_…" secret.

// WebhookPayload is the JSON body of a webhook.
type WebhookPayload struct {
	// Type is the event's name (config.WebhookEvents), e.g. "session.revoked".
	Type string `json:"type"`
	// Timestamp is when the event happened.
	Timestamp time.Time   `json:"timestamp"`
	Data      WebhookData `json:"data"`
}

// WebhookData names whom the event is about.
type WebhookData struct {
	UserID   string `json:"user_id"`
	Username string `json:"username,omitempty"`
	// Actor is the staff member or token that acted ("" for the person).
	Actor  string `json:"actor,omitempty"`
	IP     string `json:"ip,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// webhookNames maps activity event types to webhook event names.
var webhookNames = func() map[string]string {
	m := map[string]string{}
	for name, typ := range config.WebhookEvents {
		m[typ] = name
	}
	return m
}()

// Sign returns the webhook-signature header value for one request.
func Sign(secret, id string, ts int64, body []byte) (string, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + strconv.FormatInt(ts, 10) + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil)), nil
}

// postWebhook delivers m to the receiver it names. Any answer other than
// 2xx is a failure, retried later.
func (w *Worker) postWebhook(ctx context.Context, m *store.OutboxMessage) error {
	var hook *config.Webhook
	for i := range w.Config.Notify.Webhooks {
		if w.Config.Notify.Webhooks[i].URL == m.To {
			hook = &w.Config.Notify.Webhooks[i]
		}
	}
	if hook == nil {
		return errNoLongerConfigured
	}
	p := WebhookPayload{Type: webhookNames[m.Event.Type], Timestamp: m.Event.Time,
		Data: WebhookData{UserID: m.UserID, Actor: m.Event.Actor, IP: m.Event.IP, Detail: m.Event.Detail}}
	if u, err := w.Store.FindUserByID(ctx, m.UserID); err == nil {
		p.Data.Username = u.Username
	}
	body, err := json.Marshal(p)
	if err != nil {
		return err
	}
	ts := w.now().Unix()
	sig, err := Sign(hook.Secret, m.ID, ts, body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hook.URL, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "gateway-webhooks")
	req.Header.Set("webhook-id", m.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	resp, err := w.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return nil
}
