package console

import (
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// auditPageLimit is how many entries the audit page shows; the CSV has all.
const auditPageLimit = 200

// auditQuery is the audit filter as typed, and as parsed.
type auditQuery struct {
	actor, target, action, since, until string
	filter                              store.AuditFilter
}

// parseAuditQuery reads the filter from the query string; msg explains a
// value it could not use.
func parseAuditQuery(q url.Values) (aq auditQuery, msg string) {
	aq = auditQuery{
		actor: strings.TrimSpace(q.Get("actor")), target: strings.TrimSpace(q.Get("user")),
		action: strings.TrimSpace(q.Get("action")), since: strings.TrimSpace(q.Get("since")),
		until: strings.TrimSpace(q.Get("until")),
	}
	aq.filter = store.AuditFilter{Actor: aq.actor, Target: aq.target, Action: aq.action}
	if aq.action != "" && !slices.Contains(store.AuditActions, aq.action) {
		return aq, "Unknown action."
	}
	var ok bool
	if aq.filter.Since, ok = parseAuditTime(aq.since); !ok {
		return aq, "Write the start as 2025-01-31 or 2025-01-31T14:00 (UTC)."
	}
	if aq.filter.Until, ok = parseAuditTime(aq.until); !ok {
		return aq, "Write the end as 2025-01-31 or 2025-01-31T14:00 (UTC)."
	}
	return aq, ""
}

// parseAuditTime reads a UTC date or date-time; "" is no bound.
func parseAuditTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// encode is the filter as a query string, for the CSV link.
func (aq auditQuery) encode() string {
	v := url.Values{}
	for k, val := range map[string]string{"actor": aq.actor, "user": aq.target, "action": aq.action, "since": aq.since, "until": aq.until} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v.Encode()
}

// showAudit is the audit log page for admins.
func (h *Handler) showAudit(w http.ResponseWriter, r *http.Request, a *staffActor) {
	aq, msg := parseAuditQuery(r.URL.Query())
	page := templates.ConsoleAuditPage{
		Chrome: h.consoleChrome(a, "Audit log — Support console"), Nav: h.consoleNav(a, "audit"),
		Actor: aq.actor, Target: aq.target, Action: aq.action, Since: aq.since, Until: aq.until,
		Actions: auditActionChoices(), CSVPath: h.Prefix + "/admin/audit.csv?" + aq.encode(), Error: msg,
	}
	if msg != "" {
		h.Render(w, r, http.StatusBadRequest, templates.ConsoleAudit(page))
		return
	}
	aq.filter.Limit = auditPageLimit + 1
	entries, err := h.Store.FindAudit(r.Context(), aq.filter)
	if err != nil {
		h.Log.Error("read audit log", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	if len(entries) > auditPageLimit {
		entries, page.More = entries[:auditPageLimit], true
	}
	page.Entries = auditRows(entries)
	h.Render(w, r, http.StatusOK, templates.ConsoleAudit(page))
}

// exportAuditCSV downloads the filtered audit log as CSV.
func (h *Handler) exportAuditCSV(w http.ResponseWriter, r *http.Request, a *staffActor) {
	aq, msg := parseAuditQuery(r.URL.Query())
	if msg != "" {
		h.ErrorPage(w, r, http.StatusBadRequest, "bad_filter", "Bad filter", msg)
		return
	}
	entries, err := h.Store.FindAudit(r.Context(), aq.filter)
	if err != nil {
		h.Log.Error("read audit log", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	// The name is built only from digits, never from the filter.
	name := "gateway-audit-" + time.Now().UTC().Format("20060102-150405") + ".csv"
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"time", "actor", "actor_role", "token_id", "action", "user", "user_id", "reason", "ip", "detail", "token_owner"})
	for _, e := range entries {
		_ = cw.Write(csvSafe([]string{
			e.Time.UTC().Format(time.RFC3339), e.Actor, e.ActorRole, e.TokenID, e.Action,
			e.Target, e.TargetID, e.Reason, e.IP, e.Detail, e.TokenOwner,
		}))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		h.Log.Warn("write audit csv", "err", err.Error())
	}
}

// csvSafe defuses spreadsheet formulas: a cell that starts with = + - @
// (or a tab or carriage return, which some programs skip before looking)
// gets a leading apostrophe, so it is shown as text, never evaluated.
func csvSafe(cells []string) []string {
	for i, c := range cells {
		if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
			cells[i] = "'" + c
		}
	}
	return cells
}
