package pipeline_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// keepFirst keeps the first n elements of a JSON array answer.
func keepFirst(n int) func(string) string {
	return func(body string) string {
		var elems []json.RawMessage
		if json.Unmarshal([]byte(body), &elems) != nil || len(elems) <= n {
			return body
		}
		b, _ := json.Marshal(elems[:n])
		return string(b)
	}
}

// chatConversations are the chat report's CONVERSATIONS streams.
func chatConversations() []catalog.Stream {
	var out []catalog.Stream
	for _, s := range catalog.All() {
		if s.Report == "chat" && s.Metric == "CONVERSATIONS" {
			out = append(out, s)
		}
	}
	return out
}

// TestADetailStreamShortOfItsReportFailsLoudly: an API that drops
// conversations from its detail answers (too few a day for any cap to show)
// is caught by the chat report that counts them: every day past the
// lookback fails the run, naming the day and both figures; the days within
// the lookback are pending; each day's check is kept for bi.reconciliation.
func TestADetailStreamShortOfItsReportFailsLoudly(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	f.retarget(t, rewriting(f.sim.Handler(), "/report/chat/conversations", keepFirst(5)))
	streams := append(chatConversations(), stream(t, "conversations"))
	res := f.sync(t, streams)
	var conv pipeline.StreamResult
	for _, s := range res.Streams {
		if s.Stream == "conversations" {
			conv = s
		} else if s.Err != nil {
			t.Errorf("%s failed: %v", s.Stream, s.Err)
		}
	}
	var rec *pipeline.ReconcileError
	if res.OK() || !errors.As(conv.Err, &rec) {
		t.Fatalf("a sync 5 conversations a day short of the report passed: %v", conv.Err)
	}
	if msg := conv.Err.Error(); rec.Check.Detail != 5 || rec.Check.Report <= 5 || !strings.Contains(msg, "streams.conversations.max_elements") ||
		!strings.Contains(msg, rec.Check.Day.String()) {
		t.Errorf("the failure does not name the day, both figures and the key: %s", msg)
	}
	got := map[string]int{}
	rows, err := f.store.Pool().Query(t.Context(), `SELECT pair || ' ' || status, count(*) FROM bi.reconciliation GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		var n int
		rows.Scan(&k, &n)
		got[k] = n
	}
	// 14 days: today is not over, 3 are within the 72 h lookback.
	if got["conversations mismatch"] != 10 || got["conversations pending"] != 3 || got["conversations_by_channel mismatch"] != 10 {
		t.Errorf("reconciliation kept %v, want 10 mismatched and 3 pending days per pair", got)
	}

	// verify reconciles what the warehouse holds, and finds the same days.
	from, to := f.tenant.Start, f.tenant.Start.AddDays(14)
	if off, err := f.runner.Reconcile(t.Context(), f.tenants, streams, from, to); err != nil || len(off) != 30 {
		t.Errorf("verify's reconciliation found %d days (%v), want 10 per pair", len(off), err)
	}

	// Once the API answers whole again, a backfill of the range makes
	// every day agree.
	f.retarget(t, f.sim.Handler())
	if res, err := f.runner.Backfill(t.Context(), f.tenants, streams, f.tenant.Start, f.tenant.Start.AddDays(14), true); err != nil || !res.OK() {
		t.Fatalf("backfill: %v %s", err, failures(res))
	}
	if n := count(t, f, `SELECT count(*) FROM bi.reconciliation WHERE status <> 'ok'`); n != 0 {
		t.Errorf("%d days still disagree after the backfill", n)
	}
	if off, err := f.runner.Reconcile(t.Context(), f.tenants, streams, from, to); err != nil || len(off) != 0 {
		t.Errorf("verify's reconciliation still finds %d days (%v)", len(off), err)
	}
}

// TestADayShortOfItsReportIsFetchedInPiecesAtTheNextSync: an API that cuts
// the answers of whole days only (no two answers stop at the same length,
// so no cap shows). A first sync sizes its windows by the chat report's
// counts, so it sees the cut days hold fewer conversations than counted
// and fetches them in pieces at once. An incremental sync has no counts:
// a cut day it loads stays short of its report, and the next sync fetches
// it in pieces, which the API answers whole: every day agrees.
func TestADayShortOfItsReportIsFetchedInPiecesAtTheNextSync(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	today := civil.Of(simNow, f.tenant.Location)
	var mu sync.Mutex
	cut := map[int64]bool{} // the starts of the whole days the API cuts
	cutDays := func(days ...civil.Date) {
		mu.Lock()
		defer mu.Unlock()
		clear(cut)
		for _, d := range days {
			cut[d.Start(f.tenant.Location).UnixMilli()] = true
		}
	}
	cutDays(today.AddDays(-2), today.AddDays(-6))
	sim := f.sim.Handler()
	f.retarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var filter struct{ From, To int64 }
		json.Unmarshal(body, &filter)
		mu.Lock()
		isCut := cut[filter.From]
		mu.Unlock()
		if !strings.HasSuffix(r.URL.Path, "/report/chat/conversations") || !isCut || filter.To-filter.From < 23*3600*1000 {
			sim.ServeHTTP(w, r)
			return
		}
		rewriting(sim, "/report/chat/conversations", keepFirst(3)).ServeHTTP(w, r)
	}))
	streams := append(chatConversations(), stream(t, "conversations"))
	f.runner.OpenHorizon = 30 * 24 * time.Hour
	cfg := f.runner.Config
	cfg.DetailWindowElements = 1 // a window a day: each cut day's answer is one window's
	f.runner = pipeline.New(cfg)
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("the first sync, whose windows the report counted, did not fetch the cut days whole:\n%s", failures(res))
	}
	if n := count(t, f, `SELECT count(*) FROM bi.reconciliation WHERE pair = 'conversations' AND status <> 'ok'`); n != 0 {
		t.Errorf("%d days short after the first sync, want none", n)
	}

	// An incremental sync two days later: the new yesterday, never loaded
	// before, is cut, and its window was not sized by counts.
	cutDays(today.AddDays(1))
	f.sim.Advance(48 * time.Hour)
	if res := f.sync(t, streams); res.OK() && count(t, f, `SELECT count(*) FROM bi.reconciliation WHERE pair = 'conversations' AND status <> 'ok'`) != 1 {
		t.Error("the incremental sync of a cut day left no day short of its report")
	}
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("the third sync:\n%s", failures(res))
	}
	if n := count(t, f, `SELECT count(*) FROM bi.reconciliation WHERE status <> 'ok'`); n != 0 {
		t.Errorf("%d days still disagree after the third sync", n)
	}
	exact(t, f, []catalog.Stream{stream(t, "conversations")}, f.tenant.Start, today.AddDays(2), 0)
}

// TestABackfillOfLaterDaysReconciles: a range that starts after the first
// day of the tenant's history has rows (messages sent, agents' ranges
// running) of conversations and days before it; no pair counts them
// against the range's first days.
func TestABackfillOfLaterDaysReconciles(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	from := f.tenant.Start.AddDays(5)
	res, err := f.runner.Backfill(t.Context(), f.tenants, catalog.All(), from, civil.Of(simNow, f.tenant.Location).AddDays(1), false)
	if err != nil || !res.OK() {
		t.Fatalf("backfill: %v\n%s", err, failures(res))
	}
	if n := count(t, f, `SELECT count(*) FROM bi.reconciliation WHERE status = 'ok'`); n == 0 {
		t.Error("nothing reconciled")
	}
}
