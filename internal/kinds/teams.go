package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// teams is the paged list of teams, a state as a whole, into dim_team.
var teams = Def{
	Kind:        catalog.KindTeams,
	Shape:       extract.Shape{Paging: extract.ListPages, Element: "teams"},
	Planning:    PlanSnapshot,
	Fetch:       FetchWhole,
	Replay:      ReplayLatest,
	Lane:        LaneOther,
	RequestKeys: "api.lists (page_param, size_param, first_page)",
	Decode:      pages("teams", transform.Team, snapshotBatch(load.TeamBatch)),
}
