package pipeline_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/pipeline"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// The simulated "now" is 10 days after Vienna left summer time on
// 2026-10-25, so the 14 loaded days contain the 25-hour day.
var simNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

const tz = "Europe/Vienna"

type fixture struct {
	handler atomic.Pointer[http.Handler] // what the test server delegates to
	store   *load.Store
	dsn     string // the warehouse
	sim     *engagesim.Server
	tenant  pipeline.Tenant   // the first tenant
	tenants []pipeline.Tenant // all of them
	runner  *pipeline.Runner
}

// newFixture starts a simulator (by default one tenant "vienna" in
// Europe/Vienna, 14 days up to simNow), a fresh migrated warehouse, and a
// runner whose clock is the simulator's.
func newFixture(t *testing.T, faults engagesim.Faults, mods ...func(*engagesim.Config)) *fixture {
	t.Helper()
	return newFixtureOn(t, testdb.Migrated(t), faults, mods...)
}

// newFixtureOn is newFixture with the warehouse at dsn.
func newFixtureOn(t *testing.T, dsn string, faults engagesim.Faults, mods ...func(*engagesim.Config)) *fixture {
	t.Helper()
	ctx := context.Background()
	cfg := engagesim.Config{
		Seed: 7, Days: 14, Now: simNow, Faults: faults, Scale: 30,
		Tenants: []engagesim.TenantConfig{{ID: "vienna", Token: "tok", Timezone: tz}},
	}
	for _, m := range mods {
		m(&cfg)
	}
	sim, err := engagesim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{sim: sim}
	h := sim.Handler()
	f.handler.Store(&h)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		(*f.handler.Load()).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	f.dsn = dsn
	store, err := load.Open(ctx, f.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := store.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	f.store = store
	f.runner = pipeline.New(pipeline.Config{Store: store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: sim.Now, WindowParallel: 3, StreamParallel: 4, MessageParallel: 4, EstimateFirst: true})
	for _, tc := range cfg.Tenants {
		client, err := engage.New(tc.Token, engage.WithBaseURL(srv.URL+engagesim.Prefix), engage.WithRate(0, 0),
			engage.WithRetry(engage.RetryPolicy{MaxAttempts: 4, BaseDelay: 10 * time.Millisecond, MaxDelay: 50 * time.Millisecond, MaxRetryAfter: 2 * time.Second}))
		if err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation(tc.Timezone)
		f.tenants = append(f.tenants, pipeline.Tenant{ID: tc.ID, Timezone: tc.Timezone, Location: loc, Client: client,
			Start: civil.Of(cfg.Now, loc).AddDays(1 - cfg.Days)})
	}
	f.tenant = f.tenants[0]
	return f
}

// retarget routes the test server's requests to h (which usually wraps the
// simulator's handler).
func (f *fixture) retarget(t *testing.T, h http.Handler) { f.handler.Store(&h) }

// countEventsBefore counts a log's events from the tenant's first day to
// before, through the API.
func (f *fixture) countEventsBefore(t *testing.T, log string, before time.Time) int {
	t.Helper()
	since := f.tenant.Start.Start(f.tenant.Location)
	seen := map[string]bool{}
	req := engage.Request{Method: "GET", Path: "/activity/" + log}
	paging := engage.Paging{PageParam: "page", SizeParam: "size", PageSize: 1000, SortParam: "sort", Sort: "timestamp,desc", Items: "content", ID: "id"}
	err := f.tenant.Client.Pages(context.Background(), req, paging, func(p engage.Page) (bool, error) {
		older := false
		for _, raw := range p.Items {
			var e engage.ActivityEvent
			if err := json.Unmarshal(raw, &e); err != nil {
				return false, err
			}
			older = older || e.Timestamp.Before(since)
			if !e.Timestamp.Before(since) && e.Timestamp.Before(before) {
				seen[e.ID] = true
			}
		}
		return older, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return len(seen)
}

func (f *fixture) sync(t *testing.T, streams []catalog.Stream) pipeline.Result {
	t.Helper()
	res, err := f.runner.Sync(context.Background(), f.tenants, streams)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// failures lists the failed streams of a result, for test messages.
func failures(res pipeline.Result) string {
	var out []string
	for _, s := range res.Streams {
		if s.Err != nil {
			out = append(out, s.Stream+": "+s.Err.Error())
		}
	}
	for id, err := range res.TenantErrors {
		out = append(out, "tenant "+id+": "+err.Error())
	}
	return strings.Join(out, "\n")
}

func stream(t *testing.T, name string) catalog.Stream {
	t.Helper()
	s, err := catalog.Select(catalog.All(), []string{name})
	if err != nil {
		t.Fatal(err)
	}
	return s[0]
}

type dayAgent struct{ day, agent string }

// query reads (day, group) -> value rows.
func query(t *testing.T, f *fixture, sql string, args ...any) map[dayAgent]string {
	t.Helper()
	rows, err := f.store.Pool().Query(context.Background(), sql, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[dayAgent]string{}
	for rows.Next() {
		var k dayAgent
		var v string
		if err := rows.Scan(&k.day, &k.agent, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestSyncMatchesTheAPIAcrossDST(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	if res := f.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}

	// 1. What the API answers for the whole range, asked directly.
	online := stream(t, "agent_online_time_by_agent")
	loc := f.tenant.Location
	whole := extract.Plan(f.tenant.Start, civil.Of(simNow, loc).AddDays(1), 30, loc)[0]
	var resp engage.ReportResponse
	_, err := extract.Answer(context.Background(), extract.API{Client: f.tenant.Client}, online, kinds.Of(online.Kind).Shape, whole, func(body []byte) error {
		return json.Unmarshal(body, &resp)
	})
	if err != nil {
		t.Fatal(err)
	}
	api := map[dayAgent]string{}
	for day, groups := range resp.Results {
		d, _ := civil.ParseSlash(day)
		for agent, v := range groups {
			api[dayAgent{d.String(), agent}] = string(v)
		}
	}

	// 2. What the warehouse holds, through the BI view.
	warehouse := query(t, f, `
SELECT day::text, group_value, value::text FROM bi.report_metric
WHERE tenant_id = 'vienna' AND report = 'agent' AND metric = 'ONLINE_TIME' AND group_by = 'AGENT'`)
	if diff := cmp.Diff(api, warehouse); diff != "" {
		t.Errorf("warehouse ONLINE_TIME differs from the API (-api +warehouse):\n%s", diff)
	}
	if len(api) < 50 {
		t.Fatalf("only %d agent-days: the simulated world is too thin to prove anything", len(api))
	}

	// 3. The same numbers, independently: PostgreSQL cuts the loaded online
	// ranges at Vienna's local midnights (its own time zone rules, not Go's).
	fromRanges := query(t, f, `
SELECT d::date::text, a.agent_email,
       sum(extract(epoch FROM least(a.ended_at, (d + interval '1 day') AT TIME ZONE $1)
                            - greatest(a.started_at, d AT TIME ZONE $1)))::bigint::text
FROM bi.agent_time a,
     generate_series('2026-10-21'::timestamp, '2026-11-03'::timestamp, interval '1 day') AS d
WHERE a.tenant_id = 'vienna' AND a.kind = 'online'
  AND a.started_at < (d + interval '1 day') AT TIME ZONE $1 AND a.ended_at > d AT TIME ZONE $1
GROUP BY 1, 2`, tz)
	if diff := cmp.Diff(fromRanges, warehouse); diff != "" {
		t.Errorf("ONLINE_TIME differs from the loaded online ranges (-ranges +report):\n%s", diff)
	}

	var dstRows int
	f.store.Pool().QueryRow(context.Background(),
		`SELECT count(*) FROM bi.report_metric WHERE day = '2026-10-25' AND metric = 'ONLINE_TIME'`).Scan(&dstRows)
	if dstRows == 0 {
		t.Error("no ONLINE_TIME rows on 2026-10-25, the DST day the test is about")
	}
}

// snapshot is every row of schema engage with its xmin, so equal snapshots
// mean equal contents and no row rewritten.
func snapshot(t *testing.T, f *fixture) map[string]string {
	t.Helper()
	ctx := context.Background()
	rows, err := f.store.Pool().Query(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = 'engage' AND table_type = 'BASE TABLE' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string]string{}
	for _, tbl := range tables {
		var s *string
		err := f.store.Pool().QueryRow(ctx, fmt.Sprintf(
			`SELECT string_agg(t.xmin::text || ' ' || t::text, E'\n' ORDER BY t::text) FROM engage.%s t`, tbl)).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		if s != nil {
			out[tbl] = *s
		}
	}
	return out
}

func TestSecondSyncRewritesNothing(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	first := f.sync(t, catalog.All())
	if !first.OK() {
		t.Fatalf("first sync failed:\n%s", failures(first))
	}
	before := snapshot(t, f)
	if !strings.Contains(before["fact_agent_time"], "@vienna.example") {
		t.Fatal("the first sync loaded no agent times")
	}
	second := f.sync(t, catalog.All())
	if !second.OK() {
		t.Fatalf("second sync failed:\n%s", failures(second))
	}
	if diff := cmp.Diff(before, snapshot(t, f)); diff != "" {
		t.Errorf("second sync changed schema engage (-before +after):\n%s", diff)
	}
	for _, s := range second.Streams {
		if s.RowsWritten != 0 {
			t.Errorf("%s: second sync wrote %d rows, want 0", s.Stream, s.RowsWritten)
		}
		// Day-windowed streams re-read their lookback; the messages stream
		// re-reads only the conversation list when no conversation changed.
		if k := stream(t, s.Stream).Kind; s.RowsReceived == 0 && kinds.Of(k).Planning == kinds.PlanDays && k != catalog.KindMessages {
			t.Errorf("%s: second sync re-read nothing; the lookback should re-read recent days", s.Stream)
		}
		if s.WindowsOK == 0 {
			t.Errorf("%s: second sync requested nothing", s.Stream)
		}
		// An activity log's cursor is the API's newest event (APIClock).
		want := simNow
		if kinds.Of(stream(t, s.Stream).Kind).APIClock {
			f.store.Pool().QueryRow(context.Background(), `SELECT max(occurred_at) FROM engage.fact_activity_event WHERE log = $1`,
				stream(t, s.Stream).Log).Scan(&want)
		}
		if !s.CursorAfter.Equal(want) {
			t.Errorf("%s: cursor at %v, want %v", s.Stream, s.CursorAfter, want)
		}
	}
}

func TestSyncRetriesRateLimitsAndTruncatedBodies(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	// Every distinct request is refused twice (429 with Retry-After: 1, or a
	// cut body), then answered.
	f := newFixture(t, engagesim.Faults{Rate429: 0.6, RateTruncate: 0.4, MaxConsecutive: 2, RetryAfter: time.Second})
	streams, err := catalog.Select(catalog.All(), []string{"agent_*"})
	if err != nil {
		t.Fatal(err)
	}
	res := f.sync(t, streams)
	if !res.OK() {
		t.Fatalf("sync failed despite retries:\n%s", failures(res))
	}
	stats := f.sim.Stats()
	if stats[429] == 0 {
		t.Errorf("the simulator answered no 429 (stats %v): the test proves nothing", stats)
	}
	var rows int
	f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM engage.fact_agent_time`).Scan(&rows)
	if rows == 0 {
		t.Error("no agent times loaded")
	}
}

func TestFailingStreamDoesNotStopTheOthers(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	broken := stream(t, "agent_times_online")
	broken.Path = "/report/agent/times/nowhere" // 404 from the API
	good := stream(t, "agent_times_loggedin")
	res := f.sync(t, []catalog.Stream{broken, good})
	if res.OK() {
		t.Fatal("a stream answered 404 yet the run is ok")
	}
	for _, s := range res.Streams {
		switch s.Stream {
		case broken.Name:
			if s.Err == nil || !strings.Contains(s.Err.Error(), "404") {
				t.Errorf("broken stream error = %v, want the 404", s.Err)
			}
			if !s.CursorAfter.IsZero() {
				t.Errorf("broken stream's cursor moved to %v", s.CursorAfter)
			}
		case good.Name:
			if s.Err != nil || s.WindowsOK != s.WindowsTotal || !s.CursorAfter.Equal(simNow) {
				t.Errorf("good stream: %+v", s)
			}
		}
	}
	var status, msg string
	err := f.store.Pool().QueryRow(context.Background(),
		`SELECT status, error FROM etl.run_stream WHERE stream = $1`, broken.Name).Scan(&status, &msg)
	if err != nil || status != "failed" || !strings.Contains(msg, "404") {
		t.Errorf("etl.run_stream: status %q error %q (%v)", status, msg, err)
	}
}
