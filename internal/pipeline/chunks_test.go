package pipeline_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/pipeline"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

func TestActivityIsCommittedInBoundedChunks(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	whole := newFixture(t, engagesim.Faults{})
	streams := selectStreams(t, "activity_*")
	if res := whole.sync(t, streams); !res.OK() {
		t.Fatalf("sync:\n%s", failures(res))
	}
	f := newFixture(t, engagesim.Faults{})
	cfg := f.runner.Config
	cfg.ChunkBytes = 64 << 10
	f.runner = pipeline.New(cfg)
	d := catalog.Contract()
	d.Activity.PageSize = 200 // pages of about 50 KiB, so that chunks hold several
	for i := range f.tenants {
		f.tenants[i].Dialect = &d
	}
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("chunked sync:\n%s", failures(res))
	}
	var chunks, biggest int
	if err := f.store.Pool().QueryRow(context.Background(), `
SELECT count(*), max(octet_length(body::text)) FROM raw.payload WHERE stream = 'activity_livechat'`).Scan(&chunks, &biggest); err != nil {
		t.Fatal(err)
	}
	if chunks < 3 {
		t.Errorf("activity_livechat was kept in %d raw rows, want several chunks", chunks)
	}
	// A chunk closes at the page that passes the bound: at most a page over.
	if biggest > 64<<10+200<<10 {
		t.Errorf("the biggest chunk holds %d bytes, want about 64 KiB", biggest)
	}
	if diff := cmp.Diff(testdb.Checksums(t, whole.dsn), testdb.Checksums(t, f.dsn)); diff != "" {
		t.Errorf("chunked load differs from a load in one piece (-whole +chunked):\n%s", diff)
	}
	// A rebuild replays every chunk.
	if res, err := f.runner.Rebuild(context.Background(), f.tenants, streams, f.tenant.Start, civil.Of(simNow, f.tenant.Location).AddDays(1)); err != nil || !res.OK() {
		t.Fatalf("rebuild: %v %+v", err, res)
	}
}

func TestBackfillThenSyncReadsNothingTwice(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	var streams []catalog.Stream
	for _, s := range catalog.All() {
		if s.Kind != catalog.KindRealtime {
			streams = append(streams, s)
		}
	}
	today := civil.Of(simNow, f.tenant.Location)
	bf, err := f.runner.Backfill(context.Background(), f.tenants, streams, f.tenant.Start, today.AddDays(1), false)
	if err != nil || !bf.OK() {
		t.Fatalf("backfill: %v\n%s", err, failures(bf))
	}
	backfilled := map[string]int64{}
	for _, s := range bf.Streams {
		backfilled[s.Stream] = s.RowsReceived
		if s.CursorAfter.IsZero() {
			t.Errorf("%s: no cursor after a backfill from the tenant's first day", s.Stream)
		}
	}
	sync := f.sync(t, streams)
	if !sync.OK() {
		t.Fatalf("sync:\n%s", failures(sync))
	}
	// The sync re-reads its lookback only: a few of 14 days. (Lists have
	// no days: every sync reads them whole.)
	kindOf := map[string]catalog.Kind{}
	for _, s := range streams {
		kindOf[s.Name] = s.Kind
	}
	for _, s := range sync.Streams {
		if kinds.Of(kindOf[s.Stream]).Planning == kinds.PlanSnapshot {
			continue
		}
		if b := backfilled[s.Stream]; b > 100 && s.RowsReceived*2 > b {
			t.Errorf("%s: the sync after the backfill read %d rows of the %d backfilled: more than its lookback", s.Stream, s.RowsReceived, b)
		}
	}
}

func TestABusyDaysMessagesAreCommittedInChunks(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	streams := selectStreams(t, "conversations", "messages")
	whole := newFixture(t, engagesim.Faults{})
	if res := whole.sync(t, streams); !res.OK() {
		t.Fatalf("sync:\n%s", failures(res))
	}
	f := newFixture(t, engagesim.Faults{})
	cfg := f.runner.Config
	cfg.ChunkBytes = 64 << 10
	f.runner = pipeline.New(cfg)
	res := f.sync(t, streams)
	if !res.OK() {
		t.Fatalf("chunked sync:\n%s", failures(res))
	}
	var commits int
	f.store.Pool().QueryRow(context.Background(), `SELECT count(DISTINCT xmin::text) FROM raw.conversation_messages`).Scan(&commits)
	var days int
	f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM raw.payload WHERE stream = 'messages'`).Scan(&days)
	if commits <= days {
		t.Errorf("the messages of %d days were committed in %d transactions, want more: chunks", days, commits)
	}
	if diff := cmp.Diff(testdb.Checksums(t, whole.dsn), testdb.Checksums(t, f.dsn)); diff != "" {
		t.Errorf("messages loaded in chunks differ from one piece (-whole +chunked):\n%s", diff)
	}
	for _, s := range res.Streams {
		if s.Stream == "messages" && (s.RowsReceived == 0 || s.RowsWritten != s.RowsReceived) {
			t.Errorf("messages: received %d, written %d; want every chunk's rows counted", s.RowsReceived, s.RowsWritten)
		}
	}
}
