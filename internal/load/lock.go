package load

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// The advisory lock of a tenant's stream ($1 tenant id, $2 stream), one key
// for every process that loads a warehouse: spelt once here. A session lock
// (a sync's, a rebuild's) and a transaction lock (a webhook commit's) on the
// same key exclude each other.
const (
	streamLockKey    = `hashtext('engage-etl:' || $1), hashtext($2)`
	tryLockStreamSQL = `SELECT pg_try_advisory_lock(` + streamLockKey + `)`
	txLockStreamSQL  = `SELECT pg_advisory_xact_lock(` + streamLockKey + `)`
)

// StreamLock is a held lock on some of one tenant's streams: every commit
// of those streams passes it (WindowCommit.Lock). A session lock lives on
// the process's stream-lock connection (streamLocks), which holds every
// stream lock the process holds.
type StreamLock struct {
	store    *Store
	tenantID string
	// inTx: the lock is taken by each commit inside its transaction,
	// waiting for whoever holds it (see TransactionLock); no connection
	// holds it in between.
	inTx bool

	mu       sync.Mutex
	streams  []string
	released bool
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
// goes with its session, so after the database restarted the process's
// stream locks are taken again on a new connection, and a stream another
// process took meanwhile is lost.
func (l *StreamLock) held(ctx context.Context) error {
	if l == nil || l.inTx {
		return nil
	}
	l.mu.Lock()
	streams, released := slices.Clone(l.streams), l.released
	l.mu.Unlock()
	if released {
		return ErrLockLost
	}
	return l.store.locks.check(ctx, l.tenantID, streams)
}

// TryLockStream takes the session-level advisory lock of a tenant's stream
// without waiting: ok is false when another process, or another run of this
// one, holds it. Every engage-etl process sharing a warehouse takes it
// around each stream, so two daemons never load the same tenant and stream
// at once. The lock lives on the process's stream-lock connection; if the
// process dies, PostgreSQL releases it.
func (s *Store) TryLockStream(ctx context.Context, tenantID, stream string) (lock *StreamLock, ok bool, err error) {
	lock = &StreamLock{store: s, tenantID: tenantID}
	if ok, err = lock.TryAdd(ctx, stream); err != nil || !ok {
		return nil, false, err
	}
	return lock, true, nil
}

// Release unlocks the lock's streams. A second Release does nothing.
func (l *StreamLock) Release(ctx context.Context) {
	if l == nil || l.inTx {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return
	}
	l.store.locks.unlock(context.WithoutCancel(ctx), l.tenantID, l.streams)
	l.released, l.streams = true, nil
}

// WaitStreamUnlocked waits until no process, this one included, holds the
// lock of a tenant's stream. It looks every so often (up to a second), on
// the stream-lock connection, rather than wait on a pool connection: a
// daemon's pool full of such waits could not commit the streams another
// daemon waits for in turn.
func (s *Store) WaitStreamUnlocked(ctx context.Context, tenantID, stream string) error {
	pause := 20 * time.Millisecond
	for {
		if !s.locks.holds(tenantID, stream) {
			busy, err := s.HeldElsewhere(ctx, tenantID, []string{stream})
			if err != nil || len(busy) == 0 {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
}

// MaxConns is the size of the store's connection pool.
func (s *Store) MaxConns() int { return int(s.pool.Config().MaxConns) }

// LockStreams takes the advisory locks of those of a tenant's streams no
// other process is loading (see TryLockStream); busy lists the others. The
// lock holds the streams it took.
func (s *Store) LockStreams(ctx context.Context, tenantID string, streams []string) (lock *StreamLock, busy []string, err error) {
	lock = &StreamLock{store: s, tenantID: tenantID}
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

// TryAdd takes the lock of one more of the tenant's streams, without
// waiting: ok is false when another process holds it.
func (l *StreamLock) TryAdd(ctx context.Context, stream string) (ok bool, err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.released {
		return false, ErrLockLost
	}
	if ok, err = l.store.locks.try(ctx, l.tenantID, stream); ok {
		l.streams = append(l.streams, stream)
	}
	return ok, err
}

// HeldElsewhere lists those of a tenant's streams whose lock another
// process holds now (it tries each lock and gives it back at once); a
// stream this process holds is not listed.
func (s *Store) HeldElsewhere(ctx context.Context, tenantID string, streams []string) ([]string, error) {
	var out []string
	for _, st := range streams {
		l := s.locks
		if l.holds(tenantID, st) {
			continue
		}
		ok, err := l.try(ctx, tenantID, st)
		if err != nil {
			return nil, err
		}
		if !ok {
			out = append(out, st)
			continue
		}
		l.unlock(ctx, tenantID, []string{st})
	}
	return out, nil
}

// streamLocks is the connection holding every stream lock of this process,
// outside the pool: however many tenants and streams a daemon loads, their
// locks cost one connection (a connection each made a fleet of tenants
// need hundreds). Statements on it are short and one at a time.
type streamLocks struct {
	mu   sync.Mutex
	cfg  *pgx.ConnConfig
	conn *pgx.Conn
	held map[lockKey]bool
}

type lockKey struct{ tenant, stream string }

// session returns the lock connection, reconnecting when the old one is
// gone (the database restarted) and taking every held lock again; a lock
// another process took meanwhile is lost. Called with mu held.
func (l *streamLocks) session(ctx context.Context) (*pgx.Conn, error) {
	if l.conn != nil && l.conn.Ping(ctx) == nil {
		return l.conn, nil
	}
	if l.conn != nil {
		l.conn.Close(ctx)
		l.conn = nil
	}
	var conn *pgx.Conn
	err := retry(ctx, func() (err error) {
		conn, err = pgx.ConnectConfig(ctx, l.cfg)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("stream lock connection: %w", err)
	}
	for k := range l.held {
		var ok bool
		if err := conn.QueryRow(ctx, tryLockStreamSQL, k.tenant, k.stream).Scan(&ok); err != nil {
			conn.Close(ctx)
			return nil, fmt.Errorf("advisory lock: %w", err)
		}
		if !ok { // taken by another process while the session was gone
			delete(l.held, k)
		}
	}
	l.conn = conn
	return conn, nil
}

// holds reports whether this process holds a stream's lock.
func (l *streamLocks) holds(tenant, stream string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.held[lockKey{tenant, stream}]
}

// try takes a stream's lock: false when this process or another holds it.
func (l *streamLocks) try(ctx context.Context, tenant, stream string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := lockKey{tenant, stream}
	if l.held[k] {
		return false, nil // another run of this process: the session would take it again
	}
	// The database may restart between the session's ping and the lock:
	// the connection is dropped and the next try makes it again (taking
	// every held lock again), as the commits' retries do.
	var ok bool
	err := retry(ctx, func() error {
		conn, err := l.session(ctx)
		if err != nil {
			return err
		}
		if err := conn.QueryRow(ctx, tryLockStreamSQL, tenant, stream).Scan(&ok); err != nil {
			conn.Close(ctx)
			l.conn = nil
			return fmt.Errorf("advisory lock: %w", err)
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	if ok {
		l.held[k] = true
	}
	return ok, nil
}

// check fails with ErrLockLost when one of streams is no longer held.
func (l *streamLocks) check(ctx context.Context, tenant string, streams []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.session(ctx); err != nil {
		return err
	}
	for _, st := range streams {
		if !l.held[lockKey{tenant, st}] {
			return ErrLockLost
		}
	}
	return nil
}

// unlock gives back streams' locks. Should unlocking fail, the connection
// is closed, which releases every lock of the process; the next use takes
// the others again.
func (l *streamLocks) unlock(ctx context.Context, tenant string, streams []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, st := range streams {
		k := lockKey{tenant, st}
		if !l.held[k] {
			continue
		}
		delete(l.held, k)
		if l.conn == nil {
			continue
		}
		if _, err := l.conn.Exec(ctx, `SELECT pg_advisory_unlock(`+streamLockKey+`)`, tenant, st); err != nil {
			l.conn.Close(ctx)
			l.conn = nil
		}
	}
}

func (l *streamLocks) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn != nil {
		l.conn.Close(context.Background())
		l.conn = nil
	}
}
