package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

type result struct {
	code           int
	stdout, stderr string
}

func cli(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return result{code, out.String(), errOut.String()}
}

func startSim(t *testing.T) string {
	t.Helper()
	sim, err := engagesim.New(engagesim.Config{Seed: 5, Days: 5, Now: time.Now().Add(-time.Hour),
		Tenants: []engagesim.TenantConfig{{ID: "sim", Token: "right-token", Timezone: "Europe/Vienna"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return srv.URL + engagesim.Prefix
}

func count(t *testing.T, dsn, sql string) int {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrateSyncAndResync(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	env := map[string]string{
		"DATABASE_URL": testdb.New(t), "ENGAGE_BASE_URL": startSim(t), "ENGAGE_API_TOKEN": "right-token",
		"ENGAGE_TIMEZONE": "Europe/Vienna", "ENGAGE_START_DATE": time.Now().AddDate(0, 0, -4).Format("2006-01-02"),
	}
	if r := cli(t, env, "sync"); r.code != exitFailed || !strings.Contains(r.stderr, "migrate up") {
		t.Errorf("sync before migrate: exit %d, stderr %q; want 1 and advice to migrate", r.code, r.stderr)
	}
	latest := fmt.Sprintf("at migration %d of %d", load.LatestVersion(), load.LatestVersion())
	if r := cli(t, env, "migrate", "up"); r.code != exitOK || !strings.Contains(r.stdout, latest) {
		t.Fatalf("migrate up: %+v", r)
	}
	r := cli(t, env, "sync", "--streams", "agent_*")
	if r.code != exitOK {
		t.Fatalf("sync: %+v", r)
	}
	for _, s := range []string{"agent_online_time_by_agent", "agent_times_loggedin"} {
		if !strings.Contains(r.stdout, s) {
			t.Errorf("summary does not list %s:\n%s", s, r.stdout)
		}
	}
	facts := count(t, env["DATABASE_URL"], `SELECT count(*) FROM engage.fact_agent_time`)
	if facts == 0 {
		t.Fatal("sync loaded no agent times")
	}
	if r := cli(t, env, "sync", "--streams", "agent_times_online"); r.code != exitOK {
		t.Fatalf("second sync: %+v", r)
	}
	if got := count(t, env["DATABASE_URL"], `SELECT count(*) FROM engage.fact_agent_time`); got != facts {
		t.Errorf("second sync changed the row count from %d to %d", facts, got)
	}
	if r := cli(t, env, "migrate", "version"); !strings.Contains(r.stdout, latest) {
		t.Errorf("migrate version: %+v", r)
	}
}

func TestWrongTokenFailsWithOneLineAndNoFacts(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	dsn := testdb.Migrated(t)
	env := map[string]string{"DATABASE_URL": dsn, "ENGAGE_BASE_URL": startSim(t),
		"ENGAGE_API_TOKEN": "wrong-secret-token", "ENGAGE_TENANT_ID": "acme"}
	if r := cli(t, env, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	r := cli(t, env, "sync")
	if r.code == exitOK {
		t.Fatalf("sync with a wrong token exited 0")
	}
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "acme") || !strings.Contains(lines[0], "401") {
		t.Errorf("stderr = %q, want one line naming tenant acme and the 401", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "wrong-secret-token") {
		t.Error("the token was printed")
	}
	if n := count(t, dsn, `SELECT (SELECT count(*) FROM engage.fact_report_metric) + (SELECT count(*) FROM engage.fact_agent_time)`); n != 0 {
		t.Errorf("%d fact rows written with a refused token", n)
	}
	if n := count(t, dsn, `SELECT count(*) FROM etl.run_stream WHERE status = 'failed' AND error LIKE '%401%'`); n == 0 {
		t.Error("the 401 is not in etl.run_stream")
	}
	if n := count(t, dsn, `SELECT count(*) FROM etl.run_stream WHERE error LIKE '%wrong-secret-token%'`); n != 0 {
		t.Error("the token is in the run history")
	}
}

func TestBadConfigExitsTwoAndNamesTheKey(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("tenants:\n  - id: a\n    token: x\n    timezone: Europe/Viena\n"), 0o600)
	r := cli(t, nil, "sync", "--config", p)
	if r.code != exitUsage || !strings.Contains(r.stderr, "tenants[0].timezone") {
		t.Errorf("exit %d, stderr %q; want 2 naming tenants[0].timezone", r.code, r.stderr)
	}
	if r := cli(t, nil, "sync"); r.code != exitUsage || !strings.Contains(r.stderr, "ENGAGE_API_TOKEN") {
		t.Errorf("no tenant: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cli(t, map[string]string{"ENGAGE_API_TOKEN": "x"}, "sync", "--streams", "nope*"); r.code != exitUsage {
		t.Errorf("unknown stream: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := cli(t, nil, "migrate", "sideways"); r.code != exitUsage {
		t.Errorf("migrate sideways: exit %d", r.code)
	}
	if r := cli(t, nil, "frobnicate"); r.code != exitUsage {
		t.Errorf("unknown command: exit %d", r.code)
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	if r := cli(t, nil, "--help"); r.code != exitOK || !strings.Contains(r.stdout, "Commands:") {
		t.Errorf("--help: %+v", r)
	}
	for name := range commands {
		r := cli(t, nil, name, "--help")
		if r.code != exitOK || !strings.Contains(r.stdout, "Usage: engage-etl "+name) {
			t.Errorf("%s --help: exit %d, stdout %q", name, r.code, r.stdout)
		}
	}
}

func TestStreamsListsTheCatalogWithOverrides(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte("reports:\n  agent: {path: /report/agents}\n"), 0o600)
	r := cli(t, nil, "streams", "--config", p)
	if r.code != exitOK || !strings.Contains(r.stdout, "POST /report/agents") || !strings.Contains(r.stdout, "agent_times_online") {
		t.Errorf("streams: %+v", r)
	}
}

func TestBackfillStatusAndVerifyFromTheCommandLine(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	env := map[string]string{
		"DATABASE_URL": testdb.Migrated(t), "ENGAGE_BASE_URL": startSim(t), "ENGAGE_API_TOKEN": "right-token",
		"ENGAGE_TIMEZONE": "Europe/Vienna", "ENGAGE_TENANT_ID": "acme", "ENGAGE_REQUESTS_PER_SECOND": "1000",
	}
	if r := cli(t, env, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	from := time.Now().AddDate(0, 0, -4).Format("2006-01-02")
	to := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	r := cli(t, env, "backfill", "--from", from, "--to", to, "--streams", "chat_*,conversations")
	if r.code != exitOK || !strings.Contains(r.stdout, "chat_done_by_team") {
		t.Fatalf("backfill: %+v", r)
	}
	// Not a terminal: plain progress lines on stderr.
	if !strings.Contains(r.stderr, "windows") || strings.Contains(r.stderr, "\r") {
		t.Errorf("progress on a non-terminal: %q", r.stderr)
	}
	if r := cli(t, env, "backfill", "--from", from, "--to", to, "--streams", "conversations"); !strings.Contains(r.stdout, "done)") {
		t.Errorf("a second backfill should skip its windows: %s", r.stdout)
	}
	if r := cli(t, env, "status"); r.code != exitOK || !strings.Contains(r.stdout, "conversations") || !strings.Contains(r.stdout, "backfill") ||
		!regexp.MustCompile(`acme\s+conversations_by_channel\s+[1-9]\d*\s+\d+\s+0\s+-`).MatchString(r.stdout) ||
		!strings.Contains(r.stdout, "tenant acme: the API's clock is 1h0m") || !strings.Contains(r.stdout, "behind ours") {
		t.Errorf("status (with the reconciled days, and the simulator's clock an hour behind): %+v", r)
	}
	if r := cli(t, env, "verify", "--from", from, "--to", to, "--streams", "chat_*"); r.code != exitOK || !strings.Contains(r.stdout, "no drift") {
		t.Errorf("verify after backfill: %+v", r)
	}
	conn, _ := pgx.Connect(context.Background(), env["DATABASE_URL"])
	conn.Exec(context.Background(), `UPDATE engage.fact_report_metric SET value = value * 2 + 1`)
	conn.Close(context.Background())
	r = cli(t, env, "verify", "--from", from, "--to", to, "--streams", "chat_done")
	if r.code != exitFailed || !strings.Contains(r.stdout, "api ") || !strings.Contains(r.stderr, "differences") {
		t.Errorf("verify with drift: %+v", r)
	}
	// The doubled report no longer counts what the conversations are.
	r = cli(t, env, "verify", "--from", from, "--to", to, "--streams", "conversations")
	if r.code != exitFailed || !strings.Contains(r.stdout, "reconciliation: conversations: on "+from) || !strings.Contains(r.stderr, "disagree") {
		t.Errorf("verify of a detail stream its report no longer counts: %+v", r)
	}
	for _, args := range [][]string{
		{"backfill", "--from", to, "--to", from},
		{"backfill", "--from", "yesterday", "--to", to},
		{"verify", "--to", to},
	} {
		if r := cli(t, env, args...); r.code != exitUsage {
			t.Errorf("%v: exit %d, want 2 (%s)", args, r.code, r.stderr)
		}
	}
}

func TestRebuildRestoresFactsFromRaw(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	env := map[string]string{
		"DATABASE_URL": testdb.Migrated(t), "ENGAGE_BASE_URL": startSim(t), "ENGAGE_API_TOKEN": "right-token",
		"ENGAGE_TIMEZONE": "Europe/Vienna", "ENGAGE_START_DATE": time.Now().AddDate(0, 0, -4).Format("2006-01-02"),
	}
	if r := cli(t, env, "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate up: %+v", r)
	}
	if r := cli(t, env, "sync", "--streams", "agent_*,conversations"); r.code != exitOK {
		t.Fatalf("sync: %+v", r)
	}
	if r := cli(t, env, "rebuild"); r.code != exitOK || !strings.Contains(r.stdout, ": 0 warehouse rows written") {
		t.Fatalf("rebuild of an intact warehouse: %+v; want exit 0 and 0 rows written", r)
	}
	want := count(t, env["DATABASE_URL"], `SELECT count(*) FROM engage.fact_agent_time`)
	conn, err := pgx.Connect(context.Background(), env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), `DELETE FROM engage.fact_agent_time`); err != nil {
		t.Fatal(err)
	}
	// The API is gone: the rebuild must not need it.
	env["ENGAGE_BASE_URL"] = "http://127.0.0.1:1/rest/v1"
	r := cli(t, env, "rebuild", "--streams", "agent_times_*")
	if r.code != exitOK || !strings.Contains(r.stdout, "agent_times_online") {
		t.Fatalf("rebuild: %+v", r)
	}
	if got := count(t, env["DATABASE_URL"], `SELECT count(*) FROM engage.fact_agent_time`); got != want || want == 0 {
		t.Errorf("fact_agent_time after rebuild: %d rows, want %d", got, want)
	}
	if r := cli(t, env, "rebuild", "--from", "2026-01-02"); r.code != exitUsage {
		t.Errorf("rebuild with --from alone: exit %d, want %d", r.code, exitUsage)
	}
}
