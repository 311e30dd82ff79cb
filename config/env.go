package config

import (
	"encoding"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// applyEnv overrides cfg from environ (os.Environ format). Variables outside
// the GATEWAY_ namespace are ignored, as are GATEWAY_CONFIG and GATEWAY_TEST_*;
// any other GATEWAY_ variable must name a setting. When a variable appears
// twice the later one wins.
func applyEnv(cfg *Config, environ []string) error {
	tab := settings()
	for _, kv := range environ {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || !strings.HasPrefix(name, EnvPrefix) {
			continue
		}
		if name == EnvConfigPath || strings.HasPrefix(name, envTestPrefix) {
			continue
		}
		s := tab.byEnv[name]
		if s == nil {
			return unknownEnv(name, tab)
		}
		field := reflect.ValueOf(cfg).Elem().FieldByIndex(s.index)
		if err := setFromEnv(field, value); err != nil {
			return &Error{Key: s.Key, Env: s.Env, Problem: err.Error()}
		}
	}
	return nil
}

func unknownEnv(name string, tab *settingTable) error {
	names := make([]string, 0, len(tab.list))
	for _, s := range tab.list {
		names = append(names, s.Env)
	}
	problem := "unknown setting"
	if s := suggest(name, names); s != "" {
		problem += fmt.Sprintf(" (did you mean %s?)", s)
	} else {
		problem += fmt.Sprintf(" (names are %s plus the YAML key in upper case, e.g. GATEWAY_REDIS_URL; unset it or rename it)", EnvPrefix)
	}
	return &Error{Env: name, Problem: problem}
}

// envSupported reports whether setFromEnv can parse a value of type t.
func envSupported(t reflect.Type) bool {
	switch {
	case t == routesType, t == stringsType, t == durationType:
		return true
	case reflect.PointerTo(t).Implements(textUnmarshalerType):
		return true
	}
	switch t.Kind() {
	case reflect.String, reflect.Bool,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

// setFromEnv parses value into field according to the field's type. The
// returned error is the problem text; the caller adds key and variable.
func setFromEnv(field reflect.Value, value string) error {
	t := field.Type()
	trimmed := strings.TrimSpace(value)
	switch t {
	case routesType:
		routes, err := ParseRoutes(value)
		if err != nil {
			return err
		}
		field.Set(reflect.ValueOf(routes))
		return nil
	case stringsType:
		field.Set(reflect.ValueOf(splitList(value)))
		return nil
	case durationType:
		var d Duration
		if err := d.UnmarshalText([]byte(trimmed)); err != nil {
			return err
		}
		field.Set(reflect.ValueOf(d))
		return nil
	}
	if u, ok := field.Addr().Interface().(encoding.TextUnmarshaler); ok {
		return u.UnmarshalText([]byte(trimmed))
	}
	switch t.Kind() {
	case reflect.String:
		field.SetString(value)
	case reflect.Bool:
		b, err := parseBool(trimmed)
		if err != nil {
			return err
		}
		field.SetBool(b)
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(trimmed, 10, t.Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number", trimmed)
		}
		field.SetInt(n)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		n, err := strconv.ParseUint(trimmed, 10, t.Bits())
		if err != nil {
			return fmt.Errorf("%q is not a whole number of zero or more", trimmed)
		}
		field.SetUint(n)
	default:
		return fmt.Errorf("cannot be set from the environment (type %s)", t)
	}
	return nil
}

// parseBool accepts true/false, 1/0 and yes/no in any case.
func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes":
		return true, nil
	case "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean; use true or false (1/0 and yes/no also work)", s)
}

// splitList splits a comma-separated list, trimming spaces and dropping
// empty entries. An empty or blank string gives an empty, non-nil list, so
// a set-but-empty variable clears a list from the file.
func splitList(s string) []string {
	out := []string{}
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// ParseRoutes parses the GATEWAY_ROUTES form: comma-separated entries of
// "[host]/path/prefix=upstream-url", e.g.
//
//	app.example.com/=http://127.0.0.1:3000,/api/=http://127.0.0.1:4000
//
// The host is optional (empty matches any host) and ends where the path
// prefix begins at the first "/". Only the shape is checked here; Validate
// checks the values.
func ParseRoutes(s string) ([]Route, error) {
	routes := []Route{}
	for _, entry := range splitList(s) {
		left, upstream, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fmt.Errorf("entry %q has no \"=\"; write [host]/path/=http://upstream:port", entry)
		}
		left, upstream = strings.TrimSpace(left), strings.TrimSpace(upstream)
		slash := strings.IndexByte(left, '/')
		if slash < 0 {
			return nil, fmt.Errorf("entry %q has no path prefix before \"=\"; write [host]/path/=http://upstream:port (use \"/\" for everything)", entry)
		}
		if upstream == "" {
			return nil, fmt.Errorf("entry %q has no upstream after \"=\"; write [host]/path/=http://upstream:port", entry)
		}
		routes = append(routes, Route{Host: left[:slash], PathPrefix: left[slash:], Upstream: upstream})
	}
	return routes, nil
}
