package load

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/golang-migrate/migrate/v4"
	pgxmigrate "github.com/golang-migrate/migrate/v4/database/pgx/v5"
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/engage-etl/engage-etl/migrations"
)

// Migrator applies the embedded migrations (golang-migrate, which serialises
// concurrent migrators with an advisory lock).
type Migrator struct {
	m *migrate.Migrate
}

// NewMigrator prepares migrations against the store's database.
func (s *Store) NewMigrator() (*Migrator, error) {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDBFromPool(s.pool)
	drv, err := pgxmigrate.WithInstance(db, &pgxmigrate.Config{})
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	m, err := migrate.NewWithInstance("iofs", src, "pgx5", drv)
	if err != nil {
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{m: m}, nil
}

// Up applies every pending migration. Being current already is not an error.
func (g *Migrator) Up() error {
	if err := g.m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		if v, dirty, verr := g.m.Version(); verr == nil && dirty {
			return fmt.Errorf("migrate up: %w; %s", err, DirtyAdvice(v))
		}
		return fmt.Errorf("migrate up: %w", err)
	}
	return nil
}

// Down reverts n migrations; n <= 0 reverts all.
func (g *Migrator) Down(n int) error {
	var err error
	if n <= 0 {
		err = g.m.Down()
	} else {
		err = g.m.Steps(-n)
	}
	if err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate down: %w", err)
	}
	return nil
}

// Force records version as applied and clean without running anything: the
// way out after a migration failed half-way and the database was repaired by
// hand. Version 0 means no migration.
func (g *Migrator) Force(version int) error {
	v := version
	if v == 0 {
		v = -1 // golang-migrate's "no version"
	}
	if err := g.m.Force(v); err != nil {
		return fmt.Errorf("migrate force %d: %w", version, err)
	}
	return nil
}

// Version returns the applied version (0 when none) and whether a failed
// migration left the database dirty.
func (g *Migrator) Version() (version uint, dirty bool, err error) {
	v, d, err := g.m.Version()
	if errors.Is(err, migrate.ErrNilVersion) {
		return 0, false, nil
	}
	return v, d, err
}

// Close releases the migrator's connection.
func (g *Migrator) Close() error {
	srcErr, dbErr := g.m.Close()
	return errors.Join(srcErr, dbErr)
}

// LatestVersion is the highest migration embedded in this binary.
func LatestVersion() uint {
	entries, _ := fs.ReadDir(migrations.FS, ".")
	var latest uint
	for _, e := range entries {
		n, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseUint(n, 10, 32); err == nil && uint(v) > latest {
			latest = uint(v)
		}
	}
	return latest
}

// DirtyAdvice says how to get out of a failed migration. golang-migrate runs
// each file in one transaction, so a failed one left nothing behind: the
// warehouse is at the version before.
func DirtyAdvice(version uint) string {
	return fmt.Sprintf("fix the cause, then run 'engage-etl migrate force %d' (the version before the failed one, "+
		"whose transaction was rolled back) and 'engage-etl migrate up'", max(int(version)-1, 0))
}

// MigrateUp is the common case: apply everything, then release.
func (s *Store) MigrateUp(ctx context.Context) error {
	g, err := s.NewMigrator()
	if err != nil {
		return err
	}
	defer g.Close()
	return g.Up()
}

// CheckCurrent fails with advice when the warehouse is not at this binary's
// latest migration, instead of letting the first query fail on a missing
// table. It only reads golang-migrate's version table (readiness probes call
// it often; building a migrator would create that table and take its lock).
func (s *Store) CheckCurrent(ctx context.Context) error {
	var v uint
	var dirty bool
	err := s.pool.QueryRow(ctx, `SELECT version, dirty FROM schema_migrations LIMIT 1`).Scan(&v, &dirty)
	var pgErr *pgconn.PgError
	switch {
	case errors.Is(err, pgx.ErrNoRows), errors.As(err, &pgErr) && pgErr.Code == "42P01": // no migration yet
		v, dirty = 0, false
	case err != nil:
		return fmt.Errorf("read the migration version: %w", err)
	}
	switch latest := LatestVersion(); {
	case dirty:
		return fmt.Errorf("warehouse migration %d failed half-way: %s", v, DirtyAdvice(v))
	case v < latest:
		return fmt.Errorf("warehouse is at migration %d of %d: run 'engage-etl migrate up'", v, latest)
	case v > latest:
		return fmt.Errorf("warehouse is at migration %d, newer than this binary knows (%d): upgrade engage-etl", v, latest)
	}
	return nil
}
