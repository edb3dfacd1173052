// Package jsonscan walks JSON text that is already known to be valid (checked
// once with json.Valid) without decoding it: the elements of an array, the
// members of an object, the value at a dotted path. Values are returned as
// subslices of the input, not copies.
//
// It exists for the hot path of a load: an answer is validated once, then
// walked, and only the fields engage-etl reads are converted. encoding/json
// would scan every element again for each Unmarshal. On text that is not
// valid JSON the functions do not panic, but what they return is undefined:
// validate first.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// Array calls fn with each element of the array b holds, in order. ok is
// false when b is not an array.
func Array(b []byte, fn func(i int, elem []byte) error) (ok bool, err error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '[' {
		return false, nil
	}
	i = skipSpace(b, i+1)
	for n := 0; i < len(b) && b[i] != ']'; n++ {
		end := skipValue(b, i)
		if end == i {
			break // not valid JSON: stop rather than loop
		}
		if err := fn(n, b[i:end]); err != nil {
			return true, err
		}
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return true, nil
}

// Object calls fn with each member of the object b holds, in order; key is
// the member's name as written, quotes included (see Key). ok is false when
// b is not an object.
func Object(b []byte, fn func(key, value []byte) error) (ok bool, err error) {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return false, nil
	}
	i = skipSpace(b, i+1)
	for i < len(b) && b[i] == '"' {
		kEnd := skipString(b, i)
		key := b[i:kEnd]
		i = skipSpace(b, kEnd)
		if i >= len(b) || b[i] != ':' {
			return true, nil
		}
		i = skipSpace(b, i+1)
		vEnd := skipValue(b, i)
		if err := fn(key, b[i:vEnd]); err != nil {
			return true, err
		}
		i = skipSpace(b, vEnd)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return true, nil
}

// Key is a member name as Object returns it, unquoted.
func Key(quoted []byte) string {
	if s, ok := Plain(quoted); ok {
		return s
	}
	var s string
	json.Unmarshal(quoted, &s)
	return s
}

// Plain returns the string a JSON string literal holds when it needs no
// decoding (no escape, valid UTF-8): the common case, done without
// encoding/json. ok is false otherwise.
func Plain(quoted []byte) (string, bool) {
	inner, ok := Unescaped(quoted)
	return string(inner), ok
}

// Unescaped is Plain without the copy: the bytes between the quotes.
func Unescaped(quoted []byte) ([]byte, bool) {
	if len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
		return nil, false
	}
	inner := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(inner, '\\') >= 0 || !utf8.Valid(inner) {
		return nil, false
	}
	return inner, true
}

// Find returns the value at path (one member name per step) in the object
// b holds; ok is false when a step is missing or not an object. When a
// name is repeated, the last member counts, as encoding/json decides.
func Find(b []byte, path []string) (v []byte, ok bool) {
	v = b
	for _, step := range path {
		var found []byte
		isObject, _ := Object(v, func(key, value []byte) error {
			if KeyIs(key, step) {
				found = value
			}
			return nil
		})
		if !isObject || found == nil {
			return nil, false
		}
		v = found
	}
	return v, true
}

// KeyIs reports whether a member name as Object returns it is name.
func KeyIs(quoted []byte, name string) bool {
	return string(Name(quoted)) == name
}

// Name is a member name as Object returns it, unquoted: the bytes between
// the quotes when they need no decoding (plain ASCII, no escape), without a
// copy; else decoded.
func Name(quoted []byte) []byte {
	if len(quoted) < 2 {
		return nil
	}
	inner := quoted[1 : len(quoted)-1]
	for _, c := range inner {
		if c == '\\' || c >= utf8.RuneSelf {
			return []byte(Key(quoted))
		}
	}
	return inner
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index just past the string literal at b[i].
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// skipValue returns the index just past the value starting at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipString(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) {
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}
