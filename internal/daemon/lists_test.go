package daemon_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/pipeline"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// The lists group's schedule is how often the daemon reads the lists: a run
// of it reads them even when a sync loaded them an instant before and the
// runner's configuration says sync.list_refresh.
func TestTheDaemonReadsTheListsAtEveryRunOfTheirGroup(t *testing.T) {
	w := newWorld(t, 0)
	var customers atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/customer") {
			customers.Add(1)
		}
		w.sim.Handler().ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.baseURL = srv.URL + engagesim.Prefix
	store := openStore(t, testdb.Migrated(t))
	d := newDaemon(t, w, store, "lists", "@every 1h") // runs once, at start
	d.Streams = nil
	for _, s := range catalog.All() {
		if s.Group == "lists" {
			d.Streams = append(d.Streams, s)
		}
	}
	d.RunnerConfig.ListRefresh = time.Hour // as engage-etl run passes the config's

	ctx := context.Background()
	cron := d.RunnerConfig
	cron.Instance = "cron"
	if res, err := pipeline.New(cron).Sync(ctx, d.Tenants, d.Streams); err != nil || !res.OK() {
		t.Fatalf("sync before the daemon: %v %+v", err, res)
	}
	customers.Store(0)
	finished := func() int {
		var n int
		if err := store.Pool().QueryRow(ctx, `SELECT count(*) FROM etl.run_stream WHERE stream = 'customers' AND finished_at IS NOT NULL`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := finished()
	_, stop := start(t, d)
	for deadline := time.Now().Add(time.Minute); finished() < before+len(d.Tenants) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := finished() - before; n != len(d.Tenants) {
		t.Fatalf("the daemon's start-up run finished customers %d times, want once per tenant (%d)", n, len(d.Tenants))
	}
	if customers.Load() < int64(len(d.Tenants)) {
		t.Errorf("the daemon's lists run requested /customer %d times for %d tenants", customers.Load(), len(d.Tenants))
	}
	var skipped int
	store.Pool().QueryRow(ctx, `SELECT coalesce(sum(windows_skipped), 0) FROM etl.run_stream rs JOIN etl.run r USING (run_id) WHERE r.instance = 'lists'`).Scan(&skipped)
	if skipped != 0 {
		t.Errorf("the daemon's runs skipped %d list windows", skipped)
	}
}
