package pipeline_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

var listPaths = map[string]string{ // list stream -> its path
	"users": "/user", "teams": "/team", "customers": "/customer", "roles": "/role", "rules": "/rule",
}

// listAPI counts the simulator's requests by path and, while failing is
// set, refuses GET /customer with a 400 (which no retry passes).
type listAPI struct {
	failing atomic.Bool
	mu      sync.Mutex
	n       map[string]int
}

func newListAPI(t *testing.T, f *fixture) *listAPI {
	t.Helper()
	a := &listAPI{n: map[string]int{}}
	f.retarget(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path := strings.TrimPrefix(r.URL.Path, engagesim.Prefix)
		a.mu.Lock()
		a.n[path]++
		a.mu.Unlock()
		if path == "/customer" && a.failing.Load() {
			http.Error(w, `{"message":"customers refused by the test"}`, http.StatusBadRequest)
			return
		}
		f.sim.Handler().ServeHTTP(w, r)
	}))
	return a
}

// requests returns the requests to path since the last call that named it.
func (a *listAPI) requests(path string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	n := a.n[path]
	a.n[path] = 0
	return n
}

// listRunner is the fixture's runner with a list refresh, as `sync` builds it.
func listRunner(f *fixture, refresh time.Duration) *pipeline.Runner {
	return pipeline.New(pipeline.Config{Store: f.store, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Now: f.sim.Now, WindowParallel: 3, StreamParallel: 4, MessageParallel: 4, ListRefresh: refresh})
}

func syncWith(t *testing.T, r *pipeline.Runner, f *fixture, streams []catalog.Stream) pipeline.Result {
	t.Helper()
	res, err := r.Sync(context.Background(), f.tenants, streams)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func resultOf(t *testing.T, res pipeline.Result, stream string) pipeline.StreamResult {
	t.Helper()
	for _, s := range res.Streams {
		if s.Stream == stream {
			return s
		}
	}
	t.Fatalf("no result for %s", stream)
	return pipeline.StreamResult{}
}

// upToDate fails unless the run left the list alone and reported it as a
// stream with nothing to do: its one window done, none run, the cursor as it
// was, and the run history saying so.
func upToDate(t *testing.T, f *fixture, res pipeline.Result, stream string) {
	t.Helper()
	s := resultOf(t, res, stream)
	if s.Err != nil || s.WindowsTotal != 1 || s.WindowsSkip != 1 || s.WindowsOK != 0 || s.RowsReceived != 0 ||
		s.CursorBefore.IsZero() || !s.CursorAfter.Equal(s.CursorBefore) {
		t.Errorf("%s: %+v, want it reported up to date (1 window done, none run, the cursor unchanged)", stream, s.StreamRun)
	}
	var status string
	var skipped, ok int
	err := f.store.Pool().QueryRow(context.Background(), `SELECT status, windows_skipped, windows_ok FROM etl.run_stream
WHERE run_id = $1 AND stream = $2`, res.RunID, stream).Scan(&status, &skipped, &ok)
	if err != nil || status != "ok" || skipped != 1 || ok != 0 {
		t.Errorf("%s: etl.run_stream %s, %d skipped, %d ok (%v); want ok, 1 skipped, 0 ok", stream, status, skipped, ok, err)
	}
}

func TestASyncLeavesAListLoadedWithinListRefreshAlone(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	api := newListAPI(t, f)
	r := listRunner(f, time.Hour)
	streams := selectStreams(t, "users", "teams", "customers", "roles", "rules", "realtime")
	if res := syncWith(t, r, f, streams); !res.OK() {
		t.Fatalf("first sync failed:\n%s", failures(res))
	}
	for _, path := range listPaths {
		if api.requests(path) == 0 {
			t.Errorf("the first sync did not read %s", path)
		}
	}
	loaded := cursors(t, f)
	realtime := api.requests("/report/realtime")

	res := syncWith(t, r, f, streams)
	if !res.OK() {
		t.Fatalf("second sync failed:\n%s", failures(res))
	}
	for name, path := range listPaths {
		if n := api.requests(path); n != 0 {
			t.Errorf("the second sync requested %s %d times, loaded an instant before", path, n)
		}
		upToDate(t, f, res, name)
		if got := cursors(t, f)[name]; got != loaded[name] {
			t.Errorf("%s: cursor moved from %s to %s", name, loaded[name], got)
		}
	}
	// Realtime is a snapshot too, but of its minute: every sync takes it.
	if realtime == 0 || api.requests("/report/realtime") == 0 || resultOf(t, res, "realtime").WindowsOK != 1 {
		t.Error("the second sync did not take the realtime snapshot")
	}
}

func TestAListIsReadAgainOnceListRefreshHasPassed(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	api := newListAPI(t, f)
	streams := selectStreams(t, "customers")
	r := listRunner(f, time.Hour)
	syncWith(t, r, f, streams)
	if api.requests("/customer") == 0 {
		t.Fatal("the first sync did not read the customers")
	}

	f.sim.Advance(59 * time.Minute)
	res := syncWith(t, r, f, streams)
	if n := api.requests("/customer"); n != 0 {
		t.Errorf("59 minutes after a load the sync requested /customer %d times", n)
	}
	upToDate(t, f, res, "customers")

	f.sim.Advance(time.Minute) // the refresh has passed: an hour since the load
	res = syncWith(t, r, f, streams)
	if s := resultOf(t, res, "customers"); api.requests("/customer") == 0 || s.WindowsOK != 1 || s.Err != nil {
		t.Errorf("an hour after a load the sync did not read the customers: %+v", s.StreamRun)
	}
	if got, want := resultOf(t, res, "customers").CursorAfter, f.sim.Now(); !got.Equal(want) {
		t.Errorf("cursor after the new load %s, want the simulator's now %s", got, want)
	}
	if syncWith(t, r, f, streams); api.requests("/customer") != 0 {
		t.Error("the sync right after the new load read the customers again")
	}

	// list_refresh 0 reads the list at every sync.
	every := listRunner(f, 0)
	for i := range 2 {
		if res := syncWith(t, every, f, streams); api.requests("/customer") == 0 || resultOf(t, res, "customers").WindowsOK != 1 {
			t.Errorf("list refresh 0, sync %d: the customers were not read", i+1)
		}
	}
}

func TestAListWhoseLastLoadFailedIsReadAgain(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	api := newListAPI(t, f)
	streams := selectStreams(t, "customers")
	r := listRunner(f, time.Hour)
	mustRead := func(step string) {
		t.Helper()
		res := syncWith(t, r, f, streams)
		if n := api.requests("/customer"); n == 0 || !res.OK() {
			t.Errorf("%s: %d requests to /customer, result %+v; want the customers read and loaded", step, n, resultOf(t, res, "customers").StreamRun)
		}
	}

	api.failing.Store(true)
	if res := syncWith(t, r, f, streams); res.OK() {
		t.Fatal("the customers answered 400, yet the sync is ok")
	}
	api.requests("/customer")
	api.failing.Store(false)
	mustRead("after a first load that failed")
	res := syncWith(t, r, f, streams)
	if n := api.requests("/customer"); n != 0 {
		t.Errorf("right after a load the sync requested /customer %d times", n)
	}
	upToDate(t, f, res, "customers")

	// A load that fails after a good one (a sync --streams, the daemon) moves
	// no cursor: the good load is still recent, but the last attempt failed.
	api.failing.Store(true)
	if res := syncWith(t, listRunner(f, 0), f, streams); res.OK() {
		t.Fatal("the customers answered 400, yet the sync is ok")
	}
	api.requests("/customer")
	api.failing.Store(false)
	mustRead("after a failed load")
	if res := syncWith(t, r, f, streams); api.requests("/customer") != 0 {
		t.Errorf("right after the repaired load the sync read the customers again: %+v", resultOf(t, res, "customers").StreamRun)
	}
}
