package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// conversationAgents is the detail array of the agents each conversation
// had, into fact_conversation_agent.
var conversationAgents = Def{
	Kind:       catalog.KindConversationAgents,
	FirstLoad:  FirstDetail,
	Shape:      extract.Shape{Paging: extract.OneBody, Element: "conversation_agents"},
	Planning:   PlanDays,
	Fetch:      FetchWhole,
	Reopens:    true,
	Reconciles: conversationAgentPairs,
	Capped:     true,
	Cost:       3, // a row per conversation and agent
	Replay:     ReplayWindows,
	Lane:       LaneOther,
	Decode: elements("conversation_agents", func(src Source, e engage.ConversationAgent) ([]transform.ConversationAgentRow, error) {
		return one(transform.ConversationAgent(e))
	}, dayBatch(load.ConversationAgentBatch)),
}
