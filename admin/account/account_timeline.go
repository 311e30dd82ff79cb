package account

import (
	"context"
	"net/http"
	"time"

	"github.com/authgate/gateway/store"
	"github.com/authgate/gateway/templates"
)

// timelinePage is how many rows one page of the activity timeline shows.
const timelinePage = 25

// timelineBatch is how many events one read of the stream takes while a
// filtered page fills up.
const timelineBatch = 100

// timelineFilters are the kinds of activity the timeline can be narrowed
// to; anything else in ?show= shows everything.
var timelineFilters = map[string]func(store.Event) bool{
	"signins": func(e store.Event) bool {
		return e.Type == store.EventSignIn || e.Type == store.EventNewDevice || e.Type == store.EventIdentityConfirmed
	},
	"failures": func(e store.Event) bool {
		switch e.Type {
		case store.EventSignInFailed, store.EventMFAFailed, store.EventThrottled, store.EventPasskeyWarning:
			return true
		}
		return false
	},
	"changes": func(e store.Event) bool {
		switch e.Type {
		case store.EventPasswordChanged, store.EventMFAEnabled, store.EventMFADisabled, store.EventRecoveryRenewed,
			store.EventEmailChanged, store.EventAlertsChanged, store.EventPasskeyAdded, store.EventPasskeyRemoved,
			store.EventSignOutAll, store.EventSessionRevoked, store.EventAccountSecured:
			return e.Actor == ""
		}
		return false
	},
	"staff": func(e store.Event) bool { return e.Actor != "" || e.Type == store.EventStaffAction },
}

func (h *Handler) showTimeline(w http.ResponseWriter, r *http.Request, p *store.Principal) {
	q := r.URL.Query()
	show := q.Get("show")
	if timelineFilters[show] == nil {
		show = ""
	}
	before, after := q.Get("before"), q.Get("after")
	if (before != "" && !store.ValidEventID(before)) || (after != "" && !store.ValidEventID(after)) {
		h.ErrorPage(w, r, http.StatusBadRequest, "bad_page", "No such page", "That page of your activity does not exist; start again from the newest.")
		return
	}
	page, err := h.timeline(r.Context(), p, show, before, after)
	if err != nil {
		h.Log.Error("activity page: load", "err", err.Error(), "user_id", p.Claims.UserID)
		h.Unavailable(w, r)
		return
	}
	allowOwnScripts(w)
	h.Render(w, r, http.StatusOK, templates.Timeline(page))
}

// timeline reads one page of rows: the page after the cursor in the
// direction asked, newest first, one row per sign-in.
func (h *Handler) timeline(ctx context.Context, p *store.Principal, show, before, after string) (templates.TimelinePage, error) {
	uid := p.Claims.UserID
	page := templates.TimelinePage{Chrome: h.Chrome(p, "Your activity"), Show: show, ShowPlace: h.Places != nil}
	keep := timelineFilters[show]
	var events []store.Event
	var rows []templates.TimelineRow
	newer := after != ""
	cursor := before
	if newer {
		cursor = after
	}
	// Read until one row more than a page is known (so the last shown row is
	// whole and there is an older or newer page) or the stream ends; the
	// retained stream bounds the loop.
	for range h.Store.ActivityLimit/timelineBatch + 2 {
		var batch []store.Event
		var err error
		if newer {
			batch, err = h.Store.FindEventsAfter(ctx, uid, cursor, timelineBatch)
		} else {
			batch, err = h.Store.FindEventsBefore(ctx, uid, cursor, timelineBatch)
		}
		if err != nil {
			return page, err
		}
		if len(batch) == 0 {
			break
		}
		if newer {
			cursor = batch[0].ID
			events = append(batch, events...)
		} else {
			cursor = batch[len(batch)-1].ID
			events = append(events, batch...)
		}
		rows = h.timelineRows(events, keep)
		if len(rows) > timelinePage || len(batch) < timelineBatch {
			break
		}
	}
	more := len(rows) > timelinePage
	if newer {
		if more {
			rows = rows[len(rows)-timelinePage:]
		}
		page.HasNewer, page.HasOlder = more, true
	} else {
		if more {
			rows = rows[:timelinePage]
		}
		page.HasNewer, page.HasOlder = before != "", more
	}
	page.Rows = rows
	if len(rows) > 0 {
		page.NewestID, page.OldestID = rows[0].FirstID, rows[len(rows)-1].LastID
	}
	since := h.Now().UTC().Truncate(24*time.Hour).AddDate(0, 0, -(templates.ChartDays - 1))
	recent, err := h.Store.FindEventsSince(ctx, uid, since)
	if err != nil {
		return page, err
	}
	page.Chart = activityChart(since, recent)
	return page, nil
}

// timelineRows turns events (newest first) into rows, keeping those keep
// accepts (nil keeps all). A sign-in from a new device is written as two
// events, "new device" then "signed in", one after the other: they become
// one row.
func (h *Handler) timelineRows(events []store.Event, keep func(store.Event) bool) []templates.TimelineRow {
	var rows []templates.TimelineRow
	for i := 0; i < len(events); i++ {
		e := events[i]
		row := templates.TimelineRow{
			FirstID: e.ID, LastID: e.ID, Time: e.Time, What: eventWords(e.Type), Device: eventDevice(e),
			IP: e.IP, Place: h.Places.Lookup(e.IP), Detail: e.Detail, Actor: e.Actor, Alert: eventAlert(e),
		}
		if i+1 < len(events) && signInPair(e, events[i+1]) {
			o := events[i+1]
			row.LastID = o.ID
			row.What, row.Alert, row.NewDevice = "Signed in from a new device", true, true
			if e.Type == store.EventNewDevice {
				row.Detail = e.Detail
			} else {
				row.Detail = o.Detail
			}
			i++
		}
		if keep == nil || keep(e) || (row.NewDevice && keep(events[i])) {
			rows = append(rows, row)
		}
	}
	return rows
}

// signInPair reports whether a and b (neighbours in the stream) are the
// "signed in" and "new device" events of one sign-in: same browser and
// address, within a few seconds.
func signInPair(a, b store.Event) bool {
	types := (a.Type == store.EventSignIn && b.Type == store.EventNewDevice) ||
		(a.Type == store.EventNewDevice && b.Type == store.EventSignIn)
	d := a.Time.Sub(b.Time)
	return types && a.IP == b.IP && a.Device == b.Device && a.Actor == "" && b.Actor == "" && d < 10*time.Second && d > -10*time.Second
}

// activityChart counts sign-ins and failed sign-in attempts per UTC day
// from since (a UTC midnight) for templates.ChartDays days. Every way of
// signing in (password, with a code, a recovery code or a passkey, or a
// passkey alone) writes one EventSignIn; a wrong password and a wrong code
// are both failed attempts, as the console's hourly chart counts them
// (store/dashboard.go).
func activityChart(since time.Time, events []store.Event) []templates.HourBar {
	bars := make([]templates.HourBar, templates.ChartDays)
	for i := range bars {
		bars[i].Label = since.AddDate(0, 0, i).Format("2 Jan")
	}
	for _, e := range events {
		i := int(e.Time.Sub(since) / (24 * time.Hour))
		if e.Time.Before(since) || i >= templates.ChartDays {
			continue
		}
		switch e.Type {
		case store.EventSignIn:
			bars[i].SignIns++
		case store.EventSignInFailed, store.EventMFAFailed:
			bars[i].Failed++
		}
	}
	return bars
}
