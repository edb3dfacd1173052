package deploy_test

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/testdb"
	"github.com/engage-etl/engage-etl/internal/testtool"
)

// TestMetabaseInitMakesAReadOnlyLogin runs the compose stack's init script
// against a migrated warehouse: the login it makes reads bi and engage and
// nothing else, and a second run changes nothing.
func TestMetabaseInitMakesAReadOnlyLogin(t *testing.T) {
	testtool.Need(t, "psql", "apt-get install postgresql-client")
	ctx := context.Background()
	dsn := testdb.Migrated(t)
	store, err := load.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if err := store.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	db := strings.TrimPrefix(u.Path, "/")
	// The reader role is <database>_reader; before that migration it was
	// engage_reader for every database.
	reader := db + "_reader"
	var exists bool
	store.Pool().QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = $1)`, reader).Scan(&exists)
	if !exists {
		reader = "engage_reader"
	}
	login := fmt.Sprintf("mb_test_%d", time.Now().UnixNano())
	t.Cleanup(func() { store.Pool().Exec(ctx, fmt.Sprintf(`DROP ROLE IF EXISTS %q`, login)) })
	pass, _ := u.User.Password()
	env := append(os.Environ(), "PGHOST="+u.Hostname(), "PGPORT="+u.Port(), "PGUSER="+u.User.Username(), "PGPASSWORD="+pass,
		"PGDATABASE="+db, "METABASE_USER="+login, "METABASE_PASSWORD=s3cret", "READER_ROLE="+reader, "WAIT_TRIES=3")
	for i := 0; i < 2; i++ {
		cmd := exec.Command("sh", "compose/metabase-init.sh")
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "is in role "+reader) || strings.Contains(string(out), "s3cret") {
			t.Fatalf("run %d: %v\n%s", i+1, err, out)
		}
	}

	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.User, cfg.Password = login, "s3cret"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatalf("connect as %s: %v", login, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `SELECT count(*) FROM bi.report_metric`); err != nil {
		t.Errorf("the login cannot read bi: %v", err)
	}
	for _, sql := range []string{`SELECT count(*) FROM etl.cursor`, `SELECT count(*) FROM raw.payload`, `DELETE FROM engage.dim_metric`} {
		if _, err := conn.Exec(ctx, sql); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as the metabase login: %v, want permission denied", sql, err)
		}
	}

	// Without the role, the script gives up with a message, not a hang.
	cmd := exec.Command("sh", "compose/metabase-init.sh")
	cmd.Env = append(env, "READER_ROLE=no_such_reader", "WAIT_TRIES=1")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "has the engage-etl daemon migrated") {
		t.Errorf("without the reader role: %v\n%s", err, out)
	}
}
