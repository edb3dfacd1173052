package pipeline

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// Counting a detail stream's elements before asking for them. The API
// gives most things twice: a detail answer lists the conversations (or
// visits, co-browse sessions) of its days, and a bucketed report counts
// them per day (kinds.Def.Counter, the pair reconciliation checks). A long
// load sizes its detail windows by those counts (extract.PlanCounted), and
// the estimate counts its requests by them: a handful of report requests
// say what a year of detail requests will hold.

// DefaultDetailWindowElements is how many elements a long load's detail
// request holds at most (sync.detail_window_elements): a few MiB of answer.
const DefaultDetailWindowElements = 5000

// maxWindowDays bounds any window planned by counts: window_days' range.
const maxWindowDays = 92

// dayCounts is a count per local day; a day it does not hold counts none.
type dayCounts map[civil.Date]float64

func (c dayCounts) of(d civil.Date) float64 { return c[d] }

// countsOf returns per local day [from, to) the elements a stream's kind
// holds, by the report that counts them: the warehouse's figures when the
// report's kept answers cover the range, else the API's, asked in windows
// as long as the report's; ok is false when no configured report counts
// the kind. Counts are kept a few minutes per tenant and range, so a run's
// planning and its estimate ask once.
func (r *Runner) countsOf(ctx context.Context, t Tenant, def kinds.Def, from, to civil.Date) (c dayCounts, ok bool, err error) {
	pair, ok := def.Counter()
	if !ok {
		return nil, false, nil
	}
	rs, ok := r.reportStream(pair)
	if !ok {
		return nil, false, nil
	}
	key := fmt.Sprintf("%s|%s|%s|%s", t.ID, rs.Name, from, to)
	c, err = r.counts.get(ctx, key, func(ctx context.Context) (dayCounts, error) {
		if counts, ok, err := r.Store.ReportCounts(ctx, t.ID, rs.Name, pair.Report, pair.Metric, pair.GroupBy, from, to, t.Location); err != nil || ok {
			return counts, err
		}
		return r.askCounts(ctx, t, rs, from, to)
	})
	return c, err == nil, err
}

// reportStream finds the configured report stream of a pair.
func (r *Runner) reportStream(pair kinds.Reconciliation) (catalog.Stream, bool) {
	all := r.Catalog
	if all == nil {
		all = catalog.All()
	}
	for _, s := range all {
		if s.Kind == catalog.KindReport && !s.Disabled && s.Report == pair.Report && s.Metric == pair.Metric && s.GroupBy == pair.GroupBy {
			return s, true
		}
	}
	return catalog.Stream{}, false
}

// askCounts asks the API a report over [from, to), in windows as long as
// its requests may be, and sums each day's values over its groups.
func (r *Runner) askCounts(ctx context.Context, t Tenant, rs catalog.Stream, from, to civil.Date) (dayCounts, error) {
	days, err := r.windowDays(ctx, t, rs)
	if err != nil {
		return nil, err
	}
	def := kinds.Of(rs.Kind)
	out := dayCounts{}
	for _, w := range extract.Plan(from, to, days, t.Location) {
		var d kinds.Decoded
		_, err := extract.Answer(ctx, t.api(), rs, def.Shape, w, func(body []byte) (err error) {
			d, err = def.Decode(kinds.Source{Dialect: t.dialect(), Location: t.Location, Stream: rs, Window: w}, body)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("count with %s over %s..%s: %w", rs.Name, w.From, w.To.AddDays(-1), err)
		}
		for _, row := range d.Out.([]transform.ReportRow) {
			v, err := strconv.ParseFloat(row.Value, 64)
			if err != nil {
				return nil, fmt.Errorf("count with %s: value %q of %s: %w", rs.Name, row.Value, row.Date, err)
			}
			out[row.Date] += v
		}
	}
	return out, nil
}

// countsTTL is how long counts and window limits are kept in memory.
const countsTTL = 10 * time.Minute
