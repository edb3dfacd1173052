package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// realtime is a snapshot of realtime figures, taken at each sync at the
// window's end, into fact_realtime_snapshot.
var realtime = Def{
	Kind:     catalog.KindRealtime,
	Shape:    extract.Shape{Paging: extract.OneBody, Element: "realtime"},
	Planning: PlanSnapshot,
	Fetch:    FetchWhole,
	Replay:   ReplayEvery,
	Lane:     LaneOther,
	Moment:   true,
	Decode: func(src Source, body []byte) (Decoded, error) {
		resp, warnings, err := decode.Object[engage.RealtimeResponse](src.Dialect, "realtime", body)
		if err != nil {
			return Decoded{}, err
		}
		rows := transform.Realtime(resp)
		return Decoded{Batch: load.RealtimeBatch(src.Window.End, src.Location, rows), Rows: len(rows), Warnings: warnings, Out: rows}, nil
	},
}
