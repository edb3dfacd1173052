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
	"fmt"
	"net/url"
	"regexp"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is the warehouse.
type Store struct {
	pool *pgxpool.Pool
}

// Open connects to the warehouse at dsn and checks the connection.
func Open(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("database URL %s: %w", RedactDSN(dsn), err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database %s: %w", RedactDSN(dsn), err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database %s: %w", RedactDSN(dsn), err)
	}
	return &Store{pool: pool}, nil
}

// Pool exposes the connection pool (status queries, tests).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Close releases the pool.
func (s *Store) Close() { s.pool.Close() }

var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)`)

// RedactDSN hides the password of a URL or key=value connection string.
func RedactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		q := u.Query()
		if q.Has("password") {
			q.Set("password", "xxxxx")
			u.RawQuery = q.Encode()
		}
		return u.Redacted()
	}
	return kvPassword.ReplaceAllString(dsn, "${1}xxxxx")
}
