package templates

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/a-h/templ"
)

// ChartDays is how many days the activity page's chart covers.
const ChartDays = 30

// TimelinePage is the view model of the person's activity timeline.
type TimelinePage struct {
	Chrome
	// Show is the filter in use ("" for everything).
	Show      string
	ShowPlace bool
	Rows      []TimelineRow
	// NewestID and OldestID are the stream ids at the ends of the page,
	// the cursors of the "Newer" and "Older" links.
	NewestID, OldestID string
	HasNewer, HasOlder bool
	// Chart is sign-ins and failed attempts per day, oldest first.
	Chart []HourBar
}

// TimelineRow is one row of the timeline: one event, or the events of one
// sign-in grouped together.
type TimelineRow struct {
	// FirstID and LastID are the newest and oldest stream ids in the row.
	FirstID, LastID string
	Time            time.Time
	What            string
	Device          string
	IP              string
	Place           string
	Detail          string
	Actor           string
	Alert           bool
	// NewDevice marks a sign-in from a browser new to the account.
	NewDevice bool
}

// daySummary is the day chart in words, for screen readers.
func daySummary(bars []HourBar) string {
	in, failed, busiest := barTotals(bars)
	var s strings.Builder
	s.WriteString("Over the last " + strconv.Itoa(len(bars)) + " days (UTC): ")
	s.WriteString(plural(in, "sign-in", "sign-ins") + " and " + plural(failed, "failed attempt", "failed attempts") + ".")
	if busiest >= 0 {
		s.WriteString(" Most failed attempts on " + bars[busiest].Label + " (" + strconv.FormatInt(bars[busiest].Failed, 10) + ").")
	}
	return s.String()
}

// timelineURL links to a page of the timeline with a filter and a cursor.
func timelineURL(prefix, show, key, id string) templ.SafeURL {
	q := url.Values{}
	if show != "" {
		q.Set("show", show)
	}
	if key != "" {
		q.Set(key, id)
	}
	s := prefix + "/account/activity"
	if len(q) > 0 {
		s += "?" + q.Encode()
	}
	return templ.SafeURL(s)
}

// timelineFilterNames are the filter links, in order.
var timelineFilterNames = []struct{ Key, Label string }{
	{"", "Everything"}, {"signins", "Sign-ins"}, {"failures", "Failures"},
	{"changes", "Changes"}, {"staff", "Staff actions"},
}
