package engage

import (
	"reflect"
	"testing"
)

// FuzzReadPageMatchesSlowly: the one-walk readPage finds what decoding the
// page with encoding/json finds (elements, last, totalPages), and fails
// where it fails.
func FuzzReadPageMatchesSlowly(f *testing.F) {
	for _, s := range [][2]string{
		{`{"results":[{"id":"a"},{"id":"b"}],"last":true,"totalPages":3}`, "results"},
		{`{"data":{"content":[1,2]},"LAST":false,"last":true}`, "data.content"},
		{`[{"id":1}, 2 ]`, ""},
		{`{"results":null}`, "results"},
		{`{"results":[],"last":"true"}`, "results"},
		{`{"results":[],"totalPages":2.0}`, "results"},
		{`{"results":[],"l\u0061st":true,"TotalPages":null}`, "results"},
		{`{"results":{}}`, "results"},
		{`[1,`, ""},
		{`{"last":[1]}`, "last"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, body, items string) {
		got, gotErr := readPage([]byte(body), items)
		want, wantErr := readPageSlowly([]byte(body), items)
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("readPage(%q, %q): %v; encoding/json: %v", body, items, gotErr, wantErr)
		}
		if gotErr != nil {
			return
		}
		if len(got.items) == 0 && len(want.items) == 0 {
			got.items, want.items = nil, nil
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("readPage(%q, %q) = %+v, encoding/json %+v", body, items, got, want)
		}
	})
}
