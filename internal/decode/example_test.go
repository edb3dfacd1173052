package decode_test

import (
	"fmt"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// Each decodes the elements of an answer, read in the dialect's keys, into
// their engage type. Values are converted where that loses nothing: here an
// epoch-milliseconds start and a message count sent as a string.
func ExampleEach() {
	body := []byte(`[
		{"conversationId": "c1", "start": "2026-03-08T09:00:00Z", "userIds": ["u1", "u2"], "messageCount": 7},
		{"conversationId": "c2", "start": 1772960400000, "messageCount": "3"}
	]`)
	m := decode.NewRemapper(catalog.Contract(), "conversations")
	err := decode.Each(m, body, func(c engage.Conversation) error {
		fmt.Println(c.ConversationID, c.Start.UTC().Format("2006-01-02 15:04"), c.UserIDs, c.MessageCount)
		return nil
	})
	fmt.Println(err)
	// Output:
	// c1 2026-03-08 09:00 [u1 u2] 7
	// c2 2026-03-08 09:00 [] 3
	// <nil>
}

// A required field the answer does not have fails its element, naming the
// config key that maps it.
func ExampleEach_missingField() {
	m := decode.NewRemapper(catalog.Contract(), "conversations")
	err := decode.Each(m, []byte(`[{"id": "c1", "start": "2026-03-08T09:00:00Z"}]`), func(engage.Conversation) error { return nil })
	fmt.Println(err)
	// Output:
	// element 0: conversations.id: required, missing at answer key "conversationId": set api.fields.conversations.id to the key the API uses
}

// ParseDecimal keeps a report value's decimal text exactly, and refuses
// what is not a plain decimal number.
func ExampleParseDecimal() {
	for _, s := range []string{" 205 ", "-1.5e3", "NaN", "0x1f"} {
		d, err := decode.ParseDecimal(s)
		fmt.Printf("%q %v\n", d, err)
	}
	// Output:
	// "205" <nil>
	// "-1.5e3" <nil>
	// "" value "NaN" is not a decimal number
	// "" value "0x1f" is not a decimal number
}
