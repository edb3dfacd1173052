package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// rules is the routing rules, a plain array (not paged) that is a state as
// a whole, into dim_rule.
var rules = Def{
	Kind:     catalog.KindRules,
	Shape:    extract.Shape{Paging: extract.OneBody, Element: "rules"},
	Planning: PlanSnapshot,
	Fetch:    FetchWhole,
	Replay:   ReplayLatest,
	Lane:     LaneOther,
	Decode: elements("rules", func(src Source, e engage.Rule) ([]transform.NamedRow, error) {
		return one(transform.Rule(e))
	}, func(src Source, rows []transform.NamedRow) load.Batch { return load.RuleBatch(src.Window.From, rows) }),
}
