package load

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"
)

// StreamLock is a held lock on one tenant's stream.
type StreamLock struct {
	conn *pgxpool.Conn
}

// TryLockStream takes the session-level advisory lock of a tenant's stream
// without waiting: ok is false when another process (or run) holds it. Every
// engage-etl process sharing a warehouse takes it around each stream, so two
// daemons never load the same tenant and stream at once. The lock lives on a
// dedicated connection; if the process dies, PostgreSQL releases it.
func (s *Store) TryLockStream(ctx context.Context, tenantID, stream string) (lock *StreamLock, ok bool, err error) {
	err = retry(ctx, func() error {
		conn, err := s.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		err = conn.QueryRow(ctx, `SELECT pg_try_advisory_lock(hashtext('engage-etl:' || $1), hashtext($2))`, tenantID, stream).Scan(&ok)
		if err != nil || !ok {
			conn.Release()
			return err
		}
		lock = &StreamLock{conn: conn}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("advisory lock: %w", err)
	}
	return lock, ok, nil
}

// Release unlocks and returns the connection. If unlocking fails the
// connection is closed, which releases the lock too.
func (l *StreamLock) Release(ctx context.Context) {
	if _, err := l.conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock_all()`); err != nil {
		l.conn.Conn().Close(context.WithoutCancel(ctx))
	}
	l.conn.Release()
}

// WaitStreamUnlocked waits until no process holds the lock of a tenant's
// stream (it takes the lock and gives it back at once).
func (s *Store) WaitStreamUnlocked(ctx context.Context, tenantID, stream string) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	_, err = conn.Exec(ctx, `SELECT pg_advisory_lock(hashtext('engage-etl:' || $1), hashtext($2)),
pg_advisory_unlock(hashtext('engage-etl:' || $1), hashtext($2))`, tenantID, stream)
	return err
}

// MaxConns is the size of the store's connection pool.
func (s *Store) MaxConns() int { return int(s.pool.Config().MaxConns) }
