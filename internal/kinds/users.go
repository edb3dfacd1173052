package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// users is the paged list of users (CONTRACT.md §5), into dim_agent: each
// list read is a version of the agents, so a rebuild replays every one.
var users = Def{
	Kind:        catalog.KindUsers,
	Shape:       extract.Shape{Paging: extract.ListPages, Element: "users"},
	Planning:    PlanSnapshot,
	Fetch:       FetchWhole,
	Replay:      ReplayEvery,
	Lane:        LaneOther,
	RequestKeys: "api.lists (page_param, size_param, first_page)",
	Decode:      pages("users", transform.User, snapshotBatch(load.UserBatch)),
}
