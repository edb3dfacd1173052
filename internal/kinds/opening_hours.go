package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// openingHours is the tenant's opening hours, a plain array (not paged)
// that is a state as a whole, into dim_opening_hours: the hours business
// time counts in (bi.conversation_response_times).
var openingHours = Def{
	Kind:     catalog.KindOpeningHours,
	Shape:    extract.Shape{Paging: extract.OneBody, Element: "opening_hours"},
	Planning: PlanSnapshot,
	Fetch:    FetchWhole,
	Replay:   ReplayLatest,
	Lane:     LaneOther,
	Decode: elements("opening_hours", func(src Source, e engage.OpeningHours) ([]transform.OpeningHoursRow, error) {
		return one(transform.OpeningHours(e))
	}, func(src Source, rows []transform.OpeningHoursRow) load.Batch {
		return load.OpeningHoursBatch(src.Window.From, rows)
	}),
}

// slaRules is the tenant's SLA rules, a plain array that is a state as a
// whole, into dim_sla_rule: the targets bi.service_level counts against.
// A rule's place in the list is kept: the first matching rule applies.
var slaRules = Def{
	Kind:     catalog.KindSLARules,
	Shape:    extract.Shape{Paging: extract.OneBody, Element: "sla_rules"},
	Planning: PlanSnapshot,
	Fetch:    FetchWhole,
	Replay:   ReplayLatest,
	Lane:     LaneOther,
	Decode: func(src Source, body []byte) (Decoded, error) {
		position := 0
		return elements("sla_rules", func(src Source, e engage.SLARule) ([]transform.SLARuleRow, error) {
			position++
			return one(transform.SLARule(e, position-1))
		}, func(src Source, rows []transform.SLARuleRow) load.Batch {
			return load.SLARuleBatch(src.Window.From, rows)
		})(src, body)
	},
}
