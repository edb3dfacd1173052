package transform

import (
	"errors"
	"fmt"
	"sort"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// ErrDayOutside is a report answer holding a day the request did not ask
// for: the API buckets days in another time zone than the tenant's.
var ErrDayOutside = errors.New("the API answered another day than asked (is the tenant's timezone the API's?)")

// ReportRow is one bucket of a bucketed report: fact_report_metric's grain
// within one (tenant, metric, groupBy).
type ReportRow struct {
	Date       civil.Date
	GroupValue string // "" when the report is not grouped
	Value      string // decimal text, exactly as sent
}

// ReportRows flattens a report answer for the local days [from, to). Without a
// groupBy the inner key must be the metric name (CONTRACT.md §3). Rows come
// sorted by day and group.
func ReportRows(metric, groupBy string, from, to civil.Date, resp engage.ReportResponse) ([]ReportRow, error) {
	var rows []ReportRow
	for dayKey, groups := range resp.Results {
		if len(dayKey) > len("2006/01/02") {
			return nil, fmt.Errorf("report day key %s: %w", decode.Quote(dayKey), &decode.BoundError{Msg: fmt.Sprintf("%d bytes where a day yyyy/MM/dd is 10", len(dayKey))})
		}
		day, err := civil.ParseSlash(dayKey)
		if err != nil {
			return nil, fmt.Errorf("report day key: %w", err)
		}
		if day.Before(from) || !day.Before(to) {
			return nil, fmt.Errorf("%w: report day %s is outside the requested days %s..%s", ErrDayOutside, day, from, to.AddDays(-1))
		}
		for group, value := range groups {
			if len(group) > catalog.MaxStringLen {
				return nil, fmt.Errorf("report group key %s on %s: %w", decode.Quote(group), day, &decode.BoundError{Msg: fmt.Sprintf("%d bytes, more than the %d a group may have", len(group), catalog.MaxStringLen)})
			}
			if groupBy == "" {
				if group != metric {
					return nil, fmt.Errorf("ungrouped report for %s answered key %q on %s", metric, group, day)
				}
				group = ""
			} else if group == "" {
				return nil, fmt.Errorf("empty %s group on %s", groupBy, day)
			}
			rows = append(rows, ReportRow{Date: day, GroupValue: group, Value: string(value)})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if c := rows[i].Date.Compare(rows[j].Date); c != 0 {
			return c < 0
		}
		return rows[i].GroupValue < rows[j].GroupValue
	})
	return rows, nil
}
