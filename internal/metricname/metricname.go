// Package metricname builds the names of labelled series for
// github.com/VictoriaMetrics/metrics, which takes a series as one string:
// family{label="value"}.
package metricname

import "strings"

// valueEscaper escapes a label value as the Prometheus text format reads it.
var valueEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

// With returns family{label="value"}, with value escaped, so a value read
// from Redis or a config file cannot break the exposition.
func With(family, label, value string) string {
	return family + "{" + label + `="` + valueEscaper.Replace(value) + `"}`
}
