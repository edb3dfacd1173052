package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// report is a bucketed report (CONTRACT.md §3): one metric, one groupBy,
// values per local day, into fact_report_metric.
var report = Def{
	Kind:     catalog.KindReport,
	Shape:    extract.Shape{Paging: extract.OneBody, Element: "reports"},
	Planning: PlanDays,
	Fetch:    FetchWhole,
	Replay:   ReplayWindows,
	Lane:     LaneOther,
	Bucketed: true,
	Join:     joinReports,
	Decode: func(src Source, body []byte) (Decoded, error) {
		b, warnings, err := Report(src, body)
		return Decoded{Batch: b, Rows: len(b.Rows), Warnings: warnings, Out: b.Rows}, err
	},
}

// joinReports makes a window's batch of its pieces' batches, oldest first:
// the window's days hold every piece's values.
func joinReports(parts []Decoded) Decoded {
	joined := parts[0].Batch.(load.ReportBatch)
	joined.Rows = nil
	var out Decoded
	seen := map[string]int{} // a field is missing from the window if no piece had it
	for _, p := range parts {
		b := p.Batch.(load.ReportBatch)
		joined.Rows = append(joined.Rows, b.Rows...)
		joined.To = b.To
		for _, w := range p.Warnings {
			if seen[w]++; seen[w] == len(parts) {
				out.Warnings = append(out.Warnings, w)
			}
		}
	}
	out.Batch, out.Rows, out.Out = joined, len(joined.Rows), joined.Rows
	return out
}

// Report reads a bucketed report answer into its batch, whose rows verify
// compares with the warehouse.
func Report(src Source, body []byte) (load.ReportBatch, []string, error) {
	s, w := src.Stream, src.Window
	resp, warnings, err := decode.Object[engage.ReportResponse](src.Dialect, "reports", body)
	if err != nil {
		return load.ReportBatch{}, nil, err
	}
	rows, err := transform.ReportRows(s.Metric, s.GroupBy, w.From, w.To, resp)
	if err != nil {
		return load.ReportBatch{}, nil, err
	}
	return load.ReportBatch{
		Report: s.Report, Metric: s.Metric, GroupBy: s.GroupBy, Unit: string(s.Unit), Aggregation: s.Unit.Aggregation(),
		From: w.From, To: w.To, Rows: rows,
	}, warnings, nil
}
