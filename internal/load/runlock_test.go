package load_test

import (
	"context"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/load"
)

// Two processes share a warehouse: neither marks the other's live run
// abandoned; once a process is gone (its sessions closed), its run is.
func TestOnlyRunsOfGoneProcessesAreAbandoned(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	a := newStore(t)
	dsn := a.Pool().Config().ConnString()
	b, err := load.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	runA, err := a.StartRun(ctx, "sync", "a")
	if err != nil {
		t.Fatal(err)
	}
	runB, err := b.StartRun(ctx, "sync", "b") // reaps: must leave runA alone
	if err != nil {
		t.Fatal(err)
	}
	if err := a.StartStream(ctx, load.StreamRun{RunID: runA, TenantID: "t", Stream: "s"}); err != nil {
		t.Fatal(err)
	}
	status := func(id int64) string {
		var s string
		b.Pool().QueryRow(ctx, `SELECT status FROM etl.run WHERE run_id = $1`, id).Scan(&s)
		return s
	}
	if n, err := a.ReapAbandoned(ctx); err != nil || n != 0 || status(runA) != "running" || status(runB) != "running" {
		t.Fatalf("reaped %d (%v) while both processes live: %s %s", n, err, status(runA), status(runB))
	}
	a.Close() // the process is gone: its sessions, and its locks, with it
	// The server ends a's backend, and frees its locks, a moment after the
	// connection closes.
	n, err := b.ReapAbandoned(ctx)
	for deadline := time.Now().Add(5 * time.Second); err == nil && n == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		n, err = b.ReapAbandoned(ctx)
	}
	if err != nil || n != 1 {
		t.Fatalf("reaped %d runs (%v), want a's", n, err)
	}
	if status(runA) != "abandoned" || status(runB) != "running" {
		t.Errorf("after a is gone: a %s, b %s; want abandoned, running", status(runA), status(runB))
	}
	var stream string
	b.Pool().QueryRow(ctx, `SELECT status FROM etl.run_stream WHERE run_id = $1`, runA).Scan(&stream)
	if stream != "abandoned" {
		t.Errorf("a's stream is %q, want abandoned", stream)
	}
	if err := b.FinishRun(ctx, runB, true); err != nil || status(runB) != "ok" {
		t.Errorf("finish b: %v, %s", err, status(runB))
	}
}
