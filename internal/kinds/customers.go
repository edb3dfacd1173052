package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// customers is the paged list of customers, a state as a whole, into
// dim_customer.
var customers = Def{
	Kind:        catalog.KindCustomers,
	Shape:       extract.Shape{Paging: extract.ListPages, Element: "customers"},
	Planning:    PlanSnapshot,
	Fetch:       FetchWhole,
	Cost:        2,
	Replay:      ReplayLatest,
	Lane:        LaneOther,
	RequestKeys: "api.lists (page_param, size_param, first_page)",
	Decode: pages("customers", transform.Customer, func(src Source, rows []transform.CustomerRow) load.Batch {
		return load.CustomerBatch(src.Window.From, rows)
	}),
}
