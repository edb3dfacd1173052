package kinds

import (
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// activity is an activity log (CONTRACT.md §6), paged newest first back to
// the window's start and committed in chunks, into fact_activity_event.
var activity = Def{
	Kind:        catalog.KindActivity,
	FirstLoad:   FirstDetail,
	Shape:       extract.Shape{Paging: extract.LogPages, Element: "activity"},
	Planning:    PlanSince,
	Fetch:       FetchChunked,
	Cost:        4, // read whole, page by page
	Replay:      ReplayEvery,
	Lane:        LaneActivity,
	RequestKeys: "api.activity (page_param, size_param, first_page, sort)",
	APIClock:    true,
	Decode:      decodeActivity,
}

// decodeActivity reads pages of an activity log: the events since the
// window's start, each once although paging may have served it twice.
func decodeActivity(src Source, body []byte) (Decoded, error) {
	m := decode.NewRemapper(src.Dialect, "activity")
	seen := map[string]bool{}
	var rows []transform.ActivityRow
	var newest time.Time
	err := eachPage(m, body, src.Dialect.Activity.Items, func(e engage.ActivityEvent) error {
		if e.Timestamp.Before(src.Window.Start) || seen[e.ID] {
			return nil
		}
		seen[e.ID] = true
		if e.Timestamp.After(newest) {
			newest = e.Timestamp
		}
		row, err := transform.Activity(src.Stream.Log, src.Location, e)
		rows = append(rows, row)
		return err
	})
	if err != nil {
		return Decoded{}, err
	}
	return Decoded{Batch: load.ActivityBatch(src.Window.From, src.Window.To, rows), Rows: len(rows), Newest: newest,
		Warnings: m.Missing(), Out: rows}, nil
}
