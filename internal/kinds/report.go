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
	Decode: func(src Source, body []byte) (Decoded, error) {
		b, warnings, err := Report(src, body)
		return Decoded{Batch: b, Rows: len(b.Rows), Warnings: warnings, Out: b.Rows}, err
	},
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
