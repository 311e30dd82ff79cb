package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// outboxListLimit is how many retrying and dead messages the page lists.
const outboxListLimit = 100

var outboxNotices = map[string]string{"requeued": "The message is queued again; it is sent in a moment."}

// showOutbox lists what waits in the outbox (store/outbox.go), for admins:
// a mail server or webhook receiver that keeps failing shows here first.
func (h *Handler) showOutbox(w http.ResponseWriter, r *http.Request, a *staffActor) {
	h.renderOutbox(w, r, a, http.StatusOK, outboxNotices[r.URL.Query().Get("m")], "")
}

func (h *Handler) renderOutbox(w http.ResponseWriter, r *http.Request, a *staffActor, status int, notice, errMsg string) {
	ctx := r.Context()
	n, err := h.Store.CountOutbox(ctx)
	var retrying, dead []*store.OutboxMessage
	if err == nil {
		retrying, err = h.Store.FindOutbox(ctx, store.OutboxRetrying, outboxListLimit)
	}
	if err == nil {
		dead, err = h.Store.FindOutbox(ctx, store.OutboxDead, outboxListLimit)
	}
	if err != nil {
		h.Log.Error("console outbox: load", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	page := templates.ConsoleOutboxPage{
		Chrome: h.consoleChrome(a, "Outbox — Support console"), Nav: h.consoleNav(a, "outbox"),
		Queued: n.Queued, Retrying: n.Retrying, Dead: n.Dead, Notice: notice, Error: errMsg,
		MailOn: h.MailOn, Webhooks: len(h.Config.Notify.Webhooks),
	}
	names := map[string]string{}
	row := func(m *store.OutboxMessage) templates.ConsoleOutboxRow {
		if _, ok := names[m.UserID]; !ok {
			if u, err := h.Store.FindUserByID(ctx, m.UserID); err == nil {
				names[m.UserID] = u.Username
			}
		}
		to := m.To
		if to == "" && m.Kind == store.MessageMail {
			to = "the account's address"
		}
		return templates.ConsoleOutboxRow{
			ID: m.ID, Kind: m.Kind, What: consoleEventLabel(m.Template), To: to, User: names[m.UserID],
			Created: consoleTime(m.Created), Attempts: m.Attempts, LastError: m.LastError, When: consoleTime(m.Due),
			RetryPath: h.Prefix + "/admin/outbox/" + url.PathEscape(m.ID) + "/retry",
		}
	}
	for _, m := range retrying {
		page.RetryingRows = append(page.RetryingRows, row(m))
	}
	for _, m := range dead {
		page.DeadRows = append(page.DeadRows, row(m))
	}
	h.Render(w, r, status, templates.ConsoleOutbox(page))
}

// submitOutboxRetry queues a dead message again, with its attempts reset.
func (h *Handler) submitOutboxRetry(w http.ResponseWriter, r *http.Request, a *staffActor) {
	id := r.PathValue("id")
	m, err := h.Store.ReviveOutbox(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		h.renderOutbox(w, r, a, http.StatusNotFound, "", "That message is not among the given-up ones (sent again already?).")
		return
	}
	if err != nil {
		h.Log.Error("console outbox: retry", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	// The message goes out again on the staff member's word: audited, with
	// the account it is about and what it says (not its content).
	e := store.AuditEntry{Action: store.AuditOutboxRequeue, TargetID: m.UserID,
		Detail: fmt.Sprintf("%s %q, message %s, given up after %d attempts: %s", m.Kind, consoleEventLabel(m.Template), id, m.Attempts, m.LastError)}
	if u, err := h.Store.FindUserByID(r.Context(), m.UserID); err == nil {
		e.Target = u.Username
	}
	h.recordStaffAction(r.Context(), a, r, e, "", store.Event{})
	http.Redirect(w, r, h.Prefix+"/admin/outbox?m=requeued", http.StatusSeeOther)
}
