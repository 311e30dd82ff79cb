package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// Pages of the portal that mailed links open (the gateway serves them).
const (
	PageWasntMe     = "/wasntme"
	PageReset       = "/reset"
	PageVerifyEmail = "/email/confirm"
)

// compose renders m for its recipient. Links that carry a secret get a
// fresh token now, so no token ever rests in the outbox; a retry makes a
// new one (a reset link replaces the previous; "This wasn't me" links of
// failed attempts simply expire unused).
func (w *Worker) compose(ctx context.Context, m *store.OutboxMessage) (*Outgoing, error) {
	u, err := w.Store.FindUserByID(ctx, m.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, skipped("user_gone")
	}
	if err != nil {
		return nil, err
	}
	to := m.To
	if to == "" {
		to = u.Email
	}
	if to == "" {
		return nil, skipped("no_address")
	}
	if kind := optionalAlert(m.Template, m.Event); kind != "" && !u.AlertOn(kind) {
		return nil, skipped("alert_off")
	}
	mail := w.mailFor(m, u)
	p := w.Config.PathPrefix
	switch m.Template {
	case store.EventNewDevice:
		tok, err := w.wasntMeToken(ctx, u.ID, to)
		if err != nil {
			return nil, err
		}
		mail.Action = &templates.MailAction{Label: "This wasn't me", URL: w.link(p+PageWasntMe, tok),
			Note: "The link opens a page that asks you to confirm; it works once, for 7 days, without signing in."}
	case store.EventEmailChanged:
		if !toOldAddress(m, u) {
			break
		}
		// Whoever took the account over would change its address first, so
		// the old one, where the owner still reads mail, can undo it.
		tok, err := w.wasntMeToken(ctx, u.ID, to)
		if err != nil {
			return nil, err
		}
		mail.Action = &templates.MailAction{Label: "This wasn't me", URL: w.link(p+PageWasntMe, tok),
			Note: "The link opens a page that asks you to confirm; it works once, for 7 days, without signing in."}
	case store.MailResetLink:
		tok, _, err := w.Store.CreateResetLink(ctx, u.ID, resetBy(m), store.ForgotResetTTL)
		if err != nil {
			return nil, err
		}
		mail.Action = &templates.MailAction{Label: "Set a new password", URL: w.link(p+PageReset, tok),
			Note: "The link works once, for 30 minutes. A newer link replaces it."}
	case store.MailVerifyEmail:
		tok, err := w.Store.CreateOneTime(ctx, store.TokenVerifyEmail, u.ID, to, store.VerifyEmailTTL)
		if err != nil {
			return nil, err
		}
		mail.Action = &templates.MailAction{Label: "Confirm this address", URL: w.link(p+PageVerifyEmail, tok),
			Note: "The link works once, for 24 hours."}
	}
	var html bytes.Buffer
	if err := templates.MailHTML(mail).Render(ctx, &html); err != nil {
		return nil, err
	}
	return &Outgoing{ID: m.ID, To: to, Subject: mail.Subject, Text: templates.MailText(mail), HTML: html.String(), Template: m.Template}, nil
}

// wasntMeToken makes the token of a "This wasn't me" link mailed to addr.
// The token keeps the address: using the link proves its owner reads that
// mail, so the account's address becomes that one again and the reset
// link goes there, not to an address an intruder may have set meanwhile.
func (w *Worker) wasntMeToken(ctx context.Context, uid, addr string) (string, error) {
	return w.Store.CreateOneTime(ctx, store.TokenWasntMe, uid, addr, store.WasntMeTTL)
}

// toOldAddress says whether m goes to an address the account no longer
// has (the old one, told of a change of address).
func toOldAddress(m *store.OutboxMessage, u *store.User) bool {
	return m.To != "" && !strings.EqualFold(m.To, u.Email)
}

func (w *Worker) link(page, tok string) string {
	return w.Config.PortalPage(page) + "?token=" + url.QueryEscape(tok)
}

func resetBy(m *store.OutboxMessage) string {
	if m.Data["why"] == "secured" {
		return "\"This wasn't me\""
	}
	return "the sign-in page (forgot password)"
}

// mailFor words the mail about m's event for u.
func (w *Worker) mailFor(m *store.OutboxMessage, u *store.User) templates.Mail {
	e := m.Event
	mail := templates.Mail{
		Account: w.Config.PortalPage(w.Config.PathPrefix + "/account"),
		Footer:  fmt.Sprintf("You get this mail because it concerns the account %q.", u.Username),
	}
	if e.Type != "" {
		mail.Facts = w.facts(e)
	}
	notMe := "If this was not you, sign in and change your password now, or ask support for help."
	switch m.Template {
	case store.EventNewDevice:
		mail.Subject = "New sign-in to your account"
		mail.Intro = "Your password was just entered on a browser that has not signed in to your account before."
		if strings.Contains(e.Detail, "two-step") {
			mail.Intro += " A two-step verification code is still needed to finish signing in."
		}
		mail.Advice = []string{"If this was you, there is nothing to do.",
			"If it was not, press \"This wasn't me\": every device is signed out, sign-in with your password is blocked, and we mail you a link to set a new one."}
	case store.EventPasswordChanged:
		mail.Subject = "Your password was changed"
		mail.Intro = "The password of your account was changed: " + e.Detail + "."
		mail.Advice = []string{notMe}
	case store.EventMFAEnabled:
		mail.Subject = "Two-step verification was turned on"
		if strings.HasPrefix(e.Detail, "authenticator app replaced") {
			mail.Subject = "Your authenticator app was replaced"
		}
		mail.Intro = "Two-step verification was turned on for your account: " + e.Detail + "."
		mail.Advice = []string{notMe}
	case store.EventMFADisabled:
		mail.Subject = "Two-step verification was turned off"
		mail.Intro = "Two-step verification was turned off for your account: " + e.Detail + "."
		if e.Actor != "" {
			mail.Subject = "Support reset your two-step verification"
		}
		mail.Advice = []string{notMe}
	case store.EventRecoveryUsed:
		mail.Subject = "A recovery code was used"
		mail.Intro = "Someone " + e.Detail + "."
		mail.Advice = []string{"Each code works once. When few are left, make new ones on Login & Security.", notMe}
	case store.EventEmailChanged:
		mail.Subject = "Your e-mail address was changed"
		mail.Intro = "The e-mail address of your account was changed: " + e.Detail + "."
		mail.Advice = []string{notMe}
		if toOldAddress(m, u) {
			mail.Intro += " Security alerts now go to the new address, not to this one."
			mail.Advice = []string{"If this was you, there is nothing to do.",
				"If it was not, press \"This wasn't me\": every device is signed out, sign-in with your password is blocked, this address becomes the account's again, and we mail a link to set a new password here."}
		}
	case store.EventAccountSecured:
		mail.Subject = "Your account was secured"
		mail.Intro = "You said a sign-in was not you. Every device was signed out and sign-in with your password is blocked until you set a new one."
		mail.Advice = []string{"A separate mail brings the link to set a new password. Your two-step verification stays as it was."}
	case store.MailResetLink:
		mail.Subject = "Set a new password"
		mail.Intro = "A link to set a new password for your account was asked for on the sign-in page."
		if m.Data["why"] == "secured" {
			mail.Intro = "You secured your account with \"This wasn't me\". Set a new password to sign in again."
		}
		mail.Advice = []string{"If you did not ask for it, you can ignore this mail: nothing changes until the link is used."}
	case store.MailVerifyEmail:
		mail.Subject = "Confirm your e-mail address"
		mail.Intro = "Confirm that security alerts for the account " + u.Username + " should go to this address."
		mail.Advice = []string{"If you did not ask for this, ignore this mail: the address is not used until it is confirmed."}
		mail.Facts = nil
	default:
		// A staff event's detail names who acted and why ("Support (bob)
		// signed you out of all devices: phone stolen").
		mail.Subject = "Support acted on your account"
		mail.Intro = e.Detail + "."
		if e.Actor == "" {
			mail.Subject = "Activity on your account"
		}
		mail.Advice = []string{"If you did not expect this, contact support."}
	}
	mail.Heading = mail.Subject
	return mail
}

// facts names the device, approximate place, IP and time of an event.
func (w *Worker) facts(e store.Event) []templates.MailFact {
	device, place := "", ""
	if w.Describe != nil {
		device, place = w.Describe(e.Device, e.IP)
	}
	var f []templates.MailFact
	if e.Actor != "" {
		f = append(f, templates.MailFact{Label: "By", Value: e.Actor})
	} else if device != "" {
		f = append(f, templates.MailFact{Label: "Device", Value: device})
	}
	if e.Actor == "" {
		if place != "" {
			f = append(f, templates.MailFact{Label: "Approximate place", Value: place})
		}
		if e.IP != "" {
			f = append(f, templates.MailFact{Label: "IP address", Value: e.IP})
		}
	}
	f = append(f, templates.MailFact{Label: "Time", Value: e.Time.UTC().Format("Mon, 2 Jan 2006 15:04 UTC")})
	return f
}
