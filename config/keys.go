package config

import (
	"encoding"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
)

// EnvPrefix starts every environment variable the gateway reads.
const EnvPrefix = "GATEWAY_"

// EnvConfigPath is the environment variable conventionally holding the path
// of the YAML file. Load ignores it in environ; the caller resolves it and
// passes the path.
const EnvConfigPath = EnvPrefix + "CONFIG"

// envTestPrefix marks variables reserved for tests; Load ignores them.
const envTestPrefix = EnvPrefix + "TEST_"

// EnvName returns the environment variable for a YAML key path:
// "session.idle_timeout" → "GATEWAY_SESSION_IDLE_TIMEOUT". List indexes are
// dropped, since a list is set as a whole: "routes[1].upstream" →
// "GATEWAY_ROUTES".
func EnvName(key string) string {
	if i := strings.IndexByte(key, '['); i >= 0 {
		key = key[:i]
	}
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
}

// Setting describes one leaf of the configuration that can be set from the
// environment.
type Setting struct {
	// Key is the YAML key path, e.g. "redis.url".
	Key string
	// Env is the environment variable, e.g. "GATEWAY_REDIS_URL".
	Env string

	index []int
	typ   reflect.Type
}

// Settings lists every setting in struct order. It is derived by reflection
// from the yaml tags of Config, so a new field gets its variable without
// further work.
func Settings() []Setting {
	s := settings()
	return append([]Setting(nil), s.list...)
}

type settingTable struct {
	list  []Setting
	byEnv map[string]*Setting
}

var settings = sync.OnceValue(func() *settingTable {
	t := &settingTable{byEnv: map[string]*Setting{}}
	collectSettings(reflect.TypeFor[Config](), "", nil, t)
	for i := range t.list {
		s := &t.list[i]
		if prev, dup := t.byEnv[s.Env]; dup {
			panic(fmt.Sprintf("config: %s and %s both map to %s", prev.Key, s.Key, s.Env))
		}
		t.byEnv[s.Env] = s
	}
	return t
})

var (
	durationType        = reflect.TypeFor[Duration]()
	routesType          = reflect.TypeFor[[]Route]()
	principalsType      = reflect.TypeFor[Principals]()
	stringsType         = reflect.TypeFor[[]string]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
)

// yamlField is one field of a struct as YAML sees it.
type yamlField struct {
	name   string
	index  int
	inline bool
}

// yamlFields lists the fields of struct type t that YAML decodes.
func yamlFields(t reflect.Type) []yamlField {
	var out []yamlField
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		inline := false
		for o := range strings.SplitSeq(opts, ",") {
			if o == "inline" {
				inline = true
			}
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out = append(out, yamlField{name: name, index: i, inline: inline})
	}
	return out
}

// isLeaf reports whether t is set as one value rather than key by key.
func isLeaf(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return true
	}
	return reflect.PointerTo(t).Implements(textUnmarshalerType)
}

func collectSettings(t reflect.Type, prefix string, index []int, tab *settingTable) {
	for _, f := range yamlFields(t) {
		idx := append(append([]int(nil), index...), f.index)
		ft := t.Field(f.index).Type
		key := f.name
		if prefix != "" {
			key = prefix + "." + f.name
		}
		if f.inline {
			collectSettings(ft, prefix, idx, tab)
			continue
		}
		if !isLeaf(ft) {
			collectSettings(ft, key, idx, tab)
			continue
		}
		if !envSupported(ft) {
			panic(fmt.Sprintf("config: %s: no environment parser for type %s", key, ft))
		}
		tab.list = append(tab.list, Setting{Key: key, Env: EnvName(key), index: idx, typ: ft})
	}
}

// suggest returns the candidate closest to s, if it is close enough to be a
// likely typo, or "".
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		if d := editDistance(strings.ToLower(s), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
