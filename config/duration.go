package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// ParseDuration parses s with time.ParseDuration ("90s", "15m", "12h",
// "1h30m"). Units are required except for "0"; days are not supported.
func ParseDuration(s string) (Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil {
		return Duration{}, fmt.Errorf("%q is not a duration; write it like \"90s\", \"15m\" or \"12h\" (no days: 7 days is \"168h\")", s)
	}
	return Duration{d}, nil
}

// String formats d without trailing zero units: "168h", "10m", "1h30m",
// "90s" prints as "1m30s".
func (d Duration) String() string {
	s := d.Duration.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// UnmarshalYAML implements yaml.Unmarshaler; the node must be a scalar
// accepted by ParseDuration.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a duration such as \"12h\", not a list or map", n.Line)
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalYAML implements yaml.Marshaler, writing the String form.
func (d Duration) MarshalYAML() (any, error) {
	return d.String(), nil
}

// UnmarshalText implements encoding.TextUnmarshaler (used for environment
// variables and flags).
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText implements encoding.TextMarshaler, writing the String form.
func (d Duration) MarshalText() ([]byte, error) {
	return []byte(d.String()), nil
}
