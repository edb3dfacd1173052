package pipeline_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/pipeline"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// TestOneRunThroughHeavyFaultsIsExact: 30% 429, 10% 5xx, 5% bodies cut
// short and 5% resets, none bounded in a row: one run still finishes, and
// its warehouse equals a clean run's.
func TestOneRunThroughHeavyFaultsIsExact(t *testing.T) {
	if testing.Short() {
		t.Skip("long (a whole run through heavy faults): make test runs it, make test-short does not")
	}
	t.Parallel() // a database of its own (testdb)
	small := func(c *engagesim.Config) { c.Days, c.Scale = 3, 10 }
	clean := newFixture(t, engagesim.Faults{}, small)
	if res := clean.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("clean sync:\n%s", failures(res))
	}
	faulty := newFixture(t, engagesim.Faults{Rate429: 0.3, Rate5xx: 0.1, RateTruncate: 0.05, RateReset: 0.05,
		RetryAfter: 20 * time.Millisecond}, small)
	start := time.Now()
	res := faulty.sync(t, catalog.All())
	if !res.OK() {
		t.Fatalf("one run through faults failed:\n%s", failures(res))
	}
	stats := faulty.sim.Stats()
	if stats[429] == 0 || stats[503]+stats[500]+stats[502] == 0 {
		t.Fatalf("the simulator answered %v: the faults did not happen", stats)
	}
	if diff := cmp.Diff(testdb.Checksums(t, clean.dsn), testdb.Checksums(t, faulty.dsn)); diff != "" {
		t.Errorf("the run through faults differs from a clean one (-clean +faults):\n%s", diff)
	}
	t.Logf("through faults in %s: %v", time.Since(start).Round(time.Millisecond), stats)
}

// TestABackfillSurvivesADatabaseRestart restarts the warehouse's server in
// the middle of a backfill (a private server: never the shared one): the
// same run finishes, exact.
func TestABackfillSurvivesADatabaseRestart(t *testing.T) {
	slow := func(c *engagesim.Config) { c.Days, c.Scale, c.Latency = 6, 10, 5*time.Millisecond }
	clean := newFixture(t, engagesim.Faults{}, slow)
	from, to := clean.tenant.Start, civil.Of(simNow, clean.tenant.Location).AddDays(1)
	if res, err := clean.runner.Backfill(context.Background(), clean.tenants, catalog.All(), from, to, false); err != nil || !res.OK() {
		t.Fatalf("clean backfill: %v\n%s", err, failures(res))
	}

	cluster := testdb.NewCluster(t)
	f := newFixtureOn(t, cluster.DSN, engagesim.Faults{}, slow)
	done := make(chan struct{})
	var res pipeline.Result
	var err error
	go func() {
		defer close(done)
		res, err = f.runner.Backfill(context.Background(), f.tenants, catalog.All(), from, to, false)
	}()
	// Restart once some windows have committed and most have not.
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		var n int
		f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM etl.backfill_window`).Scan(&n)
		if n >= 20 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the backfill never committed 20 windows")
		}
	}
	select {
	case <-done:
		t.Fatal("the backfill finished before the restart: the test proves nothing")
	default:
	}
	cluster.Restart(t)
	<-done
	if err != nil || !res.OK() {
		t.Fatalf("the backfill did not survive the restart: %v\n%s", err, failures(res))
	}
	if diff := cmp.Diff(testdb.Checksums(t, clean.dsn), testdb.Checksums(t, f.dsn)); diff != "" {
		t.Errorf("the backfill through a restart differs from a clean one (-clean +restarted):\n%s", diff)
	}
}
