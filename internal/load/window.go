package load

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// WindowCommit is everything one window changes.
type WindowCommit struct {
	TenantKey  int
	TenantID   string
	Stream     string
	Start, End time.Time // the window's instants
	Batch      Batch
	// Raws are the answers the rows came from, kept in the same transaction;
	// none when the rows were rebuilt from raw answers already kept.
	Raws      []Raw
	AdvanceTo time.Time // new cursor watermark; zero leaves the cursor alone
	// BackfillRun, when set, records the window as finished by that backfill
	// run, in the same transaction, so a re-run can skip it.
	BackfillRun int64
	Rows        int // rows the API answered, for the backfill record
	// Lock is the stream's lock. A session lock (TryLockStream,
	// LockStreams) is checked before every try: the commit fails rather
	// than load a stream another process now holds. A TransactionLock is
	// taken first thing in the transaction, waiting while another holds it.
	Lock *StreamLock
	// Emptied, for a rebuild, are the fact tables it found without a row
	// of the tenant on its days: their batches insert their rows with a
	// plain INSERT, and merge only when a key is there already (see
	// Emptied).
	Emptied *Emptied
}

// CommitWindow writes a window's rows, raw payload and cursor advance in one
// transaction. A transient failure (a deadlock between parallel windows, the
// database restarting) is retried with the whole transaction (see retry); any
// other error rolls everything back.
func (s *Store) CommitWindow(ctx context.Context, c WindowCommit) (written int64, err error) {
	err = retry(ctx, func() (err error) {
		if err := c.Lock.held(ctx); err != nil {
			return err
		}
		var m emptiedMerge
		written, m, err = s.commitOnce(ctx, c)
		if err == nil {
			c.Emptied.committed(c.Stream, m)
		}
		return err
	})
	return written, err
}

func (s *Store) commitOnce(ctx context.Context, c WindowCommit) (int64, emptiedMerge, error) {
	var written int64
	var m emptiedMerge
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := c.Lock.lockInTx(ctx, tx); err != nil {
			return err
		}
		for _, r := range c.Raws {
			fresh, err := r.keep(ctx, tx, c.TenantID)
			if err != nil {
				return err
			}
			if !fresh {
				return ErrAlreadyKept // applied then, not again
			}
		}
		if c.Batch != nil { // none: the cursor alone moves (over windows another process committed)
			first, last := c.Batch.days()
			if err := ensureDays(ctx, tx, first, last); err != nil {
				return err
			}
			n, how, err := c.Emptied.merge(ctx, tx, c.TenantKey, c.Batch)
			m = how
			if err != nil {
				return err
			}
			written = n
		}
		if !c.AdvanceTo.IsZero() {
			if _, err := tx.Exec(ctx, advanceCursorSQL, c.TenantID, c.Stream, c.AdvanceTo); err != nil {
				return fmt.Errorf("advance cursor: %w", err)
			}
		}
		if c.BackfillRun != 0 {
			if _, err := tx.Exec(ctx, recordBackfillSQL, c.TenantID, c.Stream, c.Start, c.End, c.BackfillRun, c.Rows); err != nil {
				return fmt.Errorf("record backfill window: %w", err)
			}
		}
		return nil
	})
	return written, m, err
}

// advanceCursorSQL only ever moves a watermark forward: a backfill or a
// lookback re-read never takes the cursor back.
const advanceCursorSQL = `
INSERT INTO etl.cursor (tenant_id, stream, watermark) VALUES ($1, $2, $3)
ON CONFLICT (tenant_id, stream) DO UPDATE
SET watermark = EXCLUDED.watermark, updated_at = now()
WHERE etl.cursor.watermark < EXCLUDED.watermark`

const recordBackfillSQL = `
INSERT INTO etl.backfill_window (tenant_id, stream, window_start, window_end, run_id, rows)
VALUES ($1, $2, $3, $4, $5, $6)
ON CONFLICT (tenant_id, stream, window_start, window_end) DO UPDATE
SET run_id = EXCLUDED.run_id, rows = EXCLUDED.rows, finished_at = now()`

// ensureDaysSQL adds calendar rows a fact may need beyond the pre-filled range
// (2000-2060); inside that range it writes nothing.
const ensureDaysSQL = `
INSERT INTO engage.dim_date
SELECT to_char(d, 'YYYYMMDD')::integer, d,
       extract(year FROM d), extract(quarter FROM d), extract(month FROM d),
       trim(to_char(d, 'Month')), extract(day FROM d), extract(week FROM d),
       extract(isodow FROM d), trim(to_char(d, 'Day')), extract(isodow FROM d) >= 6
FROM generate_series($1::date, $2::date, interval '1 day') AS g(d)
WHERE NOT EXISTS (SELECT 1 FROM engage.dim_date x WHERE x.full_date = g.d::date)
ON CONFLICT DO NOTHING`

var prefilledFirst, prefilledLast = civil.Date{Year: 2000, Month: 1, Day: 1}, civil.Date{Year: 2060, Month: 12, Day: 31}

func ensureDays(ctx context.Context, tx pgx.Tx, first, last civil.Date) error {
	if first.IsZero() || (!first.Before(prefilledFirst) && !last.After(prefilledLast)) {
		return nil
	}
	if _, err := tx.Exec(ctx, ensureDaysSQL, first.String(), last.String()); err != nil {
		return fmt.Errorf("extend dim_date: %w", err)
	}
	return nil
}
