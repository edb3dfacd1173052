package load

import (
	"context"
	"errors"
	"os"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/redact"
)

// Cursor returns a stream's watermark, or the zero time when it has none.
func (s *Store) Cursor(ctx context.Context, tenantID, stream string) (time.Time, error) {
	var w time.Time
	err := retry(ctx, func() error {
		return s.pool.QueryRow(ctx, `SELECT watermark FROM etl.cursor WHERE tenant_id = $1 AND stream = $2`, tenantID, stream).Scan(&w)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, nil
	}
	return w, err
}

// FinishedBackfillWindows returns the windows earlier runs (a backfill's,
// a long sync's, any process's) finished for a tenant's stream, by their
// start and end in Unix milliseconds, with when they finished.
func (s *Store) FinishedBackfillWindows(ctx context.Context, tenantID, stream string) (map[[2]int64]time.Time, error) {
	var done map[[2]int64]time.Time
	err := retry(ctx, func() error {
		rows, err := s.pool.Query(ctx, `SELECT window_start, window_end, finished_at FROM etl.backfill_window WHERE tenant_id = $1 AND stream = $2`, tenantID, stream)
		if err != nil {
			return err
		}
		defer rows.Close()
		done = map[[2]int64]time.Time{}
		for rows.Next() {
			var a, b, at time.Time
			if err := rows.Scan(&a, &b, &at); err != nil {
				return err
			}
			done[[2]int64{a.UnixMilli(), b.UnixMilli()}] = at
		}
		return rows.Err()
	})
	return done, err
}

// LastAttemptOK reports whether the latest recorded attempt at a tenant's
// stream (its etl.run_stream row of the latest run) succeeded; true when none
// is recorded. A row still "running" is not ok: asked under the stream's lock,
// its process died before recording a result.
func (s *Store) LastAttemptOK(ctx context.Context, tenantID, stream string) (bool, error) {
	status := "ok"
	err := retry(ctx, func() error {
		return s.pool.QueryRow(ctx, lastAttemptSQL, tenantID, stream).Scan(&status)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return true, nil
	}
	return status == "ok", err
}

// FinishedSince lists those of a tenant's streams that a run of another
// process than instance finished loading, successfully, after since: work
// a daemon taking over the streams another held need not do again.
func (s *Store) FinishedSince(ctx context.Context, instance, tenantID string, streams []string, since time.Time) ([]string, error) {
	var out []string
	err := retry(ctx, func() error {
		rows, err := s.pool.Query(ctx, `SELECT DISTINCT stream FROM etl.run_stream
WHERE tenant_id = $1 AND stream = ANY($2) AND finished_at > $3 AND status = 'ok'
  AND EXISTS (SELECT 1 FROM etl.run r WHERE r.run_id = run_stream.run_id AND r.instance <> $4)`, tenantID, streams, since, instance)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return out, err
}

// lastAttemptSQL lets PostgreSQL walk the primary key (run_id first)
// backwards: it reads the rows of the runs since the stream's latest one,
// which for a list loaded within sync.list_refresh are few.
const lastAttemptSQL = `
SELECT status FROM etl.run_stream WHERE tenant_id = $1 AND stream = $2
ORDER BY run_id DESC LIMIT 1`

// StartRun records a new run by the named process instance and returns its
// id. The run holds an advisory lock until FinishRun (see runLockKey); runs
// of processes that died without finishing are marked abandoned first.
func (s *Store) StartRun(ctx context.Context, mode, instance string) (int64, error) {
	if _, err := s.ReapAbandoned(ctx); err != nil {
		return 0, err
	}
	host, _ := os.Hostname()
	return s.runs.start(ctx, mode, host, os.Getpid(), instance)
}

// FinishRun closes a run as ok or failed, and releases its lock. It records
// the result even if another process marked the run abandoned meanwhile
// (its lock connection was cut but the run went on): the result is the truth.
func (s *Store) FinishRun(ctx context.Context, runID int64, ok bool) error {
	err := retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `UPDATE etl.run SET finished_at = now(), status = $2 WHERE run_id = $1`, runID, status(ok))
		return err
	})
	s.runs.finish(ctx, runID)
	return err
}

// StreamRun is the outcome of one tenant and stream within a run.
type StreamRun struct {
	RunID         int64
	TenantID      string
	Stream        string
	WindowsTotal  int
	WindowsOK     int
	WindowsFailed int
	WindowsSkip   int // already done: finished by an earlier backfill, or a list loaded recently (sync.list_refresh)
	RowsReceived  int64
	RowsWritten   int64
	CursorBefore  time.Time
	CursorAfter   time.Time
	Warnings      []string // mapped answer fields no element had
	Requests      int64    // sent to the API, retries included
	Err           error
}

// StartStream records that a stream began, or a later round of it (the
// round's end records the figures of all its rounds).
func (s *Store) StartStream(ctx context.Context, r StreamRun) error {
	return retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `
INSERT INTO etl.run_stream (run_id, tenant_id, stream, windows_total, cursor_before)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (run_id, tenant_id, stream) DO UPDATE SET status = 'running', finished_at = NULL`, r.RunID, r.TenantID, r.Stream, r.WindowsTotal, nullTime(r.CursorBefore))
		return err
	})
}

// FinishStream records a stream's outcome. It uses its own short context so a
// cancelled run still gets its history written.
func (s *Store) FinishStream(r StreamRun) error {
	ctx, cancel := context.WithTimeout(context.Background(), TransientFor+10*time.Second)
	defer cancel()
	var msg *string
	if r.Err != nil {
		m := redact.String(r.Err.Error()) // the run history is read by people too
		msg = &m
	}
	return retry(ctx, func() error {
		_, err := s.pool.Exec(ctx, `
UPDATE etl.run_stream
SET finished_at = now(), status = $4, windows_total = $5, windows_ok = $6, windows_failed = $7,
    rows_received = $8, rows_written = $9, cursor_after = $10, error = $11, windows_skipped = $12, warnings = $13, requests = $14
WHERE run_id = $1 AND tenant_id = $2 AND stream = $3`,
			r.RunID, r.TenantID, r.Stream, status(r.Err == nil), r.WindowsTotal, r.WindowsOK, r.WindowsFailed,
			r.RowsReceived, r.RowsWritten, nullTime(r.CursorAfter), msg, r.WindowsSkip, nonNilStrings(r.Warnings), r.Requests)
		return err
	})
}

func status(ok bool) string {
	if ok {
		return "ok"
	}
	return "failed"
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
