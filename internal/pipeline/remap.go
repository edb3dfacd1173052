package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

// remapper rewrites the elements of one answer from the tenant's dialect to
// the contract's keys, which the engage types decode: each field the element
// kind declares is read at its configured path and converted to its type. A
// missing required field fails the element, naming the answer key and the
// config key that maps it; the optional fields that no element had are
// reported once the answer is read.
type remapper struct {
	kind   string
	fields []mappedField
	seen   map[string]bool
	count  int // elements read
}

type mappedField struct {
	catalog.Field
	path []string // where the answer keeps it
}

func newRemapper(d catalog.Dialect, kind string) *remapper {
	m := &remapper{kind: kind, seen: map[string]bool{}}
	for _, f := range catalog.Elements[kind] {
		key := d.Fields[kind][f.Name]
		if key == "" {
			key = f.Key
		}
		m.fields = append(m.fields, mappedField{f, strings.Split(key, ".")})
	}
	return m
}

// FieldError is an element the dialect does not fit.
type FieldError struct {
	Kind, Field, AnswerKey string
	Problem                string
}

func (e *FieldError) Error() string {
	return fmt.Sprintf("%s.%s: %s at answer key %q: set api.fields.%s.%s to the key the API uses",
		e.Kind, e.Field, e.Problem, e.AnswerKey, e.Kind, e.Field)
}

// element returns the element in the contract's keys.
func (m *remapper) element(raw []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%s element is not a JSON object: %w", m.kind, err)
	}
	m.count++
	// The contract's keys are plain ASCII names: the object is written as
	// bytes, not marshalled from a map, on the hot path of every element.
	out := append(make([]byte, 0, len(raw)+16), '{')
	for _, f := range m.fields {
		v, present := lookup(obj, f.path)
		if present {
			m.seen[f.Name] = true // null is a value the API sends: the key is right
		}
		if isNull(v) {
			if f.Required {
				return nil, &FieldError{m.kind, f.Name, strings.Join(f.path, "."), "required, missing"}
			}
			continue
		}
		cv, err := coerce(v, f.Type)
		if err != nil {
			return nil, &FieldError{m.kind, f.Name, strings.Join(f.path, "."), err.Error()}
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(append(out, '"'), f.Key...), '"', ':'), cv...)
	}
	return append(out, '}'), nil
}

// missing lists the optional fields whose key no element of a non-empty
// answer had (a null counts as had): a mapping that probably names a key
// the API does not send.
func (m *remapper) missing() []string {
	if m.count == 0 {
		return nil
	}
	var out []string
	for _, f := range m.fields {
		if !m.seen[f.Name] {
			out = append(out, fmt.Sprintf("api.fields.%s.%s: no element had the answer key %q", m.kind, f.Name, strings.Join(f.path, ".")))
		}
	}
	sort.Strings(out)
	return out
}

// lookup follows a dotted path; present is false when a step is missing.
func lookup(obj map[string]json.RawMessage, path []string) (v json.RawMessage, present bool) {
	v, ok := obj[path[0]]
	for _, step := range path[1:] {
		if !ok {
			return nil, false
		}
		var next map[string]json.RawMessage
		if json.Unmarshal(v, &next) != nil {
			return nil, false
		}
		v, ok = next[step]
	}
	return v, ok
}

func isNull(v json.RawMessage) bool {
	t := bytes.TrimSpace(v)
	return len(t) == 0 || string(t) == "null"
}

// coerce converts a value to a field's type where that loses nothing: a
// number where a string is expected (ids), a numeric string where a number
// is, epoch milliseconds where a time is.
func coerce(v json.RawMessage, t catalog.FieldType) (json.RawMessage, error) {
	v = bytes.TrimSpace(v)
	kind := jsonKind(v)
	switch t {
	case catalog.TString:
		switch kind {
		case 's':
			return v, nil
		case 'n':
			return json.Marshal(string(v))
		}
	case catalog.TInt:
		switch kind {
		case 'n':
			if _, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return v, nil
			}
		case 's':
			var s string
			json.Unmarshal(v, &s)
			if _, err := strconv.ParseInt(s, 10, 64); err == nil {
				return json.RawMessage(s), nil
			}
		}
	case catalog.TDecimal:
		if kind == 'n' || kind == 's' {
			return v, nil
		}
	case catalog.TBool:
		switch {
		case kind == 'b':
			return v, nil
		case string(v) == `"true"` || string(v) == `"false"`:
			return v[1 : len(v)-1], nil
		}
	case catalog.TTime:
		switch kind {
		case 's':
			return v, nil
		case 'n':
			if ms, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return json.Marshal(time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
			}
		}
	case catalog.TStrings:
		var items []json.RawMessage
		if kind == '[' && json.Unmarshal(v, &items) == nil {
			out := make([]string, 0, len(items))
			for _, it := range items {
				s, err := coerce(it, catalog.TString)
				if err != nil {
					return nil, fmt.Errorf("an element of the list: %w", err)
				}
				var str string
				json.Unmarshal(s, &str)
				out = append(out, str)
			}
			return json.Marshal(out)
		}
	case catalog.TAny:
		return v, nil
	}
	return nil, fmt.Errorf("%s where %s was expected", describe(kind), t)
}

func jsonKind(v []byte) byte {
	if len(v) == 0 {
		return 0
	}
	switch c := v[0]; {
	case c == '"':
		return 's'
	case c == '{', c == '[':
		return c
	case c == 't', c == 'f':
		return 'b'
	case c == '-' || (c >= '0' && c <= '9'):
		return 'n'
	}
	return 0
}

func describe(kind byte) string {
	switch kind {
	case 's':
		return "a string"
	case 'n':
		return "a number"
	case 'b':
		return "a boolean"
	case '{':
		return "an object"
	case '[':
		return "an array"
	}
	return "a value"
}
