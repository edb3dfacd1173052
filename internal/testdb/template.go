package testdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/pgx/v5" // the pgx5:// scheme
	"github.com/golang-migrate/migrate/v4/source/iofs"
	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/migrations"
)

// templatePrefix names the migrated template databases. One is kept per set
// of migrations (the name carries their hash), so later runs clone it at
// once; a template of other migrations is dropped when a new one is made.
const templatePrefix = "engage_test_template_"

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// Migrated is New with every migration applied, as 'migrate up' leaves a
// new warehouse. The database is a copy of a template migrated once per set
// of migrations: migrating costs the server about 0.7 s of work per
// database, a copy a fraction of it, and most tests need a warehouse rather
// than a migration. Tests of the migrations themselves take New.
func Migrated(t testing.TB) string {
	t.Helper()
	testServer(t)
	templateOnce.Do(func() { templateName, templateErr = migratedTemplate() })
	if templateErr != nil {
		t.Fatalf("migrated test database template: %v", templateErr)
	}
	dsn := create(t, templateName)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Migration 0006 grants the database's own BI reader role; the template
	// gave its role up, so the copy is granted its own, as migrating it would.
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "SELECT etl.grant_reader()"); err != nil {
		t.Fatalf("grant the copy's reader role: %v", err)
	}
	return dsn
}

// migratedTemplate returns the name of the template database for the
// embedded migrations, creating it when no earlier test run did. Test
// binaries of several packages race for it: a session advisory lock on the
// server's own database lets one build it while the others wait.
func migratedTemplate() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sum, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := templatePrefix + sum
	admin, err := pgx.Connect(ctx, serverDSN)
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(hashtext('engage-etl:testdb-template'))"); err != nil {
		return "", err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(hashtext('engage-etl:testdb-template'))")

	var ready bool
	err = admin.QueryRow(ctx, "SELECT datistemplate FROM pg_database WHERE datname = $1", name).Scan(&ready)
	switch {
	case err == nil && ready:
		return name, nil
	case err != nil && !errors.Is(err, pgx.ErrNoRows):
		return "", err
	}
	// Templates of other migrations, and one a killed run left half-built.
	rows, err := admin.Query(ctx, "SELECT datname FROM pg_database WHERE datname LIKE $1", templatePrefix+"%")
	if err != nil {
		return "", err
	}
	stale, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return "", err
	}
	for _, db := range stale {
		for _, stmt := range []string{
			"ALTER DATABASE " + db + " IS_TEMPLATE false",
			"DROP DATABASE " + db + " WITH (FORCE)",
			"DROP ROLE IF EXISTS " + db + "_reader",
		} {
			if _, err := admin.Exec(ctx, stmt); err != nil {
				return "", fmt.Errorf("drop stale template %s: %w", db, err)
			}
		}
	}

	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		return "", err
	}
	dsn := withDatabase(serverDSN, name)
	if err := migrateUp(dsn); err != nil {
		return "", err
	}
	// The template's reader role would be granted in every copy: give it up.
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	_, err = c.Exec(ctx, "DROP OWNED BY "+name+"_reader")
	c.Close(ctx)
	if err != nil {
		return "", err
	}
	for _, stmt := range []string{
		"DROP ROLE " + name + "_reader",
		// Marks it complete, and no session may hold it open (a copy needs that).
		"ALTER DATABASE " + name + " IS_TEMPLATE true ALLOW_CONNECTIONS false",
	} {
		if _, err := admin.Exec(ctx, stmt); err != nil {
			return "", err
		}
	}
	return name, nil
}

// migrateUp applies the embedded migrations with golang-migrate, as
// load.Store.MigrateUp does (testdb sits below load).
func migrateUp(dsn string) error {
	src, err := iofs.New(migrations.FS, ".")
	if err != nil {
		return err
	}
	_, rest, ok := strings.Cut(dsn, "://")
	if !ok {
		return fmt.Errorf("%s must be a postgres:// URL for the migrated template", EnvVar)
	}
	m, err := migrate.NewWithSourceInstance("iofs", src, "pgx5://"+rest)
	if err != nil {
		return err
	}
	defer m.Close()
	if err := m.Up(); err != nil && !errors.Is(err, migrate.ErrNoChange) {
		return fmt.Errorf("migrate the template: %w", err)
	}
	return nil
}

// migrationsHash identifies the embedded migrations by their content.
func migrationsHash() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(migrations.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(migrations.FS, path)
		fmt.Fprintf(h, "%s\x00%d\x00", path, len(b))
		h.Write(b)
		return err
	})
	return hex.EncodeToString(h.Sum(nil))[:12], err
}
