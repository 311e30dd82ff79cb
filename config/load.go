package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Load builds the configuration: Defaults, then the YAML file at path (if
// path is not empty), then overrides from environ (os.Environ format), and
// finally Validate. Unknown YAML keys and unknown GATEWAY_ variables are
// errors, as are values of the wrong type; every error is one line naming
// the key and its variable (see Error). Load does not look at
// GATEWAY_CONFIG itself; the caller resolves the path.
func Load(path string, environ []string) (*Config, error) {
	return load(path, environ, (*Config).Validate)
}

// load is Defaults, the YAML file at path (if any) and environ's overrides,
// then the check validate.
func load(path string, environ []string, validate func(*Config) error) (*Config, error) {
	cfg := Defaults()
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("read configuration: %w", err)
		}
		if err := decodeYAML(&cfg, data, path); err != nil {
			return nil, err
		}
	}
	if err := applyEnv(&cfg, environ); err != nil {
		return nil, err
	}
	if err := validate(&cfg); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// decodeYAML applies the YAML document in data on top of cfg. Keys missing
// from the document keep their value in cfg. name is used in messages.
func decodeYAML(cfg *Config, data []byte, name string) error {
	// First pass: a node tree, checked key by key so that errors can name
	// the full key path, its variable and the line.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil // empty file: nothing to apply
		}
		return &Error{Problem: fmt.Sprintf("%s: %v", name, err)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return &Error{Problem: fmt.Sprintf("%s: holds more than one YAML document (remove the extra \"---\")", name)}
	}
	root := deref(&doc)
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = deref(root.Content[0])
	}
	if isNull(root) {
		return nil
	}
	if root.Kind != yaml.MappingNode {
		return &Error{Problem: fmt.Sprintf("%s line %d: the file must be a map of settings (key: value)", name, root.Line)}
	}
	c := yamlChecker{file: name}
	if err := c.mapping(root, reflect.TypeFor[Config](), ""); err != nil {
		return err
	}

	// Second pass: the real decode, strict about unknown keys as a backstop.
	dec = yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return &Error{Problem: fmt.Sprintf("%s: %s", name, strings.Join(te.Errors, "; "))}
		}
		return &Error{Problem: fmt.Sprintf("%s: %v", name, err)}
	}
	return nil
}

// yamlChecker walks a YAML node tree alongside the Config type.
type yamlChecker struct {
	file string
}

func (c yamlChecker) at(n *yaml.Node) string {
	return fmt.Sprintf("%s line %d", c.file, n.Line)
}

// mapping checks a mapping node against struct type t; prefix is the key
// path of the mapping ("" at the top).
func (c yamlChecker) mapping(n *yaml.Node, t reflect.Type, prefix string) error {
	fields := flatFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && (k.Tag == "" || k.Tag == "!!merge") {
			if err := c.merge(v, t, prefix); err != nil {
				return err
			}
			continue
		}
		key := join(prefix, k.Value)
		ft, ok := fields[k.Value]
		if !ok || k.Kind != yaml.ScalarNode {
			return c.unknownKey(k, key, prefix, fields)
		}
		if err := c.value(v, ft, key); err != nil {
			return err
		}
	}
	return nil
}

func (c yamlChecker) merge(v *yaml.Node, t reflect.Type, prefix string) error {
	switch v.Kind {
	case yaml.MappingNode:
		return c.mapping(v, t, prefix)
	case yaml.SequenceNode:
		for _, m := range v.Content {
			if err := c.merge(deref(m), t, prefix); err != nil {
				return err
			}
		}
		return nil
	}
	return &Error{Key: prefix, Problem: fmt.Sprintf("a \"<<\" merge needs a map (%s)", c.at(v))}
}

func (c yamlChecker) unknownKey(k *yaml.Node, key, prefix string, fields map[string]reflect.Type) error {
	names := make([]string, 0, len(fields))
	for name := range fields {
		names = append(names, name)
	}
	hint := "; remove it or check the spelling"
	if s := suggest(k.Value, names); s != "" {
		hint = fmt.Sprintf("; did you mean %q?", join(prefix, s))
	}
	if k.Kind != yaml.ScalarNode {
		key = join(prefix, "?")
	}
	return &Error{Key: key, Problem: fmt.Sprintf("unknown key (%s)%s", c.at(k), hint)}
}

// value checks node v for a field of type t at key path key.
func (c yamlChecker) value(v *yaml.Node, t reflect.Type, key string) error {
	if isNull(v) {
		return nil // yaml keeps the current value (lists become empty)
	}
	switch {
	case t == principalsType && v.Kind == yaml.SequenceNode:
		// The short form of allow/deny: a plain list of roles.
		for i, item := range v.Content {
			if item = deref(item); item.Kind != yaml.ScalarNode {
				return keyErr(fmt.Sprintf("%s[%d]", key, i), "want a role name; a plain list names roles, or write {roles: [...], groups: [...], users: [...]} (%s)", c.at(item))
			}
		}
	case t == principalsType && v.Kind != yaml.MappingNode:
		return keyErr(key, "want a list of roles such as [admin], or a map {roles: [...], groups: [...], users: [...]} (%s)", c.at(v))
	case t.Kind() == reflect.Slice && !isLeaf(t.Elem()):
		if v.Kind != yaml.SequenceNode {
			return keyErr(key, "want a list of maps (%s)", c.at(v))
		}
		for i, item := range v.Content {
			item = deref(item)
			ik := fmt.Sprintf("%s[%d]", key, i)
			if item.Kind != yaml.MappingNode {
				return keyErr(ik, "want a map such as {path_prefix: /, upstream: \"http://...\"} (%s)", c.at(item))
			}
			if err := c.mapping(item, t.Elem(), ik); err != nil {
				return err
			}
		}
		return nil
	case !isLeaf(t):
		if v.Kind != yaml.MappingNode {
			// A section has no variable of its own; only its leaves do.
			return &Error{Key: key, Problem: fmt.Sprintf("want a map of keys under %q, not a single value or list (%s)", key, c.at(v))}
		}
		return c.mapping(v, t, key)
	case t.Kind() == reflect.Slice:
		if v.Kind != yaml.SequenceNode {
			return keyErr(key, "want a list, e.g. [\"a\", \"b\"], not a single value or map (%s)", c.at(v))
		}
		for i, item := range v.Content {
			if item = deref(item); item.Kind != yaml.ScalarNode {
				return keyErr(fmt.Sprintf("%s[%d]", key, i), "want a single value, not a list or map (%s)", c.at(item))
			}
		}
	default:
		if v.Kind != yaml.ScalarNode {
			return keyErr(key, "want a single value, not a list or map (%s)", c.at(v))
		}
	}
	// Trial decode with yaml's own rules, to report bad values by key.
	if err := v.Decode(reflect.New(t).Interface()); err != nil {
		var problem string
		switch {
		case t == durationType:
			problem = err.Error()
		case t.Kind() == reflect.Bool:
			problem = fmt.Sprintf("%q is not a boolean; use true or false%s", v.Value, quoteHint(v))
		case t.Kind() >= reflect.Int && t.Kind() <= reflect.Uint64:
			problem = fmt.Sprintf("%q is not a whole number%s", v.Value, quoteHint(v))
		default:
			var te *yaml.TypeError
			if errors.As(err, &te) {
				problem = strings.Join(te.Errors, "; ")
			} else {
				problem = err.Error()
			}
		}
		return keyErr(key, "%s (%s)", problem, c.at(v))
	}
	return nil
}

// flatFields maps YAML names to field types for struct type t, descending
// into inline fields.
func flatFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for _, f := range yamlFields(t) {
		ft := t.Field(f.index).Type
		if f.inline {
			for name, it := range flatFields(ft) {
				out[name] = it
			}
			continue
		}
		out[f.name] = ft
	}
	return out
}

func join(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// deref follows aliases.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n.Kind == yaml.AliasNode && n.Alias != nil && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// quoteHint explains that a quoted scalar is a string in YAML.
func quoteHint(n *yaml.Node) string {
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
		return " (write it without quotes)"
	}
	return ""
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}
