// Package decode turns the elements of an Engage answer into their engage
// types. The tenant's dialect (catalog.Dialect) says at which key, or dotted
// path, each field that catalog.Elements declares for a kind is found; a
// Remapper reads every field there, checks it against its type's bounds and
// converts it where that loses nothing (a numeric id, a count sent as a
// string, a time as epoch milliseconds). Each and Object decode an answer
// with a Remapper; Array streams a JSON array already in the engage types'
// keys; Decimal keeps a report value as its exact decimal text.
package decode

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/jsonscan"
)

// Remapper rewrites the elements of one answer from the tenant's dialect to
// the contract's keys, which the engage types decode: each field the element
// kind declares is read at its configured path and converted to its type. A
// missing required field fails the element, naming the answer key and the
// config key that maps it; the optional fields that no element had are
// reported once the answer is read.
type Remapper struct {
	kind    string
	fields  []mappedField
	seen    map[string]bool
	count   int      // elements read
	scratch [][]byte // the values of one element, by field (see Into)
}

type mappedField struct {
	catalog.Field
	path []string // where the answer keeps it
}

func NewRemapper(d catalog.Dialect, kind string) *Remapper {
	m := &Remapper{kind: kind, seen: map[string]bool{}}
	for _, f := range catalog.Elements[kind] {
		key := d.Fields[kind][f.Name]
		if key == "" {
			key = f.Key
		}
		m.fields = append(m.fields, mappedField{f, strings.Split(key, ".")})
	}
	return m
}

// FieldError is an element the dialect does not fit, or whose value is
// beyond the bounds of its type.
type FieldError struct {
	Kind, Field, AnswerKey string
	Problem                string
	Bound                  bool // the key is right, the value is out of bounds
}

func (e *FieldError) Error() string {
	if e.Bound {
		return fmt.Sprintf("%s.%s: %s at answer key %q", e.Kind, e.Field, e.Problem, e.AnswerKey)
	}
	return fmt.Sprintf("%s.%s: %s at answer key %q: set api.fields.%s.%s to the key the API uses",
		e.Kind, e.Field, e.Problem, e.AnswerKey, e.Kind, e.Field)
}

// element returns the element in the contract's keys.
func (m *Remapper) Element(raw []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("%s element is not a JSON object: %w", m.kind, err)
	}
	m.count++
	// The contract's keys are plain ASCII names: the object is written as
	// bytes, not marshalled from a map, on the hot path of every element.
	out := append(make([]byte, 0, len(raw)+16), '{')
	for _, f := range m.fields {
		v, present := Lookup(obj, f.path)
		cv, err := m.field(f, v, present)
		if err != nil {
			return nil, err
		}
		if cv == nil {
			continue
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(append(append(append(out, '"'), f.Key...), '"', ':'), cv...)
	}
	return append(out, '}'), nil
}

// field checks one field's value, found at its path (present) or not, and
// converts it to the field's type; nil when the field is optional and
// absent or null.
func (m *Remapper) field(f mappedField, v []byte, present bool) ([]byte, error) {
	if present {
		m.seen[f.Name] = true // null is a value the API sends: the key is right
	}
	if IsNull(v) {
		if f.Required {
			return nil, &FieldError{Kind: m.kind, Field: f.Name, AnswerKey: strings.Join(f.path, "."), Problem: "required, missing"}
		}
		return nil, nil
	}
	cv, err := coerce(v, f.Type)
	if err != nil {
		var be *BoundError
		return nil, &FieldError{Kind: m.kind, Field: f.Name, AnswerKey: strings.Join(f.path, "."), Problem: err.Error(), Bound: errors.As(err, &be)}
	}
	return cv, nil
}

// missing lists the optional fields whose key no element of a non-empty
// answer had (a null counts as had): a mapping that probably names a key
// the API does not send.
func (m *Remapper) Missing() []string {
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
func Lookup(obj map[string]json.RawMessage, path []string) (v json.RawMessage, present bool) {
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

func IsNull(v json.RawMessage) bool {
	t := bytes.TrimSpace(v)
	return len(t) == 0 || string(t) == "null"
}

// coerce converts a value to a field's type where that loses nothing: a
// number where a string is expected (ids), a numeric string where a number
// is, epoch milliseconds where a time is. A value beyond its type's bounds
// (see catalog.FieldType) is an error that says the bound.
func coerce(v json.RawMessage, t catalog.FieldType) (json.RawMessage, error) {
	v = bytes.TrimSpace(v)
	kind := jsonKind(v)
	switch t {
	case catalog.TString, catalog.TText:
		limit := catalog.MaxStringLen
		if t == catalog.TText {
			limit = catalog.MaxTextLen
		}
		switch kind {
		case 's':
			n := len(v) // of the string, decoded
			if inner, ok := jsonscan.Unescaped(v); ok {
				n = len(inner)
			} else {
				var s string
				if err := json.Unmarshal(v, &s); err != nil {
					return nil, err
				}
				n = len(s)
			}
			if n > limit {
				return nil, boundf("a string of %d bytes, more than the %d a %s may have", n, limit, t)
			}
			return v, nil
		case 'n':
			if len(v) > limit {
				return nil, boundf("a number of %d characters, more than the %d a %s may have", len(v), limit, t)
			}
			return json.Marshal(string(v))
		}
	case catalog.TInt, catalog.TCount, catalog.TMillis:
		text := string(v)
		switch kind {
		case 'n':
		case 's':
			if json.Unmarshal(v, &text) != nil {
				return nil, fmt.Errorf("%s where %s was expected", describe(kind), t)
			}
		default:
			return nil, fmt.Errorf("%s where %s was expected", describe(kind), t)
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if errors.Is(err, strconv.ErrRange) {
			return nil, boundf("%s is out of range: %s", Quote(text), integerBounds(t))
		}
		if err != nil {
			return nil, fmt.Errorf("%s is not %s: %s", Quote(text), article(t), integerBounds(t))
		}
		if (t == catalog.TCount || t == catalog.TMillis) && n < 0 || t == catalog.TCount && n > catalog.MaxCount {
			return nil, boundf("%d is out of range: %s", n, integerBounds(t))
		}
		return json.RawMessage(strconv.FormatInt(n, 10)), nil
	case catalog.TDecimal:
		if kind == 'n' || kind == 's' {
			var d Decimal
			if err := d.UnmarshalJSON(v); err != nil {
				return nil, err
			}
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
			return coerce(v, catalog.TString)
		case 'n':
			if ms, err := strconv.ParseInt(string(v), 10, 64); err == nil {
				return json.Marshal(time.UnixMilli(ms).UTC().Format(time.RFC3339Nano))
			}
		}
	case catalog.TStrings:
		var items []json.RawMessage
		if kind == '[' && json.Unmarshal(v, &items) == nil {
			if len(items) > catalog.MaxListLen {
				return nil, boundf("a list of %d strings, more than the %d allowed", len(items), catalog.MaxListLen)
			}
			out := make([]string, 0, len(items))
			for i, it := range items {
				s, err := coerce(it, catalog.TString)
				if err != nil {
					return nil, fmt.Errorf("element %d of the list: %w", i, err)
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

func boundf(format string, args ...any) error {
	return &BoundError{Msg: fmt.Sprintf(format, args...)}
}

func article(t catalog.FieldType) string {
	if t == catalog.TInt {
		return "an integer"
	}
	return "a " + string(t)
}

// integerBounds says the range of an integer type.
func integerBounds(t catalog.FieldType) string {
	switch t {
	case catalog.TCount:
		return fmt.Sprintf("a count is a whole number from 0 to %d", catalog.MaxCount)
	case catalog.TMillis:
		return fmt.Sprintf("milliseconds are a whole number from 0 to %d", int64(math.MaxInt64))
	}
	return fmt.Sprintf("an integer is a whole number from %d to %d", int64(math.MinInt64), int64(math.MaxInt64))
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
