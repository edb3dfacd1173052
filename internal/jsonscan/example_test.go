package jsonscan_test

import (
	"encoding/json"
	"fmt"

	"github.com/engage-etl/engage-etl/internal/jsonscan"
)

// Array walks the elements of an array; each is a subslice of the input.
// Validate the text first: on invalid JSON the result is undefined.
func ExampleArray() {
	body := []byte(`[{"id": "a"}, 2, "three", [4]]`)
	if !json.Valid(body) {
		panic("invalid JSON")
	}
	ok, err := jsonscan.Array(body, func(i int, elem []byte) error {
		fmt.Printf("%d: %s\n", i, elem)
		return nil
	})
	fmt.Println(ok, err)
	// Output:
	// 0: {"id": "a"}
	// 1: 2
	// 2: "three"
	// 3: [4]
	// true <nil>
}

// Object walks the members of an object; keys come quoted, as written.
func ExampleObject() {
	body := []byte(`{"id": "c1", "user\u0049ds": ["u1"], "count": 3}`)
	ok, err := jsonscan.Object(body, func(key, value []byte) error {
		fmt.Printf("%s = %s (name %s)\n", key, value, jsonscan.Key(key))
		return nil
	})
	fmt.Println(ok, err)

	ok, _ = jsonscan.Object([]byte(`[1]`), func(key, value []byte) error { return nil })
	fmt.Println(ok)
	// Output:
	// "id" = "c1" (name id)
	// "user\u0049ds" = ["u1"] (name userIds)
	// "count" = 3 (name count)
	// true <nil>
	// false
}

// Find follows a path of member names, one per step.
func ExampleFind() {
	body := []byte(`{"data": {"customerId": "cust-7", "tags": []}}`)
	v, ok := jsonscan.Find(body, []string{"data", "customerId"})
	fmt.Println(string(v), ok)
	s, plain := jsonscan.Plain(v)
	fmt.Println(s, plain)
	_, ok = jsonscan.Find(body, []string{"data", "missing"})
	fmt.Println(ok)
	// Output:
	// "cust-7" true
	// cust-7 true
	// false
}
