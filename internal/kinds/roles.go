package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// roles is the paged list of roles, a state as a whole, into dim_role.
var roles = Def{
	Kind:        catalog.KindRoles,
	Shape:       extract.Shape{Paging: extract.ListPages, Element: "roles"},
	Planning:    PlanSnapshot,
	Fetch:       FetchWhole,
	Replay:      ReplayLatest,
	Lane:        LaneOther,
	RequestKeys: "api.lists (page_param, size_param, first_page)",
	Decode:      pages("roles", transform.Role, snapshotBatch(load.RoleBatch)),
}
