package decode

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"sync"

	"github.com/engage-etl/engage-etl/internal/jsonscan"
)

// This file decodes an element straight into its engage struct in one walk
// of the element: the fields the kind declares are found at their
// configured paths, checked and converted by coerce, and set. It is what
// json.Unmarshal of the element rewritten in the contract's keys (see
// Remapper.element) would give, which the differential test checks; the
// rewrite is kept for types that decode themselves (json.Unmarshaler).

// Into decodes one element into *dst.
func (m *Remapper) Into(raw []byte, dst any) error {
	v := reflect.ValueOf(dst).Elem()
	p := planFor(m, v.Type())
	if p == nil {
		canon, err := m.Element(raw)
		if err != nil {
			return err
		}
		if err := json.Unmarshal(canon, dst); err != nil {
			return fmt.Errorf("%s element: %w", m.kind, err)
		}
		return nil
	}
	if cap(m.scratch) < len(m.fields) {
		m.scratch = make([][]byte, len(m.fields))
	}
	vals := m.scratch[:len(m.fields)]
	clear(vals)
	isObject, _ := jsonscan.Object(raw, func(key, value []byte) error {
		name := jsonscan.Name(key)
		for i, f := range m.fields {
			if string(name) == f.path[0] {
				vals[i] = value
			}
		}
		return nil
	})
	if !isObject && string(raw) != "null" { // null decodes as an empty object
		return fmt.Errorf("%s element is not a JSON object", m.kind)
	}
	m.count++
	for i, f := range m.fields {
		val, present := vals[i], vals[i] != nil
		if present && len(f.path) > 1 {
			val, present = jsonscan.Find(val, f.path[1:])
		}
		cv, err := m.field(f, val, present)
		if err != nil {
			return err
		}
		if cv == nil || p.index[i] < 0 {
			continue
		}
		if err := p.set[i](v.Field(p.index[i]), cv); err != nil {
			return fmt.Errorf("%s element: %w", m.kind, err)
		}
	}
	return nil
}

// fieldPlan says, for each field of a Remapper, which struct field takes it
// (-1: none) and how a converted value is set into it.
type fieldPlan struct {
	index []int
	set   []func(reflect.Value, []byte) error
}

type planKey struct {
	kind string
	typ  reflect.Type
}

var plans sync.Map // planKey -> *fieldPlan (nil: the type decodes itself)

func planFor(m *Remapper, t reflect.Type) *fieldPlan {
	key := planKey{m.kind, t}
	if p, ok := plans.Load(key); ok {
		return p.(*fieldPlan)
	}
	var p *fieldPlan
	if t.Kind() == reflect.Struct && !reflect.PointerTo(t).Implements(unmarshalerType) {
		p = &fieldPlan{}
		for _, f := range m.fields {
			idx, setter := -1, (func(reflect.Value, []byte) error)(nil)
			for j := 0; j < t.NumField(); j++ {
				sf := t.Field(j)
				if sf.IsExported() && jsonName(sf) == f.Key {
					idx, setter = j, setterFor(sf.Type)
					break
				}
			}
			p.index, p.set = append(p.index, idx), append(p.set, setter)
		}
	}
	plans.Store(key, p)
	return p
}

func jsonName(sf reflect.StructField) string {
	tag := sf.Tag.Get("json")
	for i := 0; i < len(tag); i++ {
		if tag[i] == ',' {
			tag = tag[:i]
			break
		}
	}
	if tag == "" {
		return sf.Name
	}
	return tag
}

var unmarshalerType = reflect.TypeFor[json.Unmarshaler]()

// setterFor sets a value coerce returned (never null) into a field of type
// t: the common types directly, anything else through json.Unmarshal.
func setterFor(t reflect.Type) func(reflect.Value, []byte) error {
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return func(f reflect.Value, v []byte) error {
			return f.Addr().Interface().(json.Unmarshaler).UnmarshalJSON(v)
		}
	}
	switch {
	case t.Kind() == reflect.Pointer:
		inner := setterFor(t.Elem())
		return func(f reflect.Value, v []byte) error {
			p := reflect.New(t.Elem())
			if err := inner(p.Elem(), v); err != nil {
				return err
			}
			f.Set(p)
			return nil
		}
	case t.Kind() == reflect.String:
		return func(f reflect.Value, v []byte) error {
			if s, ok := jsonscan.Plain(v); ok {
				f.SetString(s)
				return nil
			}
			return json.Unmarshal(v, f.Addr().Interface())
		}
	case t.Kind() == reflect.Bool:
		return func(f reflect.Value, v []byte) error {
			switch string(v) {
			case "true", "false":
				f.SetBool(v[0] == 't')
				return nil
			}
			return json.Unmarshal(v, f.Addr().Interface())
		}
	case t.Kind() == reflect.Int || t.Kind() == reflect.Int64:
		return func(f reflect.Value, v []byte) error {
			n, err := strconv.ParseInt(string(v), 10, t.Bits())
			if err != nil {
				return json.Unmarshal(v, f.Addr().Interface())
			}
			f.SetInt(n)
			return nil
		}
	}
	return func(f reflect.Value, v []byte) error { return json.Unmarshal(v, f.Addr().Interface()) }
}
