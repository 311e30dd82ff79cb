// Package metricname builds the names of labelled series for
// github.com/VictoriaMetrics/metrics, which takes a series as one string:
// family{label="value"}, and writes families read at scrape time.
package metricname

import (
	"io"
	"strconv"
	"strings"

	"github.com/VictoriaMetrics/metrics"
)

// valueEscaper escapes a label value as the Prometheus text format reads it.
var valueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// With returns family{label="value"}, with value escaped, so a value read
// from Redis or a config file cannot break the exposition.
func With(family, label, value string) string {
	return family + "{" + label + `="` + valueEscaper.Replace(value) + `"}`
}

// LabelValue is one series of a gauge family whose series differ by one
// label: the label's value and the series' value.
type LabelValue struct {
	Value string
	N     uint64
}

// WriteGauges writes a gauge family read at scrape time, one series per
// value of label, under a single TYPE line (when the library writes
// metadata). metrics.WriteGaugeUint64 writes one per series, and
// Prometheus refuses a second TYPE line for a family.
func WriteGauges(w io.Writer, family, label string, series []LabelValue) {
	metrics.WriteMetadataIfNeeded(w, family, "gauge")
	var b []byte
	for _, s := range series {
		b = append(b[:0], With(family, label, s.Value)...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, s.N, 10)
		b = append(b, '\n')
		_, _ = w.Write(b)
	}
}
