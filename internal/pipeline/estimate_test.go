package pipeline_test

import (
	"context"
	"encoding/json"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// simRequests is every request the simulator received so far.
func simRequests(f *fixture) int {
	n := 0
	for _, v := range f.sim.Requests() {
		n += v
	}
	return n
}

// keptEstimate is the estimate a run kept in its history.
func keptEstimate(t *testing.T, f *fixture, runID int64) pipeline.Estimate {
	t.Helper()
	var doc []byte
	if err := f.store.Pool().QueryRow(context.Background(), `SELECT estimate FROM etl.run WHERE run_id = $1`, runID).Scan(&doc); err != nil {
		t.Fatal(err)
	}
	var est pipeline.Estimate
	if err := json.Unmarshal(doc, &est); err != nil {
		t.Fatalf("the run kept no estimate (%q): %v", doc, err)
	}
	return est
}

// TestTheEstimateIsWithin15PercentOfWhatTheRunAsks: engage-etl estimate
// counts, from a few probes, what a backfill or a first sync will ask; the
// simulator counts what the run then asked, group by group. Ranges that
// start after the world's first day make the activity logs' depth a guess
// from the events' times, not the whole log.
func TestTheEstimateIsWithin15PercentOfWhatTheRunAsks(t *testing.T) {
	t.Parallel() // databases of their own (testdb)
	for _, tc := range []struct {
		name     string
		mode     string
		fromDays int  // the range starts this many days before today
		small    bool // pages of a few elements: lists and logs of many pages
	}{
		{name: "backfill of the whole history", mode: "backfill", fromDays: 13},
		{name: "backfill of the last week, small pages", mode: "backfill", fromDays: 6, small: true},
		{name: "first sync", mode: "sync"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, engagesim.Faults{}, func(c *engagesim.Config) { c.Scale = 60 })
			if tc.small {
				d := catalog.Contract()
				d.Lists.PageSize, d.Activity.PageSize = 7, 50
				for i := range f.tenants {
					f.tenants[i].Dialect = &d
				}
			}
			ctx := context.Background()
			today := civil.Of(simNow, f.tenant.Location)
			from, to := today.AddDays(-tc.fromDays), today.AddDays(1)
			streams := catalog.All()
			est, err := f.runner.Estimate(ctx, tc.mode, f.tenants, streams, from, to)
			if err != nil {
				t.Fatal(err)
			}
			before := f.sim.Requests()
			var res pipeline.Result
			if tc.mode == "backfill" {
				res, err = f.runner.Backfill(ctx, f.tenants, streams, from, to, false)
			} else {
				res, err = f.runner.Sync(ctx, f.tenants, streams)
			}
			if err != nil || !res.OK() {
				t.Fatalf("%s: %v\n%s", tc.mode, err, failures(res))
			}
			after := f.sim.Requests()
			// What the run asked: the simulator's count, less what the
			// run's own estimate (kept in its history) asked to count.
			kept := keptEstimate(t, f, res.RunID)
			asked := 0
			for route, n := range after {
				asked += n - before[route]
			}
			asked -= kept.Probes
			recorded := int64(0)
			for _, s := range res.Streams {
				recorded += s.Requests
			}
			if recorded != int64(asked) {
				t.Errorf("the run history counts %d requests, the simulator %d", recorded, asked)
			}
			if off := math.Abs(float64(est.Requests-asked)) / float64(asked); off > 0.15 {
				t.Errorf("estimated %d requests, the run asked %d (%.0f%% off)", est.Requests, asked, 100*off)
			}
			if kept.Requests != est.Requests {
				t.Errorf("the run's own estimate says %d requests, engage-etl estimate %d", kept.Requests, est.Requests)
			}
			// Group by group, where a group asks enough to tell.
			byGroup := map[string]int64{}
			for _, s := range res.Streams {
				byGroup[groupName(s.Stream)] += s.Requests
			}
			for _, g := range est.Tenants[0].Groups {
				got := byGroup[g.Group]
				if got >= 20 && math.Abs(float64(int64(g.Requests)-got))/float64(got) > 0.15 {
					t.Errorf("%s: estimated %d requests, the run asked %d", g.Group, g.Requests, got)
				}
			}
			if est.Probes == 0 || est.Probes > 60 {
				t.Errorf("the estimate asked %d requests to count; want a handful", est.Probes)
			}
			t.Logf("estimated %d requests (+%d to count), the run asked %d; groups %+v", est.Requests, est.Probes, asked, est.Tenants[0].Groups)
			// Once loaded, estimating the range again asks far less: its
			// windows are finished (and the counts and the lists' requests
			// would come from the warehouse and the run history). This
			// does not tell those two sources apart from the skipped windows.
			if tc.mode == "backfill" {
				again, err := f.runner.Estimate(ctx, "backfill", f.tenants, streams, from, to)
				if err != nil {
					t.Fatal(err)
				}
				if again.Probes >= est.Probes/2 {
					t.Errorf("estimating a loaded range asked %d requests to count, the first time %d", again.Probes, est.Probes)
				}
			}
		})
	}
}

// groupName is the estimate's group of a stream, by name.
func groupName(name string) string {
	for _, s := range catalog.All() {
		if s.Name == name {
			if s.Kind == catalog.KindMessages {
				return "messages"
			}
			return s.Group
		}
	}
	return ""
}

// TestAReportRangeTheAPIRefusesIsAskedInHalvesAndRemembered: an API that
// refuses a date filter of more than 5 days (400) still gets a two-week
// backfill whole, reports and details alike, in halves; the longest piece
// it accepted is remembered, so that the run again asks nothing it refuses.
func TestAReportRangeTheAPIRefusesIsAskedInHalvesAndRemembered(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{}, func(c *engagesim.Config) { c.MaxRangeDays = 5 })
	ctx := context.Background()
	streams := selectStreams(t, "chat_conversations", "chat_conversations_by_channel", "conversations", "visits")
	from, to := f.tenant.Start, civil.Of(simNow, f.tenant.Location).AddDays(1)
	res, err := f.runner.Backfill(ctx, f.tenants, streams, from, to, false)
	if err != nil || !res.OK() {
		t.Fatalf("backfill: %v\n%s", err, failures(res))
	}
	exact(t, f, selectStreams(t, "conversations", "visits"), from, to, 0)
	if n := count(t, f, `SELECT count(*) FROM engage.fact_report_metric`); n == 0 {
		t.Fatal("no report values loaded")
	}
	refused := f.sim.Stats()[400]
	if refused == 0 {
		t.Fatal("the API refused nothing: the test proves nothing")
	}
	rows, err := f.store.Pool().Query(ctx, `SELECT stream, max_days FROM etl.window_limit ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]int{}
	for rows.Next() {
		var s string
		var d int
		rows.Scan(&s, &d)
		limits[s] = d
	}
	for _, s := range []string{"chat_conversations", "chat_conversations_by_channel"} {
		if d, ok := limits[s]; !ok || d > 5 {
			t.Errorf("%s: window limit %d (noted %v), want at most 5 days", s, d, ok)
		}
	}
	// The same range again, every window anew: the limits hold, nothing is refused.
	f.runner = pipeline.New(f.runner.Config) // a new process: its limits come from the warehouse
	if res, err := f.runner.Backfill(ctx, f.tenants, selectStreams(t, "chat_conversations", "chat_conversations_by_channel"), from, to, true); err != nil || !res.OK() {
		t.Fatalf("second backfill: %v\n%s", err, failures(res))
	}
	if again := f.sim.Stats()[400]; again != refused {
		t.Errorf("the second backfill was refused %d times: the limit was not remembered", again-refused)
	}
}

// TestAFirstSyncFetchesMessagesOfMessageHistoryDaysOnly: messages cost a
// request per conversation; sync.message_history_days bounds a first
// sync's to its last days, and the other streams load their whole range.
func TestAFirstSyncFetchesMessagesOfMessageHistoryDaysOnly(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	cfg := f.runner.Config
	cfg.MessageHistoryDays = 3
	f.runner = pipeline.New(cfg)
	streams := selectStreams(t, "conversations", "messages")
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("sync:\n%s", failures(res))
	}
	today := civil.Of(simNow, f.tenant.Location)
	first := today.AddDays(-2)
	if n := count(t, f, `SELECT count(DISTINCT c.date_key) FROM engage.fact_message m JOIN engage.fact_conversation c USING (tenant_key, conversation_id)`); n == 0 || n > 3 {
		t.Errorf("messages of %d days loaded, want at most 3", n)
	}
	if n := count(t, f, `SELECT count(*) FROM engage.fact_message m JOIN engage.fact_conversation c USING (tenant_key, conversation_id) WHERE c.date_key < `+strconv.Itoa(first.Key())); n != 0 {
		t.Errorf("%d messages of conversations before %s loaded", n, first)
	}
	exact(t, f, selectStreams(t, "conversations"), f.tenant.Start, today.AddDays(1), 0)
	exact(t, f, selectStreams(t, "messages"), first, today.AddDays(1), 0)
	cursors, err := f.store.Cursors(context.Background(), f.tenant.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := cursors["messages"]; f.sim.Now().Sub(got) > 2*time.Minute {
		t.Errorf("the messages cursor is %s, not now", got)
	}
}
