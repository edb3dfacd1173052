package load

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The advisory lock of a tenant's stream ($1 tenant id, $2 stream), one key
// for every process that loads a warehouse: spelt once here.
const (
	streamLockKey         = `hashtext('engage-etl:' || $1), hashtext($2)`
	tryLockStreamSQL      = `SELECT pg_try_advisory_lock(` + streamLockKey + `)`
	waitStreamUnlockedSQL = `SELECT pg_advisory_lock(` + streamLockKey + `), pg_advisory_unlock(` + streamLockKey + `)`
)

// StreamLock is a held lock on one tenant's stream.
type StreamLock struct {
	store            *Store
	tenantID, stream string

	mu   sync.Mutex
	conn *pgxpool.Conn
}

// ErrLockLost means the stream's lock went with its session (the database
// restarted) and another process has taken it since: this one must stop
// loading the stream.
var ErrLockLost = errors.New("the stream's lock was lost and another process holds it now")

// held makes sure the lock is still held before a commit: a session lock
// goes with its session, so after the database restarted it is taken again
// on a new connection, unless another process took it meanwhile.
func (l *StreamLock) held(ctx context.Context) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		if l.conn.Ping(ctx) == nil {
			return nil
		}
		l.conn.Conn().Close(context.WithoutCancel(ctx))
		l.conn.Release()
		l.conn = nil
	}
	again, ok, err := l.store.TryLockStream(ctx, l.tenantID, l.stream)
	switch {
	case err != nil:
		return err
	case !ok:
		return ErrLockLost
	}
	l.conn = again.conn
	return nil
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
		err = conn.QueryRow(ctx, tryLockStreamSQL, tenantID, stream).Scan(&ok)
		if err != nil || !ok {
			conn.Release()
			return err
		}
		lock = &StreamLock{store: s, tenantID: tenantID, stream: stream, conn: conn}
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
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return // lost, and not taken again
	}
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
	_, err = conn.Exec(ctx, waitStreamUnlockedSQL, tenantID, stream)
	return err
}

// MaxConns is the size of the store's connection pool.
func (s *Store) MaxConns() int { return int(s.pool.Config().MaxConns) }
