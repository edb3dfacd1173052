package pipeline

import (
	"context"
	"fmt"
	"sort"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
)

// Drift is one bucket where the warehouse and the API disagree. An empty
// API or Warehouse value means that side has no such bucket.
type Drift struct {
	Tenant, Stream, Day, Group string
	API, Warehouse             string
}

func (d Drift) String() string {
	show := func(v string) string {
		if v == "" {
			return "missing"
		}
		return v
	}
	group := d.Group
	if group == "" {
		group = "(all)"
	}
	return fmt.Sprintf("tenant %s stream %s day %s group %s: api %s, warehouse %s",
		d.Tenant, d.Stream, d.Day, group, show(d.API), show(d.Warehouse))
}

// Verify asks the API for the bucketed reports of the local days [from, to)
// again and compares every bucket with the warehouse. Values are compared as
// numbers, so "205" equals "205.0".
func (r *Runner) Verify(ctx context.Context, tenants []Tenant, streams []catalog.Stream, from, to civil.Date) ([]Drift, error) {
	var drift []Drift
	for _, t := range tenants {
		for _, s := range streams {
			def := kinds.Of(s.Kind)
			if !def.Bucketed {
				continue
			}
			api := map[string]string{}
			for _, w := range extract.Plan(from, to, s.WindowDays, t.Location) {
				var b load.ReportBatch
				src := kinds.Source{Dialect: t.dialect(), Location: t.Location, Stream: s, Window: w}
				_, err := extract.Answer(ctx, t.api(), s, def.Shape, w, func(body []byte) (err error) {
					b, _, err = kinds.Report(src, body)
					return err
				})
				if err != nil {
					return drift, fmt.Errorf("tenant %s stream %s: %w", t.ID, s.Name, err)
				}
				for _, row := range b.Rows {
					api[row.Date.String()+"\x1f"+row.GroupValue] = row.Value
				}
			}
			stored, err := r.Store.ReportValues(ctx, t.ID, s.Report, s.Metric, s.GroupBy, from, to)
			if err != nil {
				return drift, err
			}
			diff, err := r.Store.DifferentNumbers(ctx, api, stored)
			if err != nil {
				return drift, err
			}
			for _, k := range diff {
				day, group := k[:10], k[11:]
				drift = append(drift, Drift{Tenant: t.ID, Stream: s.Name, Day: day, Group: group, API: api[k], Warehouse: stored[k]})
			}
		}
	}
	sort.Slice(drift, func(i, j int) bool { return drift[i].String() < drift[j].String() })
	return drift, nil
}
