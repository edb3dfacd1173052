package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// visits is the detail array of a window's visits, into fact_visit.
var visits = Def{
	Kind:       catalog.KindVisits,
	FirstLoad:  FirstDetail,
	Shape:      extract.Shape{Paging: extract.OneBody, Element: "visits"},
	Planning:   PlanDays,
	Fetch:      FetchWhole,
	Reconciles: visitPairs,
	Capped:     true,
	Cost:       3, // a row per visit
	Replay:     ReplayWindows,
	Lane:       LaneOther,
	Decode: elements("visits", func(src Source, e engage.Visit) ([]transform.VisitRow, error) {
		return one(transform.Visit(src.Location, e))
	}, dayBatch(load.VisitBatch)),
}
