package engage_test

import (
	"bytes"
	"encoding/json"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/engage-etl/engage-etl/internal/engage"
)

// FuzzDecodeObject: DecodeObject accepts exactly one JSON document, as
// json.Valid judges it, and decodes what json.Unmarshal decodes.
func FuzzDecodeObject(f *testing.F) {
	f.Add(`{"results":{"2020/10/30":{"a":"1"}}}`)
	f.Add(`{"a":1} {"b":2}`)
	f.Add(`{"a":`)
	f.Fuzz(func(t *testing.T, body string) {
		var got any
		err := engage.DecodeObject(strings.NewReader(body), &got)
		if valid := json.Valid([]byte(body)); (err == nil) != valid {
			t.Fatalf("DecodeObject(%q) = %v, json.Valid = %v", body, err, valid)
		}
		if err != nil {
			return
		}
		var want any
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if !bytes.Equal(g, w) {
			t.Fatalf("DecodeObject decoded %s, json.Unmarshal %s", g, w)
		}
	})
}

// FuzzDecimal: an accepted value is a plain decimal number, no longer than
// MaxDecimalLen, with an exponent within ±MaxDecimalExp, kept as sent; a JSON
// number and the same text as a JSON string are judged alike.
func FuzzDecimal(f *testing.F) {
	for _, s := range []string{"205", " -1.5e-3 ", "1e100", "1e101", "NaN", "0x10", "1_000", strings.Repeat("9", 65)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := engage.ParseDecimal(s)
		var fromString engage.Decimal
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
		if string(d) != strings.TrimSpace(s) || len(d) > engage.MaxDecimalLen {
			t.Fatalf("ParseDecimal(%q) = %q", s, d)
		}
		v, perr := strconv.ParseFloat(string(d), 64)
		if perr != nil || math.IsInf(v, 0) || math.IsNaN(v) || !plainDecimal.MatchString(string(d)) {
			t.Fatalf("%q is not a plain finite decimal: %v", d, perr)
		}
	})
}

var plainDecimal = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$`)

// FuzzPageItems: a page's elements are JSON documents; a bare array page
// yields the elements json.Unmarshal finds.
func FuzzPageItems(f *testing.F) {
	f.Add(`{"results":[{"id":"a"},{"id":"b"}],"last":true}`, "results")
	f.Add(`{"data":{"content":[1,2]}}`, "data.content")
	f.Add(`[{"id":1}]`, "")
	f.Add(`{"results":null}`, "results")
	f.Fuzz(func(t *testing.T, body, items string) {
		got, err := engage.PageItems([]byte(body), items)
		if err != nil {
			return
		}
		for _, it := range got {
			if !json.Valid(it) {
				t.Fatalf("element %q is not JSON", it)
			}
		}
		if items == "" {
			var want []json.RawMessage
			if err := json.Unmarshal([]byte(body), &want); err != nil || len(want) != len(got) {
				t.Fatalf("PageItems found %d elements in %q, json.Unmarshal %d (%v)", len(got), body, len(want), err)
			}
		}
	})
}

// FuzzPath: a value found is a JSON document other than null, and a path of
// one step finds what json.Unmarshal finds under that key.
func FuzzPath(f *testing.F) {
	f.Add(`{"a":{"b":{"c":1}}}`, "a.b.c")
	f.Add(`{"a":null}`, "a")
	f.Add(`{"a":[1]}`, "a.0")
	f.Add(`[1]`, "")
	f.Fuzz(func(t *testing.T, doc, path string) {
		v, ok := engage.Path(json.RawMessage(doc), path)
		if !ok {
			return
		}
		if !json.Valid(v) || string(bytes.TrimSpace(v)) == "null" {
			t.Fatalf("Path(%q, %q) = %q", doc, path, v)
		}
		if !strings.Contains(path, ".") {
			var obj map[string]json.RawMessage
			if err := json.Unmarshal([]byte(doc), &obj); err != nil || !bytes.Equal(obj[path], v) {
				t.Fatalf("Path(%q, %q) = %q, json.Unmarshal finds %q (%v)", doc, path, v, obj[path], err)
			}
		}
	})
}
