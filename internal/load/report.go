package load

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// ReportBatch replaces one (metric, groupBy) window of fact_report_metric: a
// group that vanished from the API's answer is deleted, a changed value is
// updated, an unchanged one is left alone.
type ReportBatch struct {
	Report, Metric, GroupBy string
	Unit, Aggregation       string
	From, To                civil.Date // local days [From, To) the answer covers
	Rows                    []transform.ReportRow

	only func(civil.Date) bool // the days of [From, To) it replaces; nil: all (see OnlyDays)
}

// replaced lists the date keys whose rows the batch replaces.
func (b ReportBatch) replaced() []int {
	var keys []int
	for d := b.From; d.Before(b.To); d = d.AddDays(1) {
		if b.only == nil || b.only(d) {
			keys = append(keys, d.Key())
		}
	}
	return keys
}

func (b ReportBatch) days() (civil.Date, civil.Date) { return b.From, b.To.AddDays(-1) }

func (b ReportBatch) merge(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
	metricKey, err := ensureMetric(ctx, tx, b.Report, b.Metric, b.Unit, b.Aggregation)
	if err != nil {
		return 0, err
	}
	if err := stage(ctx, tx, "stage_report", reportColumns, len(b.Rows), func(i int) []any {
		r := b.Rows[i]
		return []any{r.Date.Key(), r.GroupValue, r.Value}
	}); err != nil {
		return 0, err
	}
	del, err := tx.Exec(ctx, deleteVanishedReportSQL, tenantKey, metricKey, b.GroupBy, b.replaced())
	if err != nil {
		return 0, fmt.Errorf("delete vanished report rows: %w", err)
	}
	up, err := tx.Exec(ctx, mergeReportSQL, tenantKey, metricKey, b.GroupBy)
	if err != nil {
		return 0, fmt.Errorf("merge report rows: %w", err)
	}
	return del.RowsAffected() + up.RowsAffected(), nil
}

var reportColumns = []column{{"date_key", "integer"}, {"group_value", "text"}, {"value", "numeric"}}

const deleteVanishedReportSQL = `
DELETE FROM engage.fact_report_metric f
WHERE f.tenant_key = $1 AND f.metric_key = $2 AND f.group_by = $3
  AND f.date_key = ANY ($4::integer[])
  AND NOT EXISTS (SELECT 1 FROM stage_report s
                  WHERE s.date_key = f.date_key AND s.group_value = f.group_value)`

const mergeReportSQL = `
INSERT INTO engage.fact_report_metric AS f (tenant_key, metric_key, group_by, date_key, group_value, value)
SELECT DISTINCT ON (date_key, group_value) $1::integer, $2::integer, $3::text, date_key, group_value, value
FROM stage_report
ORDER BY date_key, group_value
ON CONFLICT (tenant_key, metric_key, group_by, date_key, group_value) DO UPDATE
SET value = EXCLUDED.value, loaded_at = now()
WHERE f.value IS DISTINCT FROM EXCLUDED.value`

const ensureMetricSQL = `
INSERT INTO engage.dim_metric (report, metric, unit, aggregation) VALUES ($1, $2, $3, $4)
ON CONFLICT (report, metric) DO UPDATE SET unit = EXCLUDED.unit, aggregation = EXCLUDED.aggregation
WHERE (dim_metric.unit, dim_metric.aggregation) IS DISTINCT FROM (EXCLUDED.unit, EXCLUDED.aggregation)`

func ensureMetric(ctx context.Context, tx pgx.Tx, report, metric, unit, aggregation string) (int, error) {
	if _, err := tx.Exec(ctx, ensureMetricSQL, report, metric, unit, aggregation); err != nil {
		return 0, fmt.Errorf("dim_metric %s/%s: %w", report, metric, err)
	}
	var key int
	err := tx.QueryRow(ctx, `SELECT metric_key FROM engage.dim_metric WHERE report = $1 AND metric = $2`, report, metric).Scan(&key)
	return key, err
}
