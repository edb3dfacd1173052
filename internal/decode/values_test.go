package decode_test

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
)

func TestDecimalBounds(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // "" when accepted
	}{
		{`"205"`, ""},
		{`-1.5e-3`, ""},
		{`"` + strings.Repeat("9", decode.MaxDecimalLen) + `"`, ""},
		{`"1e100"`, ""},
		{`"1E-100"`, ""},
		{`"` + strings.Repeat("9", decode.MaxDecimalLen+1) + `"`, "65 characters long, more than the 64 allowed"},
		{`"` + strings.Repeat("7", 5<<20) + `"`, "5242880 characters long, more than the 64 allowed"},
		{strings.Repeat("7", 5<<20), "5242880 characters long"},
		{`"1e101"`, "exponent beyond ±100"},
		{`"1e-101"`, "exponent beyond ±100"},
		{`"1e99999999999999999999999"`, "exponent beyond ±100"},
		{`"NaN"`, "not a decimal number"},
		{`"0x1p3"`, "not a decimal number"},
	} {
		start := time.Now()
		var d decode.Decimal
		err := json.Unmarshal([]byte(tc.in), &d)
		if took := time.Since(start); took > slowdown*time.Second {
			t.Errorf("%.20s…: took %v", tc.in, took)
		}
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%.20s…: %v, want accepted", tc.in, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%.20s…: err = %v, want one saying %q", tc.in, err, tc.want)
		case err != nil && len(err.Error()) > 200:
			t.Errorf("%.20s…: error of %d bytes quotes the value whole", tc.in, len(err.Error()))
		}
		var be *decode.BoundError
		if bound := strings.Contains(tc.want, "long") || strings.Contains(tc.want, "beyond"); bound != errors.As(err, &be) {
			t.Errorf("%.20s…: err = %#v, a bound error: %v", tc.in, err, bound)
		}
	}
}

// FuzzDecimal: an accepted value is a plain decimal number, no longer than
// MaxDecimalLen, with an exponent within ±MaxDecimalExp, kept as sent; a JSON
// number and the same text as a JSON string are judged alike.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"205", " -1.5e-3 ", "1e100", "1e101", "NaN", "0x10", "1_000", strings.Repeat("9", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := decode.ParseDecimal(s)
		var fromString decode.Decimal
		quoted, _ := json.Marshal(s)
		errString := json.Unmarshal(quoted, &fromString)
		if (err == nil) != (errString == nil) || fromString != d {
			t.Fatalf("ParseDecimal(%q) = %q, %v; as a JSON string %q, %v", s, d, err, fromString, errString)
		}
		if err != nil {
			// Quote keeps 40 bytes of the value, each at most 4 characters escaped.
			if len(err.Error()) > 300 {
				t.Fatalf("an error of %d bytes", len(err.Error()))
			}
			return
		}
		if string(d) != strings.TrimSpace(s) || len(d) > decode.MaxDecimalLen {
			t.Fatalf("ParseDecimal(%q) = %q", s, d)
		}
		v, perr := strconv.ParseFloat(string(d), 64)
		if perr != nil || math.IsInf(v, 0) || math.IsNaN(v) || !plainDecimal.MatchString(string(d)) {
			t.Fatalf("%q is not a plain finite decimal: %v", d, perr)
		}
	})
}

var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

func TestArray(t *testing.T) {
	var got []engage.AgentTimes
	err := decode.Array(strings.NewReader(`[{"userId":"a","sumMinutes":3},{"userId":"b","timeRanges":[{"start":"2020-10-31T23:00:00.794Z","end":"2020-10-31T23:10:00.000Z"}]}]`),
		func(a engage.AgentTimes) error { got = append(got, a); return nil })
	if err != nil || len(got) != 2 || got[1].TimeRanges[0].Start.Nanosecond() != 794e6 {
		t.Fatalf("got %+v, %v", got, err)
	}
	for body, want := range map[string]error{
		`[{"userId":"a"},{"userId"`: io.ErrUnexpectedEOF,
		``:                          io.ErrUnexpectedEOF,
	} {
		err := decode.Array(strings.NewReader(body), func(engage.AgentTimes) error { return nil })
		if !errors.Is(err, want) || !engage.Retryable(err) {
			t.Errorf("%q: err = %v, want %v (retryable)", body, err, want)
		}
	}
	for _, body := range []string{`{"userId":"a"}`, `[1] x`} {
		if err := decode.Array(strings.NewReader(body), func(engage.AgentTimes) error { return nil }); err == nil || engage.Retryable(err) {
			t.Errorf("%q: err = %v, want a permanent error", body, err)
		}
	}
}

func FuzzArray(f *testing.F) {
	f.Add(`[{"userId":"a","timeRanges":[{"start":"2020-10-31T23:00:00.794Z","end":"2020-10-31T23:00:01Z"}],"sumMinutes":6}]`)
	f.Add(`[]`)
	f.Add(`[{"userId":`)
	f.Fuzz(func(t *testing.T, body string) {
		var streamed []engage.AgentTimes
		err := decode.Array(strings.NewReader(body), func(a engage.AgentTimes) error {
			streamed = append(streamed, a)
			return nil
		})
		var whole []engage.AgentTimes
		wholeErr := json.Unmarshal([]byte(body), &whole)
		if err == nil && wholeErr != nil {
			t.Fatalf("streaming accepted what json.Unmarshal refuses: %q (%v)", body, wholeErr)
		}
		if err == nil && len(streamed) != len(whole) {
			t.Fatalf("streamed %d elements, json.Unmarshal %d", len(streamed), len(whole))
		}
	})
}
