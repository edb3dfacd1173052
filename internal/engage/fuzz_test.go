package engage_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/engage-etl/engage-etl/internal/engage"
)

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
