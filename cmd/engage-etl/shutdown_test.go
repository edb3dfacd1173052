package main

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// TestSIGTERMStopsTheDaemonWithinTheTimeoutAndLeavesNoHalfWindow runs the
// daemon as a child process against a slow API, sends SIGTERM while windows
// are in flight, and checks the exit and the warehouse.
func TestSIGTERMStopsTheDaemonWithinTheTimeoutAndLeavesNoHalfWindow(t *testing.T) {
	for _, tc := range []struct {
		name            string
		latency, budget time.Duration
		committed       int // windows to wait for before the signal
	}{
		{"in-flight windows finish", 25 * time.Millisecond, 3 * time.Second, 20},
		{"windows slower than the timeout roll back", 1500 * time.Millisecond, 500 * time.Millisecond, 3},
	} {
		t.Run(tc.name, func(t *testing.T) { sigterm(t, tc.latency, tc.budget, tc.committed) })
	}
}

func sigterm(t *testing.T, latency, timeout time.Duration, committed int) {
	if testing.Short() {
		t.Skip("runs engage-etl as a child process: make test runs it, make test-short does not")
	}
	sim, err := engagesim.New(engagesim.Config{Seed: 9, Days: 14, Now: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC),
		Scale: 40, Latency: latency,
		Tenants: []engagesim.TenantConfig{{ID: "acme", Token: "tok", Timezone: "Europe/Vienna"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	defer srv.Close()
	loc, _ := time.LoadLocation("Europe/Vienna")
	dsn := testdb.New(t)

	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(),
		"GORACE=atexit_sleep_ms=0", // the race runtime otherwise sleeps 1s at exit
		"ENGAGE_ETL_TEST_RUN_MAIN="+strings.Join([]string{"run", "--schedule", "@every 1h", "--http-addr", "127.0.0.1:0",
			"--shutdown-timeout", timeout.String(), "--log-level", "warn"}, "\x1f"),
		"DATABASE_URL="+dsn, "ENGAGE_BASE_URL="+srv.URL+engagesim.Prefix, "ENGAGE_API_TOKEN=tok",
		"ENGAGE_TENANT_ID=acme", "ENGAGE_TIMEZONE=Europe/Vienna", "ENGAGE_START_DATE=2026-10-21",
		"ENGAGE_REQUESTS_PER_SECOND=1000")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until windows are committing, then stop it mid-run.
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the daemon committed nothing in 30s: %s", stderr.String())
		}
		if n := countRows(ctx, dsn, `SELECT count(*) FROM raw.payload`); n >= committed {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	err = cmd.Wait()
	took := time.Since(signalled)
	if err != nil {
		t.Errorf("daemon exit after SIGTERM: %v, want 0\n%s", err, stderr.String())
	}
	// The timeout is the in-flight windows' budget; cancelling what is left
	// and exiting must then be quick.
	if took > timeout+time.Second {
		t.Errorf("daemon took %v to stop, the timeout is %v", took, timeout)
	}
	if n := countRows(ctx, dsn, `SELECT count(*) FROM etl.run_stream WHERE status = 'running'`); n != 0 {
		t.Errorf("%d streams left marked running", n)
	}
	// It was stopped mid-run: some windows are missing, and every one that
	// committed is whole.
	checked, bad := halfWrittenWindows(t, dsn, `SELECT stream, window_start, window_end FROM raw.payload`, sim, loc)
	if len(bad) > 0 {
		t.Errorf("half-written windows after SIGTERM: %v", bad)
	}
	if checked == 0 {
		t.Error("no committed window to check")
	}
	t.Logf("stopped %v after SIGTERM; %d committed windows checked whole", took.Round(time.Millisecond), checked)
}

func countRows(ctx context.Context, dsn, sql string) int {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0 // not migrated yet
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, sql).Scan(&n); err != nil {
		return 0
	}
	return n
}
