package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// TestMain lets the test binary act as engage-etl itself, so a test can run
// the real command in a child process and kill it.
func TestMain(m *testing.M) {
	if args := os.Getenv("ENGAGE_ETL_TEST_RUN_MAIN"); args != "" {
		os.Exit(runMain(strings.Split(args, "\x1f")))
	}
	os.Exit(m.Run())
}

// halfWrittenWindows checks every committed window against the simulator's
// ground truth: a window is all there or not at all. windowsSQL lists the
// committed windows as (stream, start, end): a backfill records them in
// etl.backfill_window, every window stores its payload in raw.payload, both
// in the window's own transaction.
func halfWrittenWindows(t *testing.T, dsn, windowsSQL string, sim *engagesim.Server, loc *time.Location) (checked int, bad []string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	byName := map[string]catalog.Stream{}
	for _, s := range catalog.All() {
		byName[s.Name] = s
	}
	rows, err := conn.Query(ctx, windowsSQL)
	if err != nil {
		t.Fatal(err)
	}
	type win struct {
		stream     string
		start, end time.Time
	}
	var wins []win
	for rows.Next() {
		var w win
		rows.Scan(&w.stream, &w.start, &w.end)
		wins = append(wins, w)
	}
	rows.Close()
	// Rows a finished window must hold, per kind, counted by the tenant-local
	// days [$1, $2) of the window.
	counts := map[catalog.Kind]func(s catalog.Stream) (string, []any){
		catalog.KindReport: func(s catalog.Stream) (string, []any) {
			return `SELECT count(*) FROM engage.fact_report_metric f JOIN engage.dim_metric m USING (metric_key)
WHERE f.date_key >= $1 AND f.date_key < $2 AND m.report = $3 AND m.metric = $4 AND f.group_by = $5`, []any{s.Report, s.Metric, s.GroupBy}
		},
		catalog.KindConversations: func(catalog.Stream) (string, []any) {
			return `SELECT count(*) FROM engage.fact_conversation WHERE date_key >= $1 AND date_key < $2`, nil
		},
		catalog.KindVisits: func(catalog.Stream) (string, []any) {
			return `SELECT count(*) FROM engage.fact_visit WHERE date_key >= $1 AND date_key < $2`, nil
		},
		catalog.KindCobrowse: func(catalog.Stream) (string, []any) {
			return `SELECT count(*) FROM engage.fact_cobrowse_session WHERE date_key >= $1 AND date_key < $2`, nil
		},
		catalog.KindAgentTimes: func(s catalog.Stream) (string, []any) {
			return `SELECT count(*) FROM engage.fact_agent_time WHERE date_key >= $1 AND date_key < $2 AND kind = $3`, []any{s.TimeKind}
		},
	}
	for _, w := range wins {
		s := byName[w.stream]
		count, ok := counts[s.Kind]
		if !ok {
			continue
		}
		from, to := civil.Of(w.start, loc), civil.Of(w.end, loc)
		truth, err := sim.Truth("acme", s.Name, from, to)
		if err != nil {
			t.Fatal(err)
		}
		q, extra := count(s)
		args := append([]any{from.Key(), to.Key()}, extra...)
		var n int
		if err := conn.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != truth.Rows {
			bad = append(bad, fmt.Sprintf("%s %s..%s: %d rows, want %d", s.Name, from, to, n, truth.Rows))
		}
		checked++
	}
	return checked, bad
}

func TestBackfillKilledFiveTimesEqualsACleanRun(t *testing.T) {
	sim, err := engagesim.New(engagesim.Config{Seed: 3, Days: 14, Now: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC),
		Scale: 60, Tenants: []engagesim.TenantConfig{{ID: "acme", Token: "tok", Timezone: "Europe/Vienna"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	loc, _ := time.LoadLocation("Europe/Vienna")
	env := func(dsn string) map[string]string {
		return map[string]string{"DATABASE_URL": dsn, "ENGAGE_BASE_URL": srv.URL + engagesim.Prefix,
			"ENGAGE_API_TOKEN": "tok", "ENGAGE_TENANT_ID": "acme", "ENGAGE_TIMEZONE": "Europe/Vienna",
			"ENGAGE_REQUESTS_PER_SECOND": "1000"}
	}
	backfill := []string{"backfill", "--from", "2026-10-21", "--to", "2026-11-04"}

	clean := testdb.Migrated(t)
	if r := cli(t, env(clean), "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	if r := cli(t, env(clean), backfill...); r.code != exitOK {
		t.Fatalf("clean backfill: %s", r.stderr)
	}
	want := testdb.Checksums(t, clean)
	const finishedWindows = `SELECT count(*) FROM etl.backfill_window`
	whole := count(t, clean, finishedWindows)

	killed := testdb.Migrated(t)
	if r := cli(t, env(killed), "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	// Each kill lands once the killed warehouse holds a number of finished
	// windows drawn below what a whole run finishes, each more than the
	// last: every kill is mid-run, and each resumed run has windows left.
	targets := killTargets(t, 5, whole)
	interrupted := 0
	for i, target := range targets {
		cmd := mainCommand(t, context.Background(), env(killed), backfill...)
		running, reached := killOnceCommitted(t, cmd, killed, finishedWindows, target)
		if running {
			interrupted++
		}
		checked, bad := halfWrittenWindows(t, killed, `SELECT stream, window_start, window_end FROM etl.backfill_window`, sim, loc)
		if len(bad) > 0 {
			t.Fatalf("after kill %d at %d of %d finished windows: half-written windows: %v", i+1, reached, whole, bad)
		}
		t.Logf("kill %d at %d of %d finished windows: %d checked whole", i+1, reached, whole, checked)
	}
	if interrupted < 3 {
		t.Errorf("only %d of 5 kills interrupted a running backfill", interrupted)
	}
	if r := cli(t, env(killed), backfill...); r.code != exitOK {
		t.Fatalf("resumed backfill: %s", r.stderr)
	}
	if diff := cmp.Diff(want, testdb.Checksums(t, killed)); diff != "" {
		t.Errorf("killed and resumed warehouse differs from a clean one (-clean +killed):\n%s", diff)
	}
}

// TestChunkedActivityKilledBetweenChunksLosesAndDuplicatesNothing kills a
// backfill of the activity logs, committed in 64 KiB chunks, at random
// moments: the resumed backfill equals a clean one, and no raw row is
// bigger than a chunk and a page.
func TestChunkedActivityKilledBetweenChunksLosesAndDuplicatesNothing(t *testing.T) {
	sim, err := engagesim.New(engagesim.Config{Seed: 4, Days: 14, Now: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC),
		Scale: 60, Latency: 2 * time.Millisecond, Tenants: []engagesim.TenantConfig{{ID: "acme", Token: "tok", Timezone: "Europe/Vienna"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "chunks.yaml")
	if err := os.WriteFile(cfg, []byte("sync:\n  chunk_bytes: 65536\napi:\n  activity: {page_size: 200}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(dsn string) map[string]string {
		return map[string]string{"DATABASE_URL": dsn, "ENGAGE_BASE_URL": srv.URL + engagesim.Prefix,
			"ENGAGE_API_TOKEN": "tok", "ENGAGE_TENANT_ID": "acme", "ENGAGE_TIMEZONE": "Europe/Vienna",
			"ENGAGE_REQUESTS_PER_SECOND": "1000", "ENGAGE_START_DATE": "2026-10-21"}
	}
	backfill := []string{"backfill", "--config", cfg, "--from", "2026-10-21", "--to", "2026-11-04", "--streams", "activity_*"}
	clean := testdb.Migrated(t)
	if r := cli(t, env(clean), "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	if r := cli(t, env(clean), backfill...); r.code != exitOK {
		t.Fatalf("clean backfill: %s", r.stderr)
	}
	const chunkRows = `SELECT count(*) FROM raw.payload WHERE stream LIKE 'activity%'`
	whole := count(t, clean, chunkRows)

	killed := testdb.Migrated(t)
	if r := cli(t, env(killed), "migrate", "up"); r.code != exitOK {
		t.Fatalf("migrate: %+v", r)
	}
	// Each kill lands once more chunks are committed than before it (a
	// resumed run commits a window's chunks again from its first), below
	// what a whole run commits: between two chunks of a window.
	interrupted := 0
	for i, target := range killTargets(t, 4, whole) {
		cmd := mainCommand(t, context.Background(), env(killed), backfill...)
		running, reached := killOnceCommitted(t, cmd, killed, chunkRows, target)
		if running {
			interrupted++
		}
		t.Logf("kill %d at %d of %d chunks", i+1, reached, whole)
	}
	if interrupted < 2 {
		t.Errorf("only %d of 4 kills interrupted a running backfill", interrupted)
	}
	if r := cli(t, env(killed), backfill...); r.code != exitOK {
		t.Fatalf("resumed backfill: %s", r.stderr)
	}
	if diff := cmp.Diff(testdb.Checksums(t, clean), testdb.Checksums(t, killed)); diff != "" {
		t.Errorf("killed and resumed warehouse differs from a clean one (-clean +killed):\n%s", diff)
	}
	chunks := count(t, killed, `SELECT count(*) FROM raw.payload WHERE stream LIKE 'activity%'`)
	biggest := count(t, killed, `SELECT max(octet_length(body::text)) FROM raw.payload WHERE stream LIKE 'activity%'`)
	if chunks < 8 || biggest > 64<<10+256<<10 {
		t.Errorf("activity kept in %d raw rows, the biggest %d bytes: want many rows of about 64 KiB", chunks, biggest)
	}
}

// killTargets draws n increasing counts in [1, whole) at which the kills of
// a test land, from a seed it logs: ENGAGE_ETL_KILL_SEED=<seed> draws the
// same again.
func killTargets(t *testing.T, n, whole int) []int {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("ENGAGE_ETL_KILL_SEED"); v != "" {
		parsed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("ENGAGE_ETL_KILL_SEED=%q: %v", v, err)
		}
		seed = parsed
	}
	if whole <= n {
		t.Fatalf("a whole run commits %d, too few for %d kills between them", whole, n)
	}
	rng := rand.New(rand.NewPCG(seed, 1))
	picked := map[int]bool{}
	for len(picked) < n {
		picked[1+rng.IntN(whole-1)] = true
	}
	targets := make([]int, 0, n)
	for k := range picked {
		targets = append(targets, k)
	}
	slices.Sort(targets)
	t.Logf("kill targets %v of %d, drawn with seed %d (ENGAGE_ETL_KILL_SEED=%d draws them again)", targets, whole, seed, seed)
	return targets
}

// killOnceCommitted starts cmd and kills it with SIGKILL (no cleanup, no
// deferred rollback) as soon as query, counted in the warehouse at dsn,
// reaches target. running is false when the command ended before: the
// kill interrupted nothing. reached is the count when it was killed.
func killOnceCommitted(t *testing.T, cmd *exec.Cmd, dsn, query string, target int) (running bool, reached int) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.After(2 * time.Minute)
	for {
		if err := conn.QueryRow(ctx, query).Scan(&reached); err != nil {
			cmd.Process.Kill()
			<-exited
			t.Fatal(err)
		}
		if reached >= target {
			break
		}
		select {
		case <-exited:
			return false, reached
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			t.Fatalf("the backfill reached %d of %d in two minutes", reached, target)
		case <-time.After(2 * time.Millisecond):
		}
	}
	cmd.Process.Kill()
	err = <-exited
	ee, ok := err.(*exec.ExitError)
	return ok && !ee.Exited(), reached
}
