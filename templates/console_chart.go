package templates

import (
	"strconv"
	"strings"
)

// HourBar is one hour of the console's sign-in chart.
type HourBar struct {
	// Label is the hour as staff read it, e.g. "14:00".
	Label   string
	SignIns int64
	Failed  int64
}

// chartBox is the drawing's coordinate system; the SVG scales to the width
// of its card.
const (
	chartW, chartH   = 720, 200
	chartTop, chartB = 10, 170 // plot area, top and bottom (labels below)
	chartLeft        = 34      // room for the y-axis labels
)

// chartRect is one bar, in the drawing's coordinates.
type chartRect struct {
	X, Y, W, H int
	Class      string
	Title      string
}

// chartLabel is a text at a point.
type chartLabel struct {
	X, Y   int
	Text   string
	Anchor string
}

// chartLayout lays bars out: two bars per hour side by side (sign-ins,
// failures), scaled to the largest count, with a label every few hours and
// the top and bottom of the scale on the left.
func chartLayout(bars []HourBar) (rects []chartRect, xLabels, yLabels []chartLabel) {
	if len(bars) == 0 {
		return nil, nil, nil
	}
	top := int64(1)
	for _, b := range bars {
		top = max(top, b.SignIns, b.Failed)
	}
	slot := (chartW - chartLeft) / len(bars)
	barW := max(slot*2/5, 2)
	height := func(n int64) int { return int(n * int64(chartB-chartTop) / top) }
	every := max(len(bars)/8, 1)
	for i, b := range bars {
		x := chartLeft + i*slot + (slot-2*barW)/2
		if h := height(b.SignIns); h > 0 {
			rects = append(rects, chartRect{X: x, Y: chartB - h, W: barW, H: h, Class: "bar-ok",
				Title: b.Label + ": " + plural(b.SignIns, "sign-in", "sign-ins")})
		}
		if h := height(b.Failed); h > 0 {
			rects = append(rects, chartRect{X: x + barW, Y: chartB - h, W: barW, H: h, Class: "bar-fail",
				Title: b.Label + ": " + plural(b.Failed, "failed attempt", "failed attempts")})
		}
		if i%every == 0 {
			xLabels = append(xLabels, chartLabel{X: chartLeft + i*slot + slot/2, Y: chartH - 12, Text: b.Label, Anchor: "middle"})
		}
	}
	yLabels = []chartLabel{
		{X: chartLeft - 6, Y: chartTop + 8, Text: strconv.FormatInt(top, 10), Anchor: "end"},
		{X: chartLeft - 6, Y: chartB, Text: "0", Anchor: "end"},
	}
	return rects, xLabels, yLabels
}

// barTotals adds up the bars of a chart and finds the one with the most
// failed attempts (-1 when none failed), for its summary in words.
func barTotals(bars []HourBar) (in, failed int64, busiest int) {
	busiest = -1
	for i, b := range bars {
		in += b.SignIns
		failed += b.Failed
		if b.Failed > 0 && (busiest < 0 || b.Failed > bars[busiest].Failed) {
			busiest = i
		}
	}
	return in, failed, busiest
}

// chartSummary is the chart in one sentence, for screen readers.
func chartSummary(bars []HourBar) string {
	in, failed, busiest := barTotals(bars)
	var s strings.Builder
	s.WriteString("Sign-ins and failed attempts per hour over the last " + strconv.Itoa(len(bars)) + " hours (UTC): ")
	s.WriteString(plural(in, "sign-in", "sign-ins") + " and " + plural(failed, "failed attempt", "failed attempts") + ".")
	if busiest >= 0 {
		s.WriteString(" Most failures at " + bars[busiest].Label + " (" + strconv.FormatInt(bars[busiest].Failed, 10) + ").")
	}
	return s.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

func itoa(n int) string { return strconv.Itoa(n) }
