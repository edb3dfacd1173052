package pipeline_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// TestALongLoadLandsTheRecentDaysFirst: a first sync of two weeks commits
// the last seven days' report before any detail row, the recent details
// before older history, older history newest first, and the messages
// (a request per conversation) after everything else; and the cursors still
// reach now once the oldest window is in.
func TestALongLoadLandsTheRecentDaysFirst(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	cfg := f.runner.Config
	cfg.DetailWindowElements = 1 // a window a day, as many as the test needs
	f.runner = pipeline.New(cfg)
	streams, err := catalog.Select(catalog.All(), []string{"chat_conversations", "conversations", "visits", "messages"})
	if err != nil {
		t.Fatal(err)
	}
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	recentFrom := f.sim.Now().In(f.tenant.Location).AddDate(0, 0, -6)
	recentFrom = time.Date(recentFrom.Year(), recentFrom.Month(), recentFrom.Day(), 0, 0, 0, 0, f.tenant.Location)

	type commit struct {
		stream     string
		start, end time.Time
		at         time.Time
	}
	rows, err := f.store.Pool().Query(context.Background(), `SELECT stream, window_start, window_end, finished_at FROM etl.backfill_window ORDER BY finished_at`)
	if err != nil {
		t.Fatal(err)
	}
	var commits []commit
	for rows.Next() {
		var c commit
		if err := rows.Scan(&c.stream, &c.start, &c.end, &c.at); err != nil {
			t.Fatal(err)
		}
		commits = append(commits, c)
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	// Each commit's round, by what it is and the days it holds.
	roundOf := func(c commit) int {
		switch {
		case c.stream == "messages":
			return 3
		case !c.end.After(recentFrom):
			return 2
		case c.stream == "chat_conversations":
			return 0
		}
		return 1
	}
	seen := map[int]int{}
	last := -1
	for _, c := range commits {
		r := roundOf(c)
		seen[r]++
		if r < last {
			t.Errorf("%s's window from %s (round %d) committed after a window of round %d", c.stream, c.start.Format(time.DateOnly), r, last)
		}
		last = max(last, r)
	}
	for r := 0; r <= 3; r++ {
		if seen[r] == 0 {
			t.Errorf("no window committed in round %d (%v): the test proves nothing", r, seen)
		}
	}
	// Older history runs newest first: the first of conversations' old
	// days to commit is newer than the last.
	var old []commit
	for _, c := range commits {
		if c.stream == "conversations" && roundOf(c) == 2 {
			old = append(old, c)
		}
	}
	if len(old) < 3 || !old[0].start.After(old[len(old)-1].start) {
		t.Errorf("conversations' older days did not commit newest first: %v", old)
	}
	cursors, err := f.store.Cursors(context.Background(), f.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range streams {
		if got := cursors[s.Name]; f.sim.Now().Sub(got) > 2*time.Minute {
			t.Errorf("%s's cursor is %s after the sync, not now (%s)", s.Name, got, f.sim.Now())
		}
	}
}

// TestAFirstSyncCutShortResumesWithTheWindowsItFinished: a first sync runs
// newest first, so its cursor stays put until the oldest window is in; a
// first sync that fails its oldest windows must not read the others again
// (beyond the lookback) when it runs next.
func TestAFirstSyncCutShortResumesWithTheWindowsItFinished(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	cfg := f.runner.Config
	cfg.DetailWindowElements = 1 // a window a day
	f.runner = pipeline.New(cfg)
	var requests, failAfter atomic.Int64
	failAfter.Store(8)
	f.retarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/report/chat/conversations") {
			if requests.Add(1) > failAfter.Load() {
				http.Error(w, `{"error":"refused by the test"}`, http.StatusBadRequest)
				return
			}
		}
		f.sim.Handler().ServeHTTP(w, r)
	}))
	streams := []catalog.Stream{stream(t, "conversations")}
	if res := f.sync(t, streams); res.OK() {
		t.Fatal("the first sync passed although its oldest windows were refused")
	}
	windows := int(requests.Load()) // one request per day's window
	if windows < 12 {
		t.Fatalf("the first sync asked %d windows; the test needs about 14", windows)
	}
	cursors, err := f.store.Cursors(context.Background(), f.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !cursors["conversations"].IsZero() {
		t.Errorf("the cursor moved to %s although the oldest windows failed", cursors["conversations"])
	}

	requests.Store(0)
	failAfter.Store(1 << 30)
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("the second sync failed:\n%s", failures(res))
	}
	// The failed windows again, and the finished ones within the lookback
	// (72 h: up to four days' windows), but no other.
	failed := windows - 8
	if got := int(requests.Load()); got > failed+4 {
		t.Errorf("the second sync asked %d windows: the %d that failed and %d more; the finished ones beyond the lookback were read again", got, failed, got-failed)
	}
	var loaded int
	f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM engage.fact_conversation`).Scan(&loaded)
	if res := f.sync(t, []catalog.Stream{stream(t, "chat_conversations")}); !res.OK() {
		t.Fatalf("the report's sync failed:\n%s", failures(res))
	}
	var reported float64
	f.store.Pool().QueryRow(context.Background(), `SELECT coalesce(sum(value), 0) FROM engage.fact_report_metric WHERE group_by = ''`).Scan(&reported)
	if loaded == 0 || float64(loaded) != reported {
		t.Errorf("%d conversations loaded, the chat report counts %v", loaded, reported)
	}
}
