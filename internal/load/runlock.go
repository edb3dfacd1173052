package load

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
)

// Every run holds a session-level advisory lock, keyed by its id, for as
// long as it runs, on a connection of its own outside the pool. PostgreSQL
// releases the lock when that session ends for whatever reason (the process
// was killed, the host vanished, the server restarted), so any other process
// can tell a live run from an abandoned one with pg_try_advisory_lock, with
// no clock or heartbeat: that is how several daemons share a warehouse
// without marking each other's runs abandoned. Advisory locks are per
// database, and the key's first half keeps them apart from the stream locks
// (whose first half hashes 'engage-etl:' and a tenant id).
const runLockKey = `hashtext('engage-etl run'), (%s %% 2147483647)::int`

var (
	lockRunSQL   = fmt.Sprintf(`SELECT pg_try_advisory_lock(`+runLockKey+`)`, "$1::bigint")
	unlockRunSQL = fmt.Sprintf(`SELECT pg_advisory_unlock(`+runLockKey+`)`, "$1::bigint")
	startRunSQL  = fmt.Sprintf(`WITH r AS (INSERT INTO etl.run (mode, host, pid, instance) VALUES ($1, $2, $3, $4) RETURNING run_id)
SELECT run_id, pg_try_advisory_lock(`+runLockKey+`) FROM r`, "run_id")
)

// runLocks is the connection holding this process's run locks.
type runLocks struct {
	mu   sync.Mutex
	cfg  *pgx.ConnConfig
	conn *pgx.Conn
	held map[int64]bool
}

// session returns the lock connection, reconnecting when the old one is
// gone and taking this process's run locks again, so a database restart
// does not leave its live runs looking abandoned for longer than until its
// next run starts. Called with mu held.
func (l *runLocks) session(ctx context.Context) (*pgx.Conn, error) {
	if l.conn != nil && l.conn.Ping(ctx) == nil {
		return l.conn, nil
	}
	if l.conn != nil {
		l.conn.Close(ctx)
		l.conn = nil
	}
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, err
	}
	for id := range l.held {
		// A false answer means another process already marked the run abandoned
		// and still holds the lock for a moment: nothing to take back then.
		if _, err := conn.Exec(ctx, lockRunSQL, id); err != nil {
			conn.Close(ctx)
			return nil, err
		}
	}
	l.conn = conn
	return conn, nil
}

// start inserts a run and takes its lock in one statement, so no other
// process ever sees the row without its lock held.
func (l *runLocks) start(ctx context.Context, mode, host string, pid int, instance string) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	conn, err := l.session(ctx)
	if err != nil {
		return 0, fmt.Errorf("run lock connection: %w", err)
	}
	var id int64
	var locked bool
	if err := conn.QueryRow(ctx, startRunSQL, mode, host, pid, instance).Scan(&id, &locked); err != nil {
		return 0, err
	}
	if !locked {
		return id, fmt.Errorf("run %d: its advisory lock is held by another session", id)
	}
	l.held[id] = true
	return id, nil
}

// finish releases a run's lock. A lost connection released it already.
func (l *runLocks) finish(ctx context.Context, id int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.held, id)
	if l.conn != nil {
		l.conn.Exec(ctx, unlockRunSQL, id)
	}
}

func (l *runLocks) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		l.conn.Close(context.Background())
		l.conn = nil
	}
}

// abandonedError is what an abandoned stream's error column says.
const abandonedError = "abandoned: the process running it ended without recording a result (killed, or its database connection was lost)"

// ReapAbandoned marks 'running' runs whose lock no session holds, and their
// running streams, as abandoned; it returns how many runs. It runs on a pool
// connection, never on the lock connection, where this process's own locks
// would be taken again (they are re-entrant) instead of refused.
func (s *Store) ReapAbandoned(ctx context.Context) (int, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	rows, err := conn.Query(ctx, `SELECT run_id FROM etl.run WHERE status = 'running'`)
	if err != nil {
		return 0, fmt.Errorf("find abandoned runs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return 0, fmt.Errorf("find abandoned runs: %w", err)
	}
	n := 0
	for _, id := range ids {
		var free bool
		if err := conn.QueryRow(ctx, lockRunSQL, id).Scan(&free); err != nil {
			return n, fmt.Errorf("run %d: %w", id, err)
		}
		if !free {
			continue // its process is alive
		}
		_, err := conn.Exec(ctx, `
WITH r AS (UPDATE etl.run SET status = 'abandoned', finished_at = now() WHERE run_id = $1 AND status = 'running')
UPDATE etl.run_stream SET status = 'abandoned', finished_at = now(), error = COALESCE(error, $2)
WHERE run_id = $1 AND status = 'running'`, id, abandonedError)
		conn.Exec(context.WithoutCancel(ctx), unlockRunSQL, id)
		if err != nil {
			return n, fmt.Errorf("mark run %d abandoned: %w", id, err)
		}
		n++
	}
	// A stream left running in a run that did finish (its FinishStream failed).
	_, err = conn.Exec(ctx, `
UPDATE etl.run_stream rs SET status = 'abandoned', finished_at = now(), error = COALESCE(rs.error, $1)
FROM etl.run r WHERE r.run_id = rs.run_id AND rs.status = 'running' AND r.status <> 'running'`, abandonedError)
	if err != nil {
		return n, fmt.Errorf("mark streams abandoned: %w", err)
	}
	return n, nil
}
