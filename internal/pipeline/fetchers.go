package pipeline

import (
	"context"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// fetched is one window, extracted and transformed, ready to commit.
type fetched struct {
	raw       []byte
	fetchedAt time.Time
	batch     load.Batch
	received  int
}

// fetcher extracts and transforms one window of a stream of its Kind.
type fetcher func(ctx context.Context, t Tenant, s catalog.Stream, w extract.Window) (fetched, error)

// fetchers has one entry per catalog.Kind: the only per-kind code of the runner.
var fetchers = map[catalog.Kind]fetcher{
	catalog.KindReport:     fetchReport,
	catalog.KindAgentTimes: fetchAgentTimes,
}

func fetchReport(ctx context.Context, t Tenant, s catalog.Stream, w extract.Window) (fetched, error) {
	resp, raw, err := extract.Report(ctx, t.Client, s, w)
	if err != nil {
		return fetched{}, err
	}
	rows, err := transform.ReportRows(s.Metric, s.GroupBy, w.From, w.To, resp)
	if err != nil {
		return fetched{}, err
	}
	return fetched{
		raw: raw, fetchedAt: time.Now(), received: len(rows),
		batch: load.ReportBatch{
			Report: s.Report, Metric: s.Metric, GroupBy: s.GroupBy,
			Unit: string(s.Unit), Aggregation: s.Unit.Aggregation(),
			From: w.From, To: w.To, Rows: rows,
		},
	}, nil
}

func fetchAgentTimes(ctx context.Context, t Tenant, s catalog.Stream, w extract.Window) (fetched, error) {
	var rows []transform.AgentTimeRow
	raw, err := extract.Array(ctx, t.Client, s, w, func() { rows = rows[:0] }, func(e engage.AgentTimes) error {
		r, err := transform.AgentTimeRows(s.TimeKind, t.Location, e)
		rows = append(rows, r...)
		return err
	})
	if err != nil {
		return fetched{}, err
	}
	return fetched{
		raw: raw, fetchedAt: time.Now(), received: len(rows),
		batch: load.AgentTimeBatch{From: w.From, To: w.To, Rows: rows},
	}, nil
}
