package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// A dirty warehouse names a command that exists: migrate force VERSION.
func TestMigrateForceRepairsADirtyWarehouse(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	env := map[string]string{"DATABASE_URL": testdb.New(t)}
	if r := cli(t, env, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate up: %+v", r)
	}
	latest := load.LatestVersion()
	// What a migration that failed half-way leaves: the version it tried, dirty.
	conn, err := pgx.Connect(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	conn.Exec(context.Background(), `UPDATE schema_migrations SET dirty = true`)
	conn.Close(context.Background())

	force := fmt.Sprintf("migrate force %d", latest-1)
	if r := cli(t, env, "status"); r.code == exitOK || !strings.Contains(r.stderr, force) {
		t.Errorf("status on a dirty warehouse: exit %d, stderr %q; want advice to run %q", r.code, r.stderr, force)
	}
	if r := cli(t, env, "migrate", "version"); !strings.Contains(r.stdout, force) {
		t.Errorf("migrate version on a dirty warehouse: %q does not advise %q", r.stdout, force)
	}
	for _, bad := range [][]string{{"force"}, {"force", "x"}, {"force", "-1"}, {"force", "999"}, {"force", "1", "2"}} {
		if r := cli(t, env, append([]string{"migrate"}, bad...)...); r.code != exitUsage {
			t.Errorf("migrate %v: exit %d, want 2", bad, r.code)
		}
	}
	if r := cli(t, env, "migrate", "force", fmt.Sprint(latest)); r.code != exitOK || !strings.Contains(r.stdout, fmt.Sprintf("at migration %d of %d\n", latest, latest)) {
		t.Errorf("migrate force %d: %+v", latest, r)
	}
	if r := cli(t, env, "migrate", "up"); r.code != exitOK || r.stderr != "" {
		t.Errorf("migrate up after force: %+v", r)
	}
}
