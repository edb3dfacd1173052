package decode

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/jsonscan"
)

// Each calls fn with each element of the JSON array body holds, decoded
// from the dialect's keys by m.
func Each[E any](m *Remapper, body []byte, fn func(E) error) error {
	return Walk(body, func(i int, raw []byte) error {
		if err := Element(m, raw, fn); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		return nil
	})
}

// Walk calls fn with each element of the JSON array body holds: validated
// once and walked (see jsonscan). A body that is not a valid array fails
// with Array's error, which says where it breaks, before any element is
// decoded.
func Walk(body []byte, fn func(i int, raw []byte) error) error {
	if json.Valid(body) {
		if isArray, err := jsonscan.Array(body, fn); isArray {
			return err
		}
	}
	return Array(bytes.NewReader(body), func(json.RawMessage) error { return nil })
}

// Element decodes one valid JSON element and calls fn with it.
func Element[E any](m *Remapper, raw []byte, fn func(E) error) error {
	var e E
	if err := m.Into(raw, &e); err != nil {
		return err
	}
	return fn(e)
}

// Object decodes an answer that is one JSON object of an element kind,
// and returns the optional fields it did not have.
func Object[E any](d catalog.Dialect, kind string, body []byte) (E, []string, error) {
	var e E
	m := NewRemapper(d, kind)
	if !json.Valid(body) {
		_, err := m.Element(body) // says why
		return e, nil, err
	}
	err := Element(m, body, func(v E) error { e = v; return nil })
	return e, m.Missing(), err
}
