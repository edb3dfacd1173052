package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// cobrowse is the detail array of a window's co-browse sessions, into
// fact_cobrowse_session.
var cobrowse = Def{
	Kind:       catalog.KindCobrowse,
	FirstLoad:  FirstDetail,
	Shape:      extract.Shape{Paging: extract.OneBody, Element: "cobrowse"},
	Planning:   PlanDays,
	Fetch:      FetchWhole,
	Reconciles: cobrowsePairs,
	Capped:     true,
	Cost:       2,
	Replay:     ReplayWindows,
	Lane:       LaneOther,
	Decode: elements("cobrowse", func(src Source, e engage.CobrowseSession) ([]transform.CobrowseRow, error) {
		return one(transform.Cobrowse(src.Location, e))
	}, dayBatch(load.CobrowseBatch)),
}
