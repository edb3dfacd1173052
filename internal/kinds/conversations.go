package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// conversations is the detail array of a window's conversations, into
// fact_conversation. Webhooks change conversations too: a rebuild replays
// them in the order they came.
var conversations = Def{
	Kind:            catalog.KindConversations,
	FirstLoad:       FirstDetail,
	Shape:           extract.Shape{Paging: extract.OneBody, Element: "conversations"},
	Planning:        PlanDays,
	Fetch:           FetchWhole,
	Reopens:         true,
	Reconciles:      conversationPairs,
	Capped:          true,
	Cost:            3, // a row per conversation
	Replay:          ReplayWindows,
	ReplaysWebhooks: true,
	Lane:            LaneConversations,
	Decode: elements("conversations", func(src Source, e engage.Conversation) ([]transform.ConversationRow, error) {
		return one(transform.Conversation(src.Location, e))
	}, dayBatch(load.ConversationBatch)),
}
