package load

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The advisory lock of a tenant's stream ($1 tenant id, $2 stream), one key
// for every process that loads a warehouse: spelt once here. A session lock
// (a sync's, a rebuild's) and a transaction lock (a webhook commit's) on the
// same key exclude each other.
const (
	streamLockKey         = `hashtext('engage-etl:' || $1), hashtext($2)`
	tryLockStreamSQL      = `SELECT pg_try_advisory_lock(` + streamLockKey + `)`
	waitStreamUnlockedSQL = `SELECT pg_advisory_lock(` + streamLockKey + `), pg_advisory_unlock(` + streamLockKey + `)`
	txLockStreamSQL       = `SELECT pg_advisory_xact_lock(` + streamLockKey + `)`
)

// StreamLock is a held lock on some of one tenant's streams: every commit
// of those streams passes it (WindowCommit.Lock).
type StreamLock struct {
	store    *Store
	tenantID string
	streams  []string
	// inTx: the lock is taken by each commit inside its transaction,
	// waiting for whoever holds it (see TransactionLock); no connection
	// holds it in between.
	inTx bool

	mu   sync.Mutex
	conn *pgxpool.Conn
}

// TransactionLock is the lock of a tenant's stream as a write that is one
// short transaction takes it (a webhook delivery): each commit takes it
// inside its transaction (pg_advisory_xact_lock), waiting, for as long as
// its context allows, while another process holds it (a rebuild replaying
// the stream), and the transaction's end releases it.
func TransactionLock(tenantID, stream string) *StreamLock {
	return &StreamLock{tenantID: tenantID, streams: []string{stream}, inTx: true}
}

// lockInTx takes a transaction lock in the commit's transaction.
func (l *StreamLock) lockInTx(ctx context.Context, tx pgx.Tx) error {
	if l == nil || !l.inTx {
		return nil
	}
	if _, err := tx.Exec(ctx, txLockStreamSQL, l.tenantID, l.streams[0]); err != nil {
		return fmt.Errorf("lock stream %s: %w", l.streams[0], err)
	}
	return nil
}

// ErrLockLost means the stream's lock went with its session (the database
// restarted) and another process has taken it since: this one must stop
// loading the stream.
var ErrLockLost = errors.New("the stream's lock was lost and another process holds it now")

// held makes sure the lock is still held before a commit: a session lock
// goes with its session, so after the database restarted it is taken again
// on a new connection, unless another process took it meanwhile.
func (l *StreamLock) held(ctx context.Context) error {
	if l == nil || l.inTx {
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
	again, busy, err := l.store.LockStreams(ctx, l.tenantID, l.streams)
	switch {
	case err != nil:
		return err
	case len(busy) > 0:
		again.Release(ctx)
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
		lock = &StreamLock{store: s, tenantID: tenantID, streams: []string{stream}, conn: conn}
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
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return // lost and not taken again, released already, or a TransactionLock
	}
	if _, err := l.conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock_all()`); err != nil {
		l.conn.Conn().Close(context.WithoutCancel(ctx))
	}
	l.conn.Release()
	l.conn = nil // released: a second Release does nothing
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

// LockStreams takes, on one connection, the advisory locks of those of a
// tenant's streams no other process is loading (see TryLockStream); busy
// lists the others. The lock holds the streams it took, and takes them all
// again after the database restarted (see held).
func (s *Store) LockStreams(ctx context.Context, tenantID string, streams []string) (lock *StreamLock, busy []string, err error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, nil, err
	}
	lock = &StreamLock{store: s, tenantID: tenantID, conn: conn}
	for _, st := range streams {
		ok, err := lock.TryAdd(ctx, st)
		if err != nil {
			lock.Release(ctx)
			return nil, nil, err
		}
		if !ok {
			busy = append(busy, st)
		}
	}
	return lock, busy, nil
}

// TryAdd takes the lock of one more of the tenant's streams on the lock's
// connection, without waiting: ok is false when another process holds it.
func (l *StreamLock) TryAdd(ctx context.Context, stream string) (ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil {
		return false, ErrLockLost
	}
	if err := l.conn.QueryRow(ctx, tryLockStreamSQL, l.tenantID, stream).Scan(&ok); err != nil {
		return false, fmt.Errorf("advisory lock: %w", err)
	}
	if ok {
		l.streams = append(l.streams, stream)
	}
	return ok, nil
}
