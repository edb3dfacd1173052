package pipeline_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

func selectStreams(t *testing.T, patterns ...string) []catalog.Stream {
	t.Helper()
	s, err := catalog.Select(catalog.All(), patterns)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// apiConversations asks the API for yesterday's and today's conversations.
func apiConversations(t *testing.T, f *fixture, from, to civil.Date) map[string]engage.Conversation {
	t.Helper()
	w := extract.Plan(from, to, 30, f.tenant.Location)[0]
	out := map[string]engage.Conversation{}
	_, err := extract.Answer(context.Background(), extract.API{Client: f.tenant.Client}, stream(t, "conversations"), kinds.Of(catalog.KindConversations).Shape, w, func(body []byte) error {
		return decode.Array(bytes.NewReader(body), func(c engage.Conversation) error {
			out[c.ConversationID] = c
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLateStatusChangesArriveWithTheNextSync(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	streams := selectStreams(t, "conversations")
	f.sync(t, streams)
	today := civil.Of(f.sim.Now(), f.tenant.Location)
	before := apiConversations(t, f, today.AddDays(-1), today.AddDays(1))

	f.sim.Advance(30 * time.Hour)
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	after := apiConversations(t, f, today.AddDays(-1), today.AddDays(1))
	changed := 0
	for id, c := range after {
		var status string
		var msgs int
		err := f.store.Pool().QueryRow(context.Background(),
			`SELECT status, message_count FROM engage.fact_conversation WHERE conversation_id = $1`, id).Scan(&status, &msgs)
		if err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		if status != c.Status || msgs != c.MessageCount {
			t.Errorf("%s: warehouse %s/%d, API now %s/%d", id, status, msgs, c.Status, c.MessageCount)
		}
		if b, ok := before[id]; ok && b.Status != c.Status {
			changed++
		}
	}
	if changed == 0 {
		t.Fatal("no conversation changed status between the syncs: the test proves nothing")
	}
}

func TestVanishedReportGroupsVanishFromTheWarehouse(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	// UNRESOLVED conversations get closed as time passes: agents whose last
	// unresolved conversation of a day is closed drop out of that day's
	// UNRESOLVED-by-agent report.
	f := newFixture(t, engagesim.Faults{})
	s := stream(t, "chat_unresolved_by_agent")
	// Some close days later, after the report's lookback: the sync knows
	// which old days to read again from the conversations it loaded.
	streams := []catalog.Stream{s, stream(t, "conversations")}
	f.runner.OpenHorizon = 30 * 24 * time.Hour
	f.sync(t, streams)
	groups := func() map[string]string {
		out := map[string]string{}
		rows, _ := f.store.Pool().Query(context.Background(), `SELECT day::text || ' ' || group_value, value::text FROM bi.report_metric WHERE metric = 'UNRESOLVED' AND group_by = 'AGENT'`)
		defer rows.Close()
		for rows.Next() {
			var k, v string
			rows.Scan(&k, &v)
			out[k] = v
		}
		return out
	}
	before := groups()
	f.sim.Advance(30 * time.Hour)
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	after := groups()
	vanished := 0
	for k := range before {
		if _, ok := after[k]; !ok {
			vanished++
		}
	}
	if vanished == 0 {
		t.Fatal("no group vanished: the test proves nothing")
	}
	// And what remains is exactly what the API answers now.
	drift, err := f.runner.Verify(context.Background(), f.tenants, []catalog.Stream{s}, f.tenant.Start, civil.Of(f.sim.Now(), f.tenant.Location).AddDays(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(drift) > 0 {
		t.Errorf("after the re-sync the warehouse differs from the API: %v", drift)
	}
}

func TestActivityEventsArrivingWhilePagingAreAllLoadedOnce(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{}, func(c *engagesim.Config) { c.Scale = 80 })
	start := f.sim.Now()
	// Between two pages the simulated clock moves on, so new events push old
	// ones onto later pages while the log is being read.
	moving := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.sim.Handler().ServeHTTP(w, r)
		if strings.Contains(r.URL.Path, "/activity/") {
			f.sim.Advance(15 * time.Minute)
		}
	})
	f.retarget(t, moving)
	s := stream(t, "activity_status")
	s.PageSize = 50
	if res := f.sync(t, []catalog.Stream{s}); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	// Every event from the start of the world to the moment paging began is
	// loaded, each once (the primary key holds that), although the pages
	// served some of them twice.
	var loaded, served int
	f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM engage.fact_activity_event WHERE occurred_at < $1`, start).Scan(&loaded)
	f.store.Pool().QueryRow(context.Background(), `SELECT sum(jsonb_array_length(p -> 'content'))
FROM raw.payload, jsonb_array_elements(body::jsonb) AS p WHERE stream = 'activity_status'`).Scan(&served)
	if want := f.countEventsBefore(t, "status", start); loaded != want {
		t.Errorf("loaded %d events older than the first page, the log has %d", loaded, want)
	}
	if served <= loaded {
		t.Errorf("the pages served %d events for %d loaded: no event came twice, so paging never shifted", served, loaded)
	}
}

func TestBackfillOverASyncedRangeChangesNothingAndResumes(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	if res := f.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	cursorsBefore := cursors(t, f)
	before := snapshot(t, f)
	from, to := f.tenant.Start, civil.Of(simNow, f.tenant.Location).AddDays(1)
	res, err := f.runner.Backfill(context.Background(), f.tenants, catalog.All(), from, to, false)
	if err != nil || !res.OK() {
		t.Fatalf("backfill failed: %v\n%s", err, failures(res))
	}
	if diff := cmp.Diff(before, snapshot(t, f)); diff != "" {
		t.Errorf("backfill over a synced range changed schema engage (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(cursorsBefore, cursors(t, f)); diff != "" {
		t.Errorf("backfill moved cursors (-before +after):\n%s", diff)
	}
	// A second run finds every window done and fetches nothing.
	statsBefore := f.sim.Stats()[200]
	res, err = f.runner.Backfill(context.Background(), f.tenants, catalog.All(), from, to, false)
	if err != nil || !res.OK() {
		t.Fatalf("second backfill failed: %v\n%s", err, failures(res))
	}
	skipped := 0
	for _, s := range res.Streams {
		skipped += s.WindowsSkip
		if s.WindowsOK != 0 {
			t.Errorf("%s: resumed backfill ran %d windows again", s.Stream, s.WindowsOK)
		}
	}
	if skipped == 0 || f.sim.Stats()[200] != statsBefore {
		t.Errorf("resumed backfill skipped %d windows and made %d requests", skipped, f.sim.Stats()[200]-statsBefore)
	}
}

func TestBackfillNeverMovesACursorBackwardsNorOverAGap(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	s := stream(t, "chat_conversations")
	loc := f.tenant.Location
	today := civil.Of(simNow, loc)
	// A backfill of the last 3 days with no cursor sets none: a sync must not
	// skip the days before it.
	if res, _ := f.runner.Backfill(context.Background(), f.tenants, []catalog.Stream{s}, today.AddDays(-2), today.AddDays(1), false); !res.OK() {
		t.Fatalf("backfill failed:\n%s", failures(res))
	}
	if c := cursors(t, f)[s.Name]; c != "" {
		t.Errorf("a backfill without a cursor set one: %s", c)
	}
	f.sync(t, []catalog.Stream{s})
	synced := cursors(t, f)[s.Name]
	// An older backfill leaves the cursor where it is.
	if res, _ := f.runner.Backfill(context.Background(), f.tenants, []catalog.Stream{s}, today.AddDays(-12), today.AddDays(-9), true); !res.OK() {
		t.Fatalf("backfill failed:\n%s", failures(res))
	}
	if c := cursors(t, f)[s.Name]; c != synced {
		t.Errorf("cursor moved from %s to %s", synced, c)
	}
}

func TestAWindowFailingForeverStopsOnlyItsStream(t *testing.T) {
	if testing.Short() {
		t.Skip("long (retries each failing window with pauses of seconds): make test runs it, make test-short does not")
	}
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{Rate5xx: 1, Paths: []string{"/report/visit/table"}})
	res := f.sync(t, selectStreams(t, "visits", "cobrowse_sessions", "agent_times_online"))
	if res.OK() {
		t.Fatal("a stream answered 503 forever, yet the run is ok")
	}
	c := cursors(t, f)
	if c["visits"] != "" || c["cobrowse_sessions"] == "" || c["agent_times_online"] == "" {
		t.Errorf("cursors %v: visits must have none, the others must have advanced", c)
	}
	var status, msg string
	f.store.Pool().QueryRow(context.Background(), `SELECT status, error FROM etl.run_stream WHERE stream = 'visits'`).Scan(&status, &msg)
	if status != "failed" || !strings.Contains(msg, "503") {
		t.Errorf("etl.run_stream for visits: %s %q", status, msg)
	}
}

func TestVerifyFindsNoDriftAfterASyncAndFindsAPlantedOne(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	streams := selectStreams(t, "chat_*", "agent_online_time_by_agent")
	f.sync(t, streams)
	from, to := f.tenant.Start, civil.Of(simNow, f.tenant.Location).AddDays(1)
	drift, err := f.runner.Verify(context.Background(), f.tenants, streams, from, to)
	if err != nil || len(drift) != 0 {
		t.Fatalf("drift right after a sync: %v %v", drift, err)
	}
	ctx := context.Background()
	f.store.Pool().Exec(ctx, `UPDATE engage.fact_report_metric SET value = value + 1
WHERE ctid = (SELECT ctid FROM engage.fact_report_metric ORDER BY date_key, group_value LIMIT 1)`)
	f.store.Pool().Exec(ctx, `DELETE FROM engage.fact_report_metric
WHERE ctid = (SELECT ctid FROM engage.fact_report_metric ORDER BY date_key DESC, group_value LIMIT 1)`)
	drift, err = f.runner.Verify(ctx, f.tenants, streams, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var changed, missing int
	for _, d := range drift {
		if d.Warehouse == "" {
			missing++
		} else {
			changed++
		}
	}
	if changed != 1 || missing != 1 {
		t.Errorf("verify found %v, want one changed and one missing bucket", drift)
	}
}

// cursors maps stream -> watermark of the fixture's tenant ("" when none).
func cursors(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	rows, err := f.store.Pool().Query(context.Background(), `SELECT stream, watermark::text FROM etl.cursor`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var s, w string
		rows.Scan(&s, &w)
		out[s] = w
	}
	return out
}

func TestMessagesAreFetchedAgainOnlyForChangedConversations(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	var fetches atomic.Int64
	f.retarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/report/chat/messages") {
			fetches.Add(1)
		}
		f.sim.Handler().ServeHTTP(w, r)
	}))
	streams := selectStreams(t, "messages")
	truth := func() int {
		tr, err := f.sim.Truth("vienna", "messages", f.tenant.Start, civil.Of(f.sim.Now(), f.tenant.Location).AddDays(1))
		if err != nil {
			t.Fatal(err)
		}
		return tr.Rows
	}
	loaded := func() int {
		var n int
		f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM engage.fact_message`).Scan(&n)
		return n
	}

	f.sync(t, streams)
	first := fetches.Load()
	if first == 0 || loaded() != truth() {
		t.Fatalf("first sync: %d fetches, %d messages loaded, truth %d", first, loaded(), truth())
	}
	f.sync(t, streams)
	if again := fetches.Load() - first; again != 0 {
		t.Errorf("a sync with nothing new fetched %d conversations again", again)
	}
	f.sim.Advance(4 * time.Hour)
	before := fetches.Load()
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	changed := fetches.Load() - before
	if changed == 0 || changed >= first {
		t.Errorf("after 4 hours %d conversations were fetched again (of %d)", changed, first)
	}
	if loaded() != truth() {
		t.Errorf("%d messages loaded, truth %d", loaded(), truth())
	}
	var raws, conversations int
	f.store.Pool().QueryRow(context.Background(), `SELECT (SELECT count(*) FROM raw.conversation_messages),
	(SELECT count(DISTINCT conversation_id) FROM engage.fact_message)`).Scan(&raws, &conversations)
	if raws != conversations {
		t.Errorf("%d raw conversation answers kept, want one per conversation (%d)", raws, conversations)
	}
}

// TestActivityCursorsFollowTheAPIsClock: an activity log's cursor is the
// newest event the API returned, so the next read starts a lookback before
// the API's time, not ours. With our clock two hours ahead of the API's, a
// cursor at our now made the next read start after events the API stamped
// since: they were never read.
func TestActivityCursorsFollowTheAPIsClock(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		offset time.Duration // our clock minus the API's
	}{{"our clock ahead", 2 * time.Hour}, {"our clock behind", -2 * time.Hour}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // a database of its own (testdb)
			f := newFixture(t, engagesim.Faults{})
			f.runner = pipeline.New(pipeline.Config{Store: f.store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				Now: func() time.Time { return f.sim.Now().Add(tc.offset) }, WindowParallel: 3, StreamParallel: 4, MessageParallel: 4})
			s := stream(t, "activity_status")
			for i := 0; i < 3; i++ {
				if res := f.sync(t, []catalog.Stream{s}); !res.OK() {
					t.Fatalf("sync %d failed:\n%s", i, failures(res))
				}
				f.sim.Advance(90 * time.Minute)
			}
			var loaded int
			f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM engage.fact_activity_event WHERE log = 'status' AND occurred_at < $1`,
				f.sim.Now().Add(-90*time.Minute)).Scan(&loaded)
			if want := f.countEventsBefore(t, "status", f.sim.Now().Add(-90*time.Minute)); loaded != want {
				t.Errorf("loaded %d of the %d events the API holds up to the last sync", loaded, want)
			}
		})
	}
}

// TestTheAPIsClockSkewIsKept: the skew of the API's clock (its Date
// header) against ours is kept per tenant for status, to the second.
func TestTheAPIsClockSkewIsKept(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	if res := f.sync(t, []catalog.Stream{stream(t, "activity_status")}); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	clocks, err := f.store.APIClocks(context.Background())
	if err != nil || len(clocks) != 1 {
		t.Fatalf("API clocks: %v %v", clocks, err)
	}
	// The simulator's clock stands at simNow, a month or more behind ours.
	if want := f.sim.Now().Sub(time.Now()); clocks[0].TenantID != "vienna" || (clocks[0].Skew-want).Abs() > 2*time.Second {
		t.Errorf("kept skew %s for %s, want %s", clocks[0].Skew, clocks[0].TenantID, want)
	}
}
