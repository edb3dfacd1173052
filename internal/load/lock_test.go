package load_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// A stream's lock is a session lock: a database restart ends the session
// and the lock with it. A commit then takes it again, unless another
// process took it meanwhile: then the commit fails and writes nothing.
func TestACommitChecksItsStreamLock(t *testing.T) {
	ctx := context.Background()
	a := newStore(t)
	b, err := load.Open(ctx, a.Pool().Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	tk, _ := a.EnsureTenant(ctx, "t1", "UTC")
	row := transform.AgentTimeRow{UserID: "a@x", Kind: "online", Start: d1.Start(time.UTC), End: d1.Start(time.UTC).Add(time.Hour), Seconds: "3600", Date: d1}
	commit := func(lock *load.StreamLock) error {
		_, err := a.CommitWindow(ctx, load.WindowCommit{TenantKey: tk, TenantID: "t1", Stream: "s", Start: d1.Start(time.UTC), End: d2.Start(time.UTC),
			Batch: load.AgentTimeBatch(d1, d2, []transform.AgentTimeRow{row}), Lock: lock})
		return err
	}
	endLockSessions := func() {
		t.Helper()
		// Only this test's database: tests of other packages run beside it
		// on the same server, and their migrations hold advisory locks too.
		if _, err := b.Pool().Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond) // the backend ends, its locks go
	}

	lock, ok, err := a.TryLockStream(ctx, "t1", "s")
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer lock.Release(ctx)
	endLockSessions() // as a restart would; nobody else wants the stream
	if err := commit(lock); err != nil {
		t.Fatalf("commit after the lock's session ended, the stream free: %v", err)
	}

	endLockSessions()
	other, ok, err := b.TryLockStream(ctx, "t1", "s") // another process takes the stream
	if err != nil || !ok {
		t.Fatalf("b could not take the free lock: %v %v", ok, err)
	}
	defer other.Release(ctx)
	var n int
	a.Pool().QueryRow(ctx, `SELECT count(*) FROM engage.fact_agent_time`).Scan(&n)
	a.Pool().Exec(ctx, `TRUNCATE engage.fact_agent_time`)
	if err := commit(lock); !errors.Is(err, load.ErrLockLost) {
		t.Fatalf("commit while another process holds the stream: %v, want ErrLockLost", err)
	}
	a.Pool().QueryRow(ctx, `SELECT count(*) FROM engage.fact_agent_time`).Scan(&n)
	if n != 0 {
		t.Errorf("the refused commit wrote %d rows", n)
	}
}
