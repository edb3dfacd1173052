// Package load writes transformed rows into the PostgreSQL warehouse.
//
// It owns the pgx pool, the embedded migrations, and the one write path of the
// pipeline: CommitWindow, which stores a window's rows, its raw payload and
// its cursor advance in a single transaction, so a crash leaves either the
// whole window or none of it. Facts are merged set-based: COPY into a
// temporary table, then INSERT ... ON CONFLICT ... WHERE ... IS DISTINCT FROM,
// so a row whose values did not change is not rewritten.
package load

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/engage-etl/engage-etl/internal/redact"
)

// Store is the warehouse.
type Store struct {
	pool  *pgxpool.Pool
	runs  *runLocks
	locks *streamLocks
}

// Open connects to the warehouse at dsn and checks the connection.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %s", ErrInvalidDSN, RedactDSN(dsn), RedactDSN(err.Error()))
	}
	// pgxpool's default (4 on two cores) is too small: the windows of many
	// streams commit at once. A pool_max_conns in the URL wins. Besides the
	// pool, a process holds two connections of its own: its runs' locks and
	// its streams' locks (runLocks, streamLocks).
	if !strings.Contains(dsn, "pool_max_conns") {
		cfg.MaxConns = max(cfg.MaxConns, 24)
	}
	// A merge's index lookups are costed per staged row, so a window of
	// some ten thousand rows passes jit_above_cost, and compiling it takes
	// longer than the merge saves. The loader's statements are many and
	// short: JIT is off for its sessions, unless the URL sets it.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", RedactDSN(dsn), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", RedactDSN(dsn), err)
	}
	return &Store{pool: pool, runs: &runLocks{cfg: cfg.ConnConfig.Copy(), held: map[int64]bool{}},
		locks: &streamLocks{cfg: cfg.ConnConfig.Copy(), held: map[lockKey]bool{}}}, nil
}

// Pool exposes the connection pool (status queries, tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close releases the pool.
func (s *Store) Close() {
	s.runs.close()
	s.locks.close()
	s.pool.Close()
}

// RedactDSN hides the password of a URL or key=value connection string, and
// any secret the configuration registered, without parsing it: a string too
// malformed to parse is the one that ends up in an error message.
func RedactDSN(dsn string) string { return redact.String(dsn) }

// ErrInvalidDSN marks a connection string that cannot be parsed: a
// configuration mistake, not a failure of the database.
var ErrInvalidDSN = errors.New("invalid database URL")

// CreateDatabaseIfMissing creates the database dsn names when the server says
// it does not exist, connecting to the server's "postgres" database to do so.
func CreateDatabaseIfMissing(ctx context.Context, dsn string) (created bool, err error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return false, fmt.Errorf("%w %s: %s", ErrInvalidDSN, RedactDSN(dsn), RedactDSN(err.Error()))
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err == nil {
		return false, conn.Close(ctx)
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
		return false, fmt.Errorf("database %s: %w", RedactDSN(dsn), err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("create database %s: %w", name, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return false, fmt.Errorf("create database %s: %w", name, err)
	}
	return true, nil
}
