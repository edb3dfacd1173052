package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// agentTimes is a detail array of agent online or logged-in ranges (the
// stream's TimeKind), into fact_agent_time.
var agentTimes = Def{
	Kind:       catalog.KindAgentTimes,
	FirstLoad:  FirstDetail,
	Shape:      extract.Shape{Paging: extract.OneBody, Element: "agent_times"},
	Planning:   PlanDays,
	Fetch:      FetchWhole,
	Reconciles: agentTimePairs,
	Capped:     true,
	Cost:       1,
	Replay:     ReplayWindows,
	Lane:       LaneOther,
	Decode: elements("agent_times", func(src Source, e engage.AgentTimes) ([]transform.AgentTimeRow, error) {
		return transform.AgentTimeRows(src.Stream.TimeKind, src.Location, e)
	}, dayBatch(load.AgentTimeBatch)),
}
