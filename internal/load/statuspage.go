package load

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// RunSummary is one run of etl.run with its streams added up: a line of the
// daemon's status page.
type RunSummary struct {
	RunID         int64
	Mode          string
	Instance      string
	StartedAt     time.Time
	FinishedAt    time.Time // zero: still running, or the process died
	Status        string
	Streams       int
	FailedStreams int
	RowsReceived  int64
}

const recentRunsSQL = `
SELECT r.run_id, r.mode, r.instance, r.started_at, r.finished_at, r.status,
       count(rs.stream)::int, count(rs.stream) FILTER (WHERE rs.status = 'failed')::int,
       COALESCE(sum(rs.rows_received), 0)::bigint
FROM (SELECT * FROM etl.run ORDER BY run_id DESC LIMIT $1) r
LEFT JOIN etl.run_stream rs USING (run_id)
GROUP BY r.run_id, r.mode, r.instance, r.started_at, r.finished_at, r.status
ORDER BY r.run_id DESC`

// RecentRuns returns the last limit runs, newest first.
func (s *Store) RecentRuns(ctx context.Context, limit int) ([]RunSummary, error) {
	rows, err := s.pool.Query(ctx, recentRunsSQL, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunSummary
	for rows.Next() {
		var r RunSummary
		var finished *time.Time
		if err := rows.Scan(&r.RunID, &r.Mode, &r.Instance, &r.StartedAt, &finished, &r.Status,
			&r.Streams, &r.FailedStreams, &r.RowsReceived); err != nil {
			return nil, err
		}
		if finished != nil {
			r.FinishedAt = *finished
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Running is a stream a process is loading now.
type Running struct {
	TenantID, Stream, Instance, Mode string
	StartedAt                        time.Time
}

// RunningStreams lists what every live process is loading now, by instance
// (ReapAbandoned marks the runs of processes that are gone first).
func (s *Store) RunningStreams(ctx context.Context) ([]Running, error) {
	rows, err := s.pool.Query(ctx, `
SELECT rs.tenant_id, rs.stream, r.instance, r.mode, rs.started_at
FROM etl.run_stream rs JOIN etl.run r USING (run_id)
WHERE rs.status = 'running' AND r.status = 'running'
ORDER BY r.instance, rs.tenant_id, rs.stream`)
	if err != nil {
		return nil, fmt.Errorf("read the running streams: %w", err)
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Running])
}
