package metricname

import "testing"

func TestWithEscapesTheValue(t *testing.T) {
	for value, want := range map[string]string{
		"mail":       `gateway_x_total{kind="mail"}`,
		`a"b`:        `gateway_x_total{kind="a\"b"}`,
		`a\b`:        `gateway_x_total{kind="a\\b"}`,
		"a\nb":       `gateway_x_total{kind="a\nb"}`,
		`"}` + "\nx": `gateway_x_total{kind="\"}\nx"}`,
	} {
		if got := With("gateway_x_total", "kind", value); got != want {
			t.Errorf("With(%q) = %s, want %s", value, got, want)
		}
	}
}
