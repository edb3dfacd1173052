package load

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// ReportValues returns a report stream's warehouse values over local days
// [from, to), keyed by "YYYY-MM-DD\x1fgroup" (the unit separator, which no day or group holds).
func (s *Store) ReportValues(ctx context.Context, tenantID, report, metric, groupBy string, from, to civil.Date) (map[string]string, error) {
	rows, err := s.pool.Query(ctx, `
SELECT d.full_date::text || chr(31) || f.group_value, f.value::text
FROM engage.fact_report_metric f
JOIN engage.dim_tenant t ON t.tenant_key = f.tenant_key
JOIN engage.dim_metric m ON m.metric_key = f.metric_key
JOIN engage.dim_date d ON d.date_key = f.date_key
WHERE t.tenant_id = $1 AND m.report = $2 AND m.metric = $3 AND f.group_by = $4
  AND f.date_key >= $5 AND f.date_key < $6`, tenantID, report, metric, groupBy, from.Key(), to.Key())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, rows.Err()
}

// DifferentNumbers returns the keys whose values differ as numbers (or exist on
// one side only). PostgreSQL compares them, so "205" and "205.0" are equal
// exactly as numeric columns store them.
func (s *Store) DifferentNumbers(ctx context.Context, a, b map[string]string) ([]string, error) {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var ks, av, bv []string
	for k := range keys {
		ks = append(ks, k)
		av = append(av, a[k])
		bv = append(bv, b[k])
	}
	rows, err := s.pool.Query(ctx, `
SELECT k FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, a, b)
WHERE NULLIF(a, '')::numeric IS DISTINCT FROM NULLIF(b, '')::numeric`, ks, av, bv)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var diff []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		diff = append(diff, k)
	}
	return diff, rows.Err()
}

// StreamStatus is where a tenant's stream stands.
type StreamStatus struct {
	TenantID, Stream string
	Cursor           time.Time // zero: never loaded
	LastRunAt        time.Time // zero: never run
	LastStatus       string
	LastError        string
	LastRows         int64
	LastMode         string
	LastWarnings     []string // mapped answer fields the last run never saw
	// LastOKSync is when the latest successful sync of the stream started:
	// it read everything up to then.
	LastOKSync time.Time
}

// ReadThrough is the moment up to which the stream is known to be read:
// the later of its cursor and its last successful sync's start. An activity
// log's cursor is the API's newest event (kinds.Def.APIClock), which a
// quiet log leaves behind while every sync reads it up to date; lag is
// measured from this.
func (s StreamStatus) ReadThrough() time.Time {
	if s.LastOKSync.After(s.Cursor) {
		return s.LastOKSync
	}
	return s.Cursor
}

// Status lists every tenant and stream that has a cursor or a run.
func (s *Store) Status(ctx context.Context) ([]StreamStatus, error) {
	rows, err := s.pool.Query(ctx, `
WITH last AS (
    SELECT DISTINCT ON (rs.tenant_id, rs.stream) rs.tenant_id, rs.stream, rs.started_at, rs.status,
           COALESCE(rs.error, '') AS error, rs.rows_received, r.mode, rs.warnings
    FROM etl.run_stream rs JOIN etl.run r USING (run_id)
    ORDER BY rs.tenant_id, rs.stream, rs.started_at DESC
),
ok_sync AS (
    SELECT rs.tenant_id, rs.stream, max(rs.started_at) AS started_at
    FROM etl.run_stream rs JOIN etl.run r USING (run_id)
    WHERE rs.status = 'ok' AND r.mode = 'sync'
    GROUP BY 1, 2
)
SELECT COALESCE(c.tenant_id, l.tenant_id), COALESCE(c.stream, l.stream), c.watermark,
       l.started_at, COALESCE(l.status, ''), COALESCE(l.error, ''), COALESCE(l.rows_received, 0), COALESCE(l.mode, ''),
       COALESCE(l.warnings, '{}'), o.started_at
FROM etl.cursor c FULL JOIN last l ON l.tenant_id = c.tenant_id AND l.stream = c.stream
LEFT JOIN ok_sync o ON o.tenant_id = COALESCE(c.tenant_id, l.tenant_id) AND o.stream = COALESCE(c.stream, l.stream)
ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StreamStatus
	for rows.Next() {
		var st StreamStatus
		var cursor, last, okSync *time.Time
		if err := rows.Scan(&st.TenantID, &st.Stream, &cursor, &last, &st.LastStatus, &st.LastError, &st.LastRows, &st.LastMode, &st.LastWarnings, &okSync); err != nil {
			return nil, err
		}
		if okSync != nil {
			st.LastOKSync = *okSync
		}
		if cursor != nil {
			st.Cursor = *cursor
		}
		if last != nil {
			st.LastRunAt = *last
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// OpenDays returns the tenant's local days in [from, to) that hold a
// conversation the warehouse has as open (no end yet), oldest first.
func (s *Store) OpenDays(ctx context.Context, tenantID string, from, to civil.Date) ([]civil.Date, error) {
	rows, err := s.pool.Query(ctx, `
SELECT DISTINCT f.date_key FROM engage.fact_conversation f JOIN engage.dim_tenant t USING (tenant_key)
WHERE t.tenant_id = $1 AND f.ended_at IS NULL AND f.date_key >= $2 AND f.date_key < $3
ORDER BY 1`, tenantID, from.Key(), to.Key())
	if err != nil {
		return nil, fmt.Errorf("read the days with open conversations: %w", err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[int])
	days := make([]civil.Date, len(keys))
	for i, k := range keys {
		days[i] = civil.OfKey(k)
	}
	return days, err
}

// ChangedConversations returns which of the conversations (id -> the API's
// message count) hold a different number of messages in the warehouse: the
// ones whose messages must be fetched again. The warehouse's count is the
// one of the conversation's messages answer kept in raw (committed with its
// rows, in the same transaction): one row per conversation on the primary
// key, where counting fact_message read a heap page per message (a
// second per window of an hourly sync). A message a webhook added since
// makes the API's count higher: the conversation is fetched again.
//
// The ids are joined as a set (unnest) rather than filtered with
// "= ANY ($2)": with a few thousand ids the planner scans every answer of
// the tenant and tests each against the whole array (1.8 s a week's window
// of an hourly sync on a year's warehouse, against 0.1 s by the key).
func (s *Store) ChangedConversations(ctx context.Context, tenantID string, counts map[string]int) (map[string]bool, error) {
	ids := make([]string, 0, len(counts))
	for id := range counts {
		ids = append(ids, id)
	}
	var stored map[string]int
	err := retry(ctx, func() error {
		rows, err := s.pool.Query(ctx, `
SELECT m.conversation_id, m.message_count
FROM unnest($2::text[]) AS u(id)
JOIN raw.conversation_messages m ON m.tenant_id = $1 AND m.conversation_id = u.id`, tenantID, ids)
		if err != nil {
			return err
		}
		defer rows.Close()
		stored = map[string]int{}
		for rows.Next() {
			var id string
			var n int
			if err := rows.Scan(&id, &n); err != nil {
				return err
			}
			stored[id] = n
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	changed := map[string]bool{}
	for id, n := range counts {
		if stored[id] != n {
			changed[id] = true
		}
	}
	return changed, nil
}

// APIClock is how far a tenant's API clock was from ours.
type APIClock struct {
	TenantID   string
	Skew       time.Duration // the API's clock minus ours
	ObservedAt time.Time
}

// SaveAPIClock keeps a tenant's latest clock skew.
func (s *Store) SaveAPIClock(ctx context.Context, c APIClock) error {
	return retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `
INSERT INTO etl.api_clock (tenant_id, skew_ms, observed_at) VALUES ($1, $2, $3)
ON CONFLICT (tenant_id) DO UPDATE SET skew_ms = EXCLUDED.skew_ms, observed_at = EXCLUDED.observed_at`,
			c.TenantID, c.Skew.Milliseconds(), c.ObservedAt)
		return err
	})
}

// APIClocks lists every tenant's latest clock skew.
func (s *Store) APIClocks(ctx context.Context) ([]APIClock, error) {
	rows, err := s.pool.Query(ctx, `SELECT tenant_id, skew_ms, observed_at FROM etl.api_clock ORDER BY tenant_id`)
	if err != nil {
		return nil, fmt.Errorf("read the API clocks: %w", err)
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (APIClock, error) {
		var c APIClock
		var ms int64
		err := row.Scan(&c.TenantID, &ms, &c.ObservedAt)
		c.Skew = time.Duration(ms) * time.Millisecond
		return c, err
	})
}
