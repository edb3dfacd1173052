package load

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// ReconcileQuery asks how a detail stream's rows compare with the report
// that counts the same thing, per local day of [From, To].
type ReconcileQuery struct {
	TenantKey               int
	From, To                civil.Date
	Detail                  string // (date_key, group_value, value) of the rows; $1 tenant key, $2/$3 date keys
	Report, Metric, GroupBy string
	Tolerance               float64
}

// DayCheck is one local day of a reconciliation.
type DayCheck struct {
	Day                civil.Date
	Detail, Report     float64 // the day's figures, all groups
	Groups, GroupsOff  int
	WorstGroup         string
	DetailOf, ReportOf float64 // the figures of WorstGroup
}

const reconcileSQL = `
WITH d (date_key, group_value, value) AS (%s),
r AS (
    SELECT f.date_key, f.group_value, sum(f.value) AS value
    FROM engage.fact_report_metric f JOIN engage.dim_metric m USING (metric_key)
    WHERE f.tenant_key = $1 AND m.report = $4 AND m.metric = $5 AND f.group_by = $6 AND f.date_key BETWEEN $2 AND $3
    GROUP BY 1, 2
),
j AS (
    SELECT COALESCE(d.date_key, r.date_key) AS date_key, COALESCE(d.group_value, r.group_value, '') AS group_value,
           COALESCE(d.value, 0) AS detail, COALESCE(r.value, 0) AS report
    FROM (SELECT date_key, group_value::text AS group_value, value FROM d) d
    FULL JOIN r ON r.date_key = d.date_key AND r.group_value = d.group_value
)
SELECT date_key, sum(detail)::float8, sum(report)::float8, count(*)::int,
       count(*) FILTER (WHERE abs(detail - report) > $7)::int,
       (array_agg(group_value ORDER BY abs(detail - report) DESC, group_value))[1],
       (array_agg(detail ORDER BY abs(detail - report) DESC, group_value))[1]::float8,
       (array_agg(report ORDER BY abs(detail - report) DESC, group_value))[1]::float8
FROM j GROUP BY date_key ORDER BY date_key`

// Reconcile compares, per day, what the warehouse already holds: no request.
func (s *Store) Reconcile(ctx context.Context, q ReconcileQuery) ([]DayCheck, error) {
	rows, err := s.pool.Query(ctx, fmt.Sprintf(reconcileSQL, q.Detail), q.TenantKey, q.From.Key(), q.To.Key(),
		q.Report, q.Metric, q.GroupBy, q.Tolerance)
	if err != nil {
		return nil, fmt.Errorf("reconcile with %s %s: %w", q.Report, q.Metric, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (DayCheck, error) {
		var c DayCheck
		var key int
		err := row.Scan(&key, &c.Detail, &c.Report, &c.Groups, &c.GroupsOff, &c.WorstGroup, &c.DetailOf, &c.ReportOf)
		c.Day = civil.OfKey(key)
		return c, err
	})
}

// Reconciled is a day's check as kept in etl.reconciliation.
type Reconciled struct {
	TenantID, Pair, DetailStream, ReportStream string
	Check                                      DayCheck
	Status                                     string // ok, pending, mismatch
}

// Reconciliation statuses.
const (
	ReconcileOK       = "ok"
	ReconcilePending  = "pending"
	ReconcileMismatch = "mismatch"
)

const saveReconciledSQL = `
INSERT INTO etl.reconciliation (tenant_id, pair, day, detail_stream, report_stream, detail_value, report_value,
    groups, groups_off, worst_group, status, checked_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULLIF($10, ''), $11, now())
ON CONFLICT (tenant_id, pair, day) DO UPDATE
SET detail_stream = EXCLUDED.detail_stream, report_stream = EXCLUDED.report_stream, detail_value = EXCLUDED.detail_value,
    report_value = EXCLUDED.report_value, groups = EXCLUDED.groups, groups_off = EXCLUDED.groups_off,
    worst_group = EXCLUDED.worst_group, status = EXCLUDED.status, checked_at = now()`

// SaveReconciled keeps the checks of one pair, in one transaction.
func (s *Store) SaveReconciled(ctx context.Context, checks []Reconciled) error {
	return retry(ctx, func() error {
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			for _, r := range checks {
				worst := ""
				if r.Check.GroupsOff > 0 {
					worst = r.Check.WorstGroup
				}
				if _, err := tx.Exec(ctx, saveReconciledSQL, r.TenantID, r.Pair, r.Check.Day.String(), r.DetailStream, r.ReportStream,
					r.Check.Detail, r.Check.Report, r.Check.Groups, r.Check.GroupsOff, worst, r.Status); err != nil {
					return fmt.Errorf("keep reconciliation: %w", err)
				}
			}
			return nil
		})
	})
}

// Covered returns the instants [start, end) of a tenant's stream that its
// kept answers cover, merged and in order: the days whose rows are loaded.
func (s *Store) Covered(ctx context.Context, tenantID, stream string, from, to time.Time) ([][2]time.Time, error) {
	rows, err := s.pool.Query(ctx, `
SELECT lower(r), upper(r) FROM unnest((
    SELECT range_agg(tstzrange(window_start, window_end)) FROM raw.payload
    WHERE tenant_id = $1 AND stream = $2 AND window_start < $4 AND window_end > $3)) AS r
ORDER BY 1`, tenantID, stream, from, to)
	if err != nil {
		return nil, fmt.Errorf("read what %s covers: %w", stream, err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) ([2]time.Time, error) {
		var r [2]time.Time
		return r, row.Scan(&r[0], &r[1])
	})
}

// ReconcileSummary is a tenant's pair over every day checked.
type ReconcileSummary struct {
	TenantID, Pair        string
	OK, Pending, Mismatch int
	LastOff               Reconciled // the latest day that disagrees; zero Day when none
}

// ReconcileSummaries sums etl.reconciliation per tenant and pair (status,
// the status page, /metrics).
func (s *Store) ReconcileSummaries(ctx context.Context) ([]ReconcileSummary, error) {
	rows, err := s.pool.Query(ctx, `
SELECT tenant_id, pair,
       count(*) FILTER (WHERE status = 'ok')::int, count(*) FILTER (WHERE status = 'pending')::int,
       count(*) FILTER (WHERE status = 'mismatch')::int,
       (array_agg(day ORDER BY day DESC) FILTER (WHERE status <> 'ok'))[1],
       (array_agg(detail_value::float8 ORDER BY day DESC) FILTER (WHERE status <> 'ok'))[1],
       (array_agg(report_value::float8 ORDER BY day DESC) FILTER (WHERE status <> 'ok'))[1],
       (array_agg(status ORDER BY day DESC) FILTER (WHERE status <> 'ok'))[1],
       min(detail_stream), min(report_stream)
FROM etl.reconciliation GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("read reconciliation: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (ReconcileSummary, error) {
		var r ReconcileSummary
		var day *time.Time
		var detail, report *float64
		var status *string
		err := row.Scan(&r.TenantID, &r.Pair, &r.OK, &r.Pending, &r.Mismatch, &day, &detail, &report, &status,
			&r.LastOff.DetailStream, &r.LastOff.ReportStream)
		if day != nil {
			r.LastOff.Check = DayCheck{Day: civil.Of(*day, time.UTC), Detail: *detail, Report: *report}
			r.LastOff.Status = *status
		}
		r.LastOff.TenantID, r.LastOff.Pair = r.TenantID, r.Pair
		return r, err
	})
}

// ShortDays returns the local days of [from, to) whose last check found a
// detail stream's rows fewer than its report counts (pending or mismatch):
// a cut answer the cap did not show, fetched in pieces at the next sync.
func (s *Store) ShortDays(ctx context.Context, tenantID, detailStream string, from, to civil.Date) ([]civil.Date, error) {
	rows, err := s.pool.Query(ctx, `
SELECT DISTINCT day FROM etl.reconciliation
WHERE tenant_id = $1 AND detail_stream = $2 AND status <> 'ok' AND detail_value < report_value AND day >= $3 AND day < $4
ORDER BY 1`, tenantID, detailStream, from.String(), to.String())
	if err != nil {
		return nil, fmt.Errorf("read the days short of their report: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (civil.Date, error) {
		var day time.Time
		err := row.Scan(&day)
		return civil.Of(day, time.UTC), err // a date column arrives as its UTC midnight
	})
}
