package engage

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// DecodeArray decodes a JSON array element by element and calls fn for each, so
// a large detail report never sits in memory twice. A body cut short yields an
// error wrapping io.ErrUnexpectedEOF.
func DecodeArray[T any](r io.Reader, fn func(T) error) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return eofIsUnexpected(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("want a JSON array, got %v", tok)
	}
	for i := 0; dec.More(); i++ {
		var v T
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("element %d: %w", i, eofIsUnexpected(err))
		}
		if err := fn(v); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return eofIsUnexpected(err)
	}
	return trailing(dec)
}

// DecodeObject decodes one JSON document into v and rejects trailing garbage.
func DecodeObject(r io.Reader, v any) error {
	dec := json.NewDecoder(r)
	if err := dec.Decode(v); err != nil {
		return eofIsUnexpected(err)
	}
	return trailing(dec)
}

func trailing(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON document")
	}
	return nil
}

// eofIsUnexpected maps a bare io.EOF (an empty or cut body) to
// io.ErrUnexpectedEOF: a 2xx answer always has a body.
func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Decimal is a report value. Engage sends decimal numbers as JSON strings
// ("205"); a JSON number is accepted too. It keeps the decimal text exactly, so
// no value passes through a float.
type Decimal string

// UnmarshalJSON implements json.Unmarshaler.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	s = string(bytes.TrimSpace([]byte(s)))
	if !decimalRE.MatchString(s) {
		return fmt.Errorf("report value %q is not a decimal number", s)
	}
	*d = Decimal(s)
	return nil
}

// decimalRE is a plain decimal number, as PostgreSQL's numeric reads it:
// no NaN, no infinity, no hexadecimal, which strconv.ParseFloat would allow.
var decimalRE = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)
