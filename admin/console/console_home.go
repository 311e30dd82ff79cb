package console

import (
	"context"
	"net/http"
	"net/netip"
	"strings"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// Limits of the console's home page.
const (
	consoleSearchLimit    = 50 // users a search shows
	dashboardHours        = 24 // hours in the chart
	dashboardListLimit    = 20 // throttled counters, locked accounts
	dashboardStaffActions = 10 // newest audit entries (admins)
)

// showConsole is the console's home page: a search by user name, e-mail
// (the start of either) or IP address, and the dashboard. Every figure is
// read from a small index the store keeps as things happen (store's
// dashboard.go), never by scanning users or sessions: about five round
// trips to Redis plus one small read per listed entry.
func (h *Handler) showConsole(w http.ResponseWriter, r *http.Request, a *staffActor) {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	page := templates.ConsoleHomePage{Chrome: h.consoleChrome(a, "Support console"), Nav: h.consoleNav(a, "find"), Query: q}
	if len(q) > 254 {
		q = q[:254]
	}
	ctx := r.Context()
	var err error
	if q != "" {
		page.Searched = true
		if ip, perr := netip.ParseAddr(q); perr == nil {
			err = h.searchAddress(ctx, &page, ip)
		} else {
			err = h.searchName(ctx, &page, q)
		}
	}
	if err == nil {
		page.Dash, err = h.dashboard(ctx, a)
	}
	if err != nil {
		h.Log.Error("console home", "err", err.Error())
		h.Unavailable(w, r)
		return
	}
	h.Render(w, r, http.StatusOK, templates.ConsoleHome(page))
}

func (h *Handler) searchName(ctx context.Context, page *templates.ConsoleHomePage, q string) error {
	users, err := h.Store.FindUsers(ctx, q, consoleSearchLimit+1)
	if err != nil {
		return err
	}
	if len(users) > consoleSearchLimit {
		users, page.More = users[:consoleSearchLimit], true
	}
	for _, u := range users {
		page.Users = append(page.Users, h.userRow(u))
	}
	return nil
}

// searchAddress lists the accounts that signed in from ip, written as the
// gateway writes client addresses (an IPv4-mapped IPv6 address as IPv4).
func (h *Handler) searchAddress(ctx context.Context, page *templates.ConsoleHomePage, ip netip.Addr) error {
	page.IP = ip.Unmap().WithZone("").String()
	seen, err := h.Store.FindSignInsFromIP(ctx, page.IP, consoleSearchLimit)
	if err != nil {
		return err
	}
	for _, s := range seen {
		row := h.userRow(s.User)
		row.LastFromIP = consoleTime(s.Last)
		page.Users = append(page.Users, row)
	}
	return nil
}

func (h *Handler) userRow(u *store.User) templates.ConsoleUserRow {
	return templates.ConsoleUserRow{
		Username: u.Username, Email: u.Email, Roles: strings.Join(u.Roles, ", "),
		Status: staffUserStatus(u), MFA: u.MFAEnabled, Path: h.consoleUserPath(u.Username),
	}
}

// dashboard gathers what is going on now.
func (h *Handler) dashboard(ctx context.Context, a *staffActor) (templates.ConsoleDashboard, error) {
	d := templates.ConsoleDashboard{ActiveWindow: "15 minutes", ShowStaff: a.isAdmin()}
	var err error
	if d.ActiveNow, err = h.Store.CountActiveSessions(ctx); err != nil {
		return d, err
	}
	hours, err := h.Store.FindHourStats(ctx, dashboardHours)
	if err != nil {
		return d, err
	}
	for _, hs := range hours {
		d.SignIns += hs.SignIns
		d.Failed += hs.Failed
		d.Hours = append(d.Hours, templates.HourBar{Label: hs.Hour.Format("15:04"), SignIns: hs.SignIns, Failed: hs.Failed})
	}
	throttled, err := h.Store.FindThrottled(ctx, dashboardListLimit)
	if err != nil {
		return d, err
	}
	for _, t := range throttled {
		row := templates.ConsoleThrottledRow{What: throttledLabel(t.Kind), Who: t.Subject, Fails: t.Fails, Until: consoleTime(t.Until)}
		if t.User != nil {
			row.Path = h.consoleUserPath(t.User.Username)
		}
		if t.Kind == store.ThrottledBrowser {
			row.Who = "a browser that signed in to an account before"
		}
		d.Throttled = append(d.Throttled, row)
	}
	locked, total, err := h.Store.FindLockedUsers(ctx, dashboardListLimit)
	if err != nil {
		return d, err
	}
	d.LockedTotal = total
	for _, u := range locked {
		d.Locked = append(d.Locked, templates.ConsoleLockedRow{
			Username: u.Username, Email: u.Email, State: staffUserStatusText(u), Path: h.consoleUserPath(u.Username),
		})
	}
	if d.ShowStaff {
		entries, err := h.Store.FindAudit(ctx, store.AuditFilter{Limit: dashboardStaffActions})
		if err != nil {
			return d, err
		}
		d.Staff = auditRows(entries)
	}
	return d, nil
}

// throttledLabel says what a throttled counter counts.
func throttledLabel(kind string) string {
	switch kind {
	case store.ThrottledAccount:
		return "Password attempts on an account"
	case store.ThrottledAccountCode:
		return "Verification code attempts on an account"
	case store.ThrottledUnknownName:
		return "Password attempts on a username that does not exist"
	case store.ThrottledAddress:
		return "Password attempts from an address"
	}
	return "Password attempts from one browser"
}
