package config

import (
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestDurationString(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{168 * time.Hour, "168h"},
		{10 * time.Minute, "10m"},
		{90 * time.Second, "1m30s"},
		{90 * time.Minute, "1h30m"},
		{1500 * time.Millisecond, "1.5s"},
		{time.Hour + time.Second, "1h0m1s"},
		{100 * time.Millisecond, "100ms"},
	}
	for _, tt := range tests {
		if got := (Duration{tt.d}).String(); got != tt.want {
			t.Errorf("Duration(%v).String() = %q, want %q", tt.d, got, tt.want)
		}
		back, err := ParseDuration(tt.want)
		if err != nil || back.Duration != tt.d {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.want, back, err, tt.d)
		}
	}
}

func TestDurationYAML(t *testing.T) {
	var v struct {
		D Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 90s\n"), &v); err != nil {
		t.Fatal(err)
	}
	if v.D.Duration != 90*time.Second {
		t.Errorf("got %v", v.D)
	}
	out, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != "d: 1m30s\n" {
		t.Errorf("Marshal = %q", out)
	}
	for _, bad := range []string{"d: 7d\n", "d: 12\n", "d: soon\n", "d: [1h]\n"} {
		if err := yaml.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("Unmarshal(%q) succeeded", bad)
		}
	}
}

func TestDurationText(t *testing.T) {
	var d Duration
	if err := d.UnmarshalText([]byte(" 12h ")); err != nil || d.Duration != 12*time.Hour {
		t.Errorf("UnmarshalText = %v, %v", d, err)
	}
	if b, _ := d.MarshalText(); string(b) != "12h" {
		t.Errorf("MarshalText = %q", b)
	}
	err := d.UnmarshalText([]byte("12 hours"))
	if err == nil || !strings.Contains(err.Error(), "12 hours") {
		t.Errorf("UnmarshalText(bad) error = %v", err)
	}
}
