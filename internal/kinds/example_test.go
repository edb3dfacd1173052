package kinds_test

import (
	"fmt"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
)

// A kind's definition says how its answers come and decodes them into the
// rows of its table, whoever brought the answer.
func ExampleDecode() {
	var conversations catalog.Stream
	for _, s := range catalog.All() {
		if s.Name == "conversations" {
			conversations = s
		}
	}
	day := civil.Date{Year: 2026, Month: 11, Day: 2}
	src := kinds.Source{
		Dialect: catalog.Contract(), Location: time.UTC, Stream: conversations,
		Window: extract.Plan(day, day.AddDays(1), 1, time.UTC)[0],
	}
	def := kinds.Of(conversations.Kind)
	fmt.Println(def.Shape.Paging == extract.OneBody, def.Planning == kinds.PlanDays, def.Fetch == kinds.FetchWhole)

	d, err := kinds.Decode(src, []byte(`[{"conversationId":"c1","customerId":"k1","start":"2026-11-02T09:00:00Z","messageCount":"3"}]`))
	fmt.Println(d.Rows, err)
	fmt.Println(d.Warnings[0]) // an optional field no element had: a mapping to check
	// Output:
	// true true true
	// 1 <nil>
	// api.fields.conversations.agent_message_count: no element had the answer key "agentMessageCount"
}
