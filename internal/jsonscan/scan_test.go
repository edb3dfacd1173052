package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzScanMatchesEncodingJSON: on valid JSON, Array and Object find what
// encoding/json decodes (elements in order; members with the last of a
// repeated name winning), and Find follows paths as a map lookup does. On
// any input they return.
func FuzzScanMatchesEncodingJSON(f *testing.F) {
	for _, s := range []string{
		`[1, "a", {"b": [2, 3]}, null, true, -1.5e3, "x\"]y"]`,
		` { "a" : 1 , "b":{"c":"d\\"} ,"a":[{}], "\u0061b":"e" } `,
		`[]`, `{}`, `"s"`, `12`, `[[[]]]`, `{"a":{"b":{"c":null}}}`, `[}`, `[,]`, `{"a"`, `[1,`,
	} {
		f.Add(s, "a.b")
	}
	f.Fuzz(func(t *testing.T, doc, path string) {
		b := []byte(doc)
		var elems []json.RawMessage
		var members map[string]json.RawMessage
		var got []json.RawMessage
		isArray, _ := Array(b, func(_ int, e []byte) error { got = append(got, e); return nil })
		gotMembers := map[string]json.RawMessage{}
		isObject, _ := Object(b, func(k, v []byte) error { gotMembers[Key(k)] = v; return nil })
		if !json.Valid(b) {
			return
		}
		if err := json.Unmarshal(b, &elems); (err == nil) != isArray {
			t.Fatalf("Array says array=%v, encoding/json: %v", isArray, err)
		} else if err == nil {
			if len(got) != len(elems) {
				t.Fatalf("%d elements, encoding/json %d", len(got), len(elems))
			}
			for i := range elems {
				if !bytes.Equal(compact(t, got[i]), compact(t, elems[i])) {
					t.Fatalf("element %d: %s, encoding/json %s", i, got[i], elems[i])
				}
			}
		}
		if err := json.Unmarshal(b, &members); (err == nil && members != nil) != isObject {
			t.Fatalf("Object says object=%v, encoding/json: %v", isObject, err)
		} else if isObject {
			if len(gotMembers) != len(members) {
				t.Fatalf("%d members, encoding/json %d", len(gotMembers), len(members))
			}
			for k, v := range members {
				if !bytes.Equal(compact(t, gotMembers[k]), compact(t, v)) {
					t.Fatalf("member %q: %s, encoding/json %s", k, gotMembers[k], v)
				}
				if found, ok := Find(b, []string{k}); !ok || !bytes.Equal(found, gotMembers[k]) {
					t.Fatalf("Find(%q) = %s, %v", k, found, ok)
				}
			}
		}
	})
}

func compact(t *testing.T, v []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, v); err != nil {
		t.Fatalf("%s is not valid JSON: %v", v, err)
	}
	return out.Bytes()
}

func TestPlainNeedsNoDecoding(t *testing.T) {
	for in, want := range map[string]bool{`"abc"`: true, `""`: true, `"a\"b"`: false, `"\u00e9"`: false, "\"\xff\"": false, `abc`: false, `"`: false} {
		if _, ok := Plain([]byte(in)); ok != want {
			t.Errorf("Plain(%s) ok = %v, want %v", in, ok, want)
		}
	}
}
