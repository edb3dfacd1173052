package decode

import (
	"encoding/json"
	"testing"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

// FuzzCoerce: a value coerced to a field type is valid JSON of that type
// within the type's bounds, and coercing it again changes nothing.
func FuzzCoerce(f *testing.F) {
	types := []catalog.FieldType{catalog.TString, catalog.TText, catalog.TInt, catalog.TCount, catalog.TMillis,
		catalog.TDecimal, catalog.TBool, catalog.TTime, catalog.TStrings, catalog.TAny}
	for i, v := range []string{`"a"`, `"long text"`, `-9223372036854775808`, `"2147483647"`, `0`, `"1.5e3"`, `"true"`, `1604138400000`, `["a",1]`, `{"x":[1]}`} {
		f.Add(uint8(i), v)
	}
	f.Fuzz(func(t *testing.T, which uint8, v string) {
		typ := types[int(which)%len(types)]
		if !json.Valid([]byte(v)) { // answers are JSON: lookup hands coerce a JSON value
			return
		}
		out, err := coerce([]byte(v), typ)
		if err != nil {
			return
		}
		if !json.Valid(out) {
			t.Fatalf("coerce(%q, %s) = %q, not JSON", v, typ, out)
		}
		again, err := coerce(out, typ)
		if err != nil || string(again) != string(out) {
			t.Fatalf("coerce(%q, %s) = %s, which coerces to %s, %v", v, typ, out, again, err)
		}
	})
}
