package decode

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Array decodes a JSON array element by element and calls fn for each, so
// a large detail report never sits in memory twice. A body cut short yields an
// error wrapping io.ErrUnexpectedEOF.
func Array[T any](r io.Reader, fn func(T) error) error {
	dec := json.NewDecoder(r)
	tok, err := dec.Token()
	if err != nil {
		return UnexpectedEOF(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("want a JSON array, got %v", tok)
	}
	for i := 0; dec.More(); i++ {
		var v T
		if err := dec.Decode(&v); err != nil {
			return fmt.Errorf("element %d: %w", i, UnexpectedEOF(err))
		}
		if err := fn(v); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return UnexpectedEOF(err)
	}
	return trailing(dec)
}

func trailing(dec *json.Decoder) error {
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the JSON document")
	}
	return nil
}

// UnexpectedEOF maps a bare io.EOF (an empty or cut body) to
// io.ErrUnexpectedEOF: a 2xx answer always has a body.
func UnexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Decimal is a report value. Engage sends decimal numbers as JSON strings
// ("205"); a JSON number is accepted too. It keeps the decimal text exactly, so
// no value passes through a float.
type Decimal string

// Bounds of a Decimal. A metric is a count, seconds or a mean of them: 20
// digits hold any int64, so 64 characters leave ample room for a fraction
// and an exponent while keeping what the loader does with the text cheap.
// pgx turns the text into a big.Int and then into PostgreSQL's base-10000
// digits, which costs time quadratic in the number of digits (a 5 MB string
// of digits took over ten minutes); an exponent within ±100 keeps the
// expanded value within a few hundred digits, far inside what numeric
// stores (131072 digits before the point, 16383 after).
const (
	MaxDecimalLen = 64
	MaxDecimalExp = 100
)

// UnmarshalJSON implements json.Unmarshaler.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(b) > 0 && b[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDecimal checks that s (surrounding spaces aside) is a plain decimal
// number within MaxDecimalLen characters and an exponent within
// ±MaxDecimalExp, and returns it.
func ParseDecimal(s string) (Decimal, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxDecimalLen {
		return "", &BoundError{fmt.Sprintf("decimal value %s is %d characters long, more than the %d allowed", Quote(s), len(s), MaxDecimalLen)}
	}
	m := decimalRE.FindStringSubmatch(s)
	if m == nil {
		return "", fmt.Errorf("value %s is not a decimal number", Quote(s))
	}
	if m[1] != "" {
		if e, err := strconv.Atoi(m[1]); err != nil || e > MaxDecimalExp || e < -MaxDecimalExp {
			return "", &BoundError{fmt.Sprintf("decimal value %s has an exponent beyond ±%d", Quote(s), MaxDecimalExp)}
		}
	}
	return Decimal(s), nil
}

// decimalRE is a plain decimal number, as PostgreSQL's numeric reads it:
// no NaN, no infinity, no hexadecimal, which strconv.ParseFloat would allow.
// The submatch is the exponent.
var decimalRE = regexp.MustCompile(`^-?[0-9]+(?:\.[0-9]+)?(?:[eE]([-+]?[0-9]+))?$`)

// BoundError is a value of the right type beyond a bound of the loader: a
// string, number or list too long or too large to be data.
type BoundError struct{ Msg string }

func (e *BoundError) Error() string { return e.Msg }

// maxQuoted is how much of a value an error message quotes.
const maxQuoted = 40

// Quote quotes s for an error message, cut to its first characters when it
// is long, so a rejected 5 MB value does not become a 5 MB message.
func Quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…"
}
