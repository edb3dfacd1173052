package load

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// WindowLimits returns, per stream of a tenant, the most local days a
// request may ask, as learned from the API (etl.window_limit).
func (s *Store) WindowLimits(ctx context.Context, tenantID string) (map[string]int, error) {
	out := map[string]int{}
	err := retry(ctx, func() error {
		rows, err := s.pool.Query(ctx, `SELECT stream, max_days FROM etl.window_limit WHERE tenant_id = $1`, tenantID)
		if err != nil {
			return err
		}
		defer rows.Close()
		clear(out)
		for rows.Next() {
			var stream string
			var days int
			if err := rows.Scan(&stream, &days); err != nil {
				return err
			}
			out[stream] = days
		}
		return rows.Err()
	})
	return out, err
}

// NoteWindowLimit remembers that a tenant's stream asks at most days a
// request, and why. A limit only ever lowers: a longer one noted later (by
// a process that had not seen the shorter) is not taken.
func (s *Store) NoteWindowLimit(ctx context.Context, tenantID, stream string, days int, reason string) error {
	return retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `
INSERT INTO etl.window_limit (tenant_id, stream, max_days, reason) VALUES ($1, $2, $3, $4)
ON CONFLICT (tenant_id, stream) DO UPDATE SET max_days = EXCLUDED.max_days, reason = EXCLUDED.reason, noted_at = now()
WHERE EXCLUDED.max_days < etl.window_limit.max_days`, tenantID, stream, days, reason)
		return err
	})
}

// SetRunEstimate keeps in the run history what a run was estimated to
// cost before it started (a JSON document, see pipeline.Estimate).
func (s *Store) SetRunEstimate(ctx context.Context, runID int64, estimate any) error {
	doc, err := json.Marshal(estimate)
	if err != nil {
		return err
	}
	return retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `UPDATE etl.run SET estimate = $2 WHERE run_id = $1`, runID, doc)
		return err
	})
}

// ReportCounts returns a tenant's values of one report metric and groupBy
// per local day [from, to), summed over the groups, when the report's kept
// answers cover every one of those days (ok); a day without a value counts
// none, as the API omits empty days.
func (s *Store) ReportCounts(ctx context.Context, tenantID, stream, report, metric, groupBy string, from, to civil.Date, loc *time.Location) (counts map[civil.Date]float64, ok bool, err error) {
	covered, err := s.Covered(ctx, tenantID, stream, from.Start(loc), to.Start(loc))
	if err != nil || len(covered) != 1 || covered[0][0].After(from.Start(loc)) || covered[0][1].Before(to.Start(loc)) {
		return nil, false, err
	}
	counts = map[civil.Date]float64{}
	err = retry(ctx, func() error {
		rows, err := s.pool.Query(ctx, `
SELECT f.date_key, sum(f.value)::float8 FROM engage.fact_report_metric f
JOIN engage.dim_metric m USING (metric_key) JOIN engage.dim_tenant t USING (tenant_key)
WHERE t.tenant_id = $1 AND m.report = $2 AND m.metric = $3 AND f.group_by = $4 AND f.date_key >= $5 AND f.date_key < $6
GROUP BY 1`, tenantID, report, metric, groupBy, from.Key(), to.Key())
		if err != nil {
			return err
		}
		defer rows.Close()
		clear(counts)
		for rows.Next() {
			var key int
			var v float64
			if err := rows.Scan(&key, &v); err != nil {
				return err
			}
			counts[civil.OfKey(key)] = v
		}
		return rows.Err()
	})
	return counts, err == nil, err
}

// LastRequests returns what the latest successful run of a tenant's stream
// asked the API (etl.run_stream.requests); ok is false when none recorded
// it. A list is read whole each time: its last run says what the next asks.
func (s *Store) LastRequests(ctx context.Context, tenantID, stream string) (requests int, ok bool, err error) {
	err = retry(ctx, func() error {
		err := s.pool.QueryRow(ctx, `
SELECT requests FROM etl.run_stream
WHERE tenant_id = $1 AND stream = $2 AND status = 'ok' AND requests IS NOT NULL AND windows_ok > 0
ORDER BY finished_at DESC LIMIT 1`, tenantID, stream).Scan(&requests)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		ok = err == nil
		return err
	})
	return requests, ok, err
}
