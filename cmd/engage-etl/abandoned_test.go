package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/testdb"
)

// A sync killed with SIGKILL cannot record its end: the next command that
// records runs or shows the status marks its run and streams abandoned,
// instead of leaving them 'running' forever.
func TestKilledRunIsMarkedAbandoned(t *testing.T) {
	dsn := testdb.Migrated(t)
	env := map[string]string{"DATABASE_URL": dsn, "ENGAGE_BASE_URL": startSim(t), "ENGAGE_API_TOKEN": "right-token",
		"ENGAGE_TENANT_ID": "acme", "ENGAGE_TIMEZONE": "Europe/Vienna", "ENGAGE_REQUESTS_PER_SECOND": "2",
		"ENGAGE_START_DATE": time.Now().AddDate(0, 0, -4).Format("2006-01-02")}
	if r := cli(t, env, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := mainCommand(t, ctx, env, "sync")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for count(t, dsn, `SELECT count(*) FROM etl.run_stream WHERE status = 'running'`) == 0 {
		if ctx.Err() != nil {
			t.Fatal("the sync never started a stream")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL: nothing is recorded
	cmd.Wait()
	if n := count(t, dsn, `SELECT count(*) FROM etl.run WHERE status = 'running'`); n != 1 {
		t.Fatalf("%d running runs after the kill, want the killed one", n)
	}

	r := cli(t, env, "status")
	if r.code != exitOK || !strings.Contains(r.stdout, "abandoned") {
		t.Errorf("status after a kill: exit %d, stdout:\n%s\nwant a stream shown as abandoned", r.code, r.stdout)
	}
	if n := count(t, dsn, `SELECT count(*) FROM etl.run WHERE status = 'abandoned' AND finished_at IS NOT NULL`); n != 1 {
		t.Errorf("%d abandoned runs, want 1", n)
	}
	if r := cli(t, env, "sync", "--streams", "chat_done_by_team"); r.code != exitOK {
		t.Fatalf("sync after the kill: %+v", r)
	}
	if n := count(t, dsn, `SELECT count(*) FROM etl.run_stream WHERE status = 'running'`); n != 0 {
		t.Errorf("%d streams still running", n)
	}
	if n := count(t, dsn, `SELECT count(*) FROM etl.run WHERE status = 'ok'`); n != 1 {
		t.Errorf("%d ok runs, want the sync after the kill", n)
	}
}
