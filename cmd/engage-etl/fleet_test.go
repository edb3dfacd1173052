package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// traffic is what the API saw of one token: its requests, their times and
// the 429s among them.
type traffic struct {
	requests, refused int
	first, last       time.Time
}

// trafficRecorder wraps an API and keeps each token's traffic.
type trafficRecorder struct {
	mu     sync.Mutex
	tokens map[string]*traffic
}

func (r *trafficRecorder) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(rec, req)
		r.mu.Lock()
		defer r.mu.Unlock()
		tr := r.tokens[req.Header.Get("Authorization")]
		if tr == nil {
			tr = &traffic{first: time.Now()}
			r.tokens[req.Header.Get("Authorization")] = tr
		}
		tr.requests++
		tr.last = time.Now()
		if rec.status == http.StatusTooManyRequests {
			tr.refused++
		}
	})
}

func (r *trafficRecorder) of(token string) traffic {
	r.mu.Lock()
	defer r.mu.Unlock()
	if tr := r.tokens["Bearer "+token]; tr != nil {
		return *tr
	}
	return traffic{}
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) { s.status = code; s.ResponseWriter.WriteHeader(code) }

// TestAFleetSharesEachTenantsBudgetAndTakesOverAKilledDaemon runs three
// daemons as child processes on one warehouse, loading eight tenants
// against a simulator that answers 429 beyond each token's rate. The third
// joins a sixth of the way (and must take a share); the first is SIGKILLed
// a third of the way. The API must see each tenant's
// rate from all of them together (429s at most 1 % of requests), each
// tenant must load in at most 1.5 times what its requests take at its
// rate (a tenant waiting on another's budget, or on a daemon that never
// takes its streams over, takes twice that or more; the idle seconds until
// a killed daemon's streams are taken over, and the race detector with
// every package's tests on two cores, took one tenant to 1.31 in CI), and
// the killed daemon's streams must be taken over within a minute.
func TestAFleetSharesEachTenantsBudgetAndTakesOverAKilledDaemon(t *testing.T) {
	if testing.Short() {
		t.Skip("three daemons as child processes at the API's pace: make test runs it, make test-short does not")
	}
	const rate = 8 // requests per second per token: the simulator's limit and each tenant's budget
	tenants := engagesim.DefaultTenants(8)
	sim, err := engagesim.New(engagesim.Config{Seed: 19, Days: 10, Now: time.Now(), Scale: 2, RateLimit: rate,
		Latency: 10 * time.Millisecond, Tenants: tenants})
	if err != nil {
		t.Fatal(err)
	}
	api := &trafficRecorder{tokens: map[string]*traffic{}}
	srv := httptest.NewServer(api.wrap(sim.Handler()))
	t.Cleanup(srv.Close)
	dsn := testdb.Migrated(t)

	var cfg strings.Builder
	cfg.WriteString("sync:\n  stream_parallelism: 4\n  window_parallelism: 4\ntenants:\n")
	for _, tc := range tenants {
		fmt.Fprintf(&cfg, "  - id: %s\n    base_url: %s\n    token: %s\n    timezone: %s\n    start_date: %s\n    requests_per_second: %d\n    burst: 1\n",
			tc.ID, srv.URL+engagesim.Prefix, tc.Token, tc.Timezone, time.Now().AddDate(0, 0, -8).Format(time.DateOnly), rate)
	}
	path := filepath.Join(t.TempDir(), "fleet.yaml")
	if err := os.WriteFile(path, []byte(cfg.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// Three daemons' pools beside the other packages' tests on one server:
	// 3 × (8 + 2) connections.
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	env := map[string]string{"DATABASE_URL": dsn + sep + "pool_max_conns=8"}
	daemons := make([]*daemonProcess, 3)
	startDaemon := func(i int) {
		daemons[i] = startDaemonProcess(t, ctx, env, "run", "--config", path, "--schedule", "@every 1h",
			"--takeover-every", "1s", "--http-addr", "127.0.0.1:0", "--no-migrate", "--log-level", "warn")
	}
	startDaemon(0)
	startDaemon(1)
	pairs := len(tenants) * len(catalog.All())
	var days []string // streams of days: loaded when their cursor reaches now (after the oldest window)
	for _, s := range catalog.All() {
		if kinds.Of(s.Kind).Planning == kinds.PlanDays {
			days = append(days, "'"+s.Name+"'")
		}
	}
	begin := time.Now()
	loaded := func() int {
		ok := count(t, dsn, `SELECT count(DISTINCT (tenant_id, stream)) FROM etl.run_stream WHERE status = 'ok'`)
		if ok < pairs {
			return ok
		}
		return ok - len(tenants)*len(days) + count(t, dsn, fmt.Sprintf(`SELECT count(*) FROM etl.cursor WHERE stream IN (%s) AND watermark > '%s'`,
			strings.Join(days, ","), begin.UTC().Format(time.RFC3339Nano)))
	}

	// A sixth of the way, a third daemon joins; a third of the way, SIGKILL
	// the first, and note what it was loading.
	for loaded() < pairs/6 {
		if ctx.Err() != nil {
			t.Fatalf("a sixth of the streams did not load in time: %d of %d", loaded(), pairs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	startDaemon(2)
	for loaded() < pairs/3 {
		if ctx.Err() != nil {
			t.Fatalf("a third of the streams did not load in time: %d of %d", loaded(), pairs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	victim := daemons[0]
	victim.cmd.Process.Signal(syscall.SIGKILL)
	killed := time.Now()
	victim.cmd.Wait()
	// What it left unfinished: a stream of days whose cursor had not
	// reached the test's start (its oldest window was still to come), or
	// another stream never loaded yet. (A list or a snapshot that another
	// daemon loaded before is not work left: its next tick reads it.)
	unfinished, err := pgxQuery(t, dsn, fmt.Sprintf(`SELECT s.tenant_id || '/' || s.stream FROM etl.run_stream s JOIN etl.run r USING (run_id)
		LEFT JOIN etl.cursor c USING (tenant_id, stream)
		WHERE r.pid = %d AND s.status = 'running' AND CASE WHEN s.stream IN (%s) THEN coalesce(c.watermark < '%s', true)
			ELSE NOT EXISTS (SELECT 1 FROM etl.run_stream o WHERE o.tenant_id = s.tenant_id AND o.stream = s.stream AND o.status = 'ok') END`,
		victim.cmd.Process.Pid, strings.Join(days, ","), begin.UTC().Format(time.RFC3339Nano)))
	if err != nil {
		t.Fatal(err)
	}
	if len(unfinished) == 0 {
		t.Fatal("the killed daemon left nothing unfinished: the test proves nothing")
	}
	for loaded() < pairs {
		if ctx.Err() != nil {
			missing, _ := pgxQuery(t, dsn, fmt.Sprintf(`SELECT s.tenant_id || '/' || s.stream || ' ' || string_agg(s.status || '@' || r.pid, ',') || ' cursor ' || coalesce(max(c.watermark)::text, '-')
				FROM etl.run_stream s JOIN etl.run r USING (run_id) LEFT JOIN etl.cursor c USING (tenant_id, stream)
				GROUP BY s.tenant_id, s.stream HAVING NOT bool_or(s.status = 'ok') OR (s.stream IN (%s) AND coalesce(max(c.watermark) < '%s', true))`,
				strings.Join(days, ","), begin.UTC().Format(time.RFC3339Nano)))
			t.Fatalf("%d of %d tenant streams loaded in two minutes; not: %v", loaded(), pairs, missing)
		}
		time.Sleep(200 * time.Millisecond)
	}
	done := time.Now()
	for _, d := range daemons[1:] {
		d.stop(t)
	}

	// What the killed daemon left: each loaded by another within a minute.
	late, err := pgxQuery(t, dsn, fmt.Sprintf(`SELECT u FROM unnest('{%s}'::text[]) u WHERE NOT EXISTS (
			SELECT 1 FROM etl.run_stream o JOIN etl.run r USING (run_id)
			WHERE o.tenant_id || '/' || o.stream = u AND r.pid <> %d AND o.status = 'ok'
			  AND o.started_at < '%s'::timestamptz + interval '1 minute' AND o.finished_at > '%[3]s')`,
		strings.Join(unfinished, ","), victim.cmd.Process.Pid, killed.UTC().Format(time.RFC3339Nano)))
	if err != nil {
		t.Fatal(err)
	}
	if len(late) > 0 {
		t.Errorf("%d of the %d streams the killed daemon left unfinished were not taken over within a minute: %v", len(late), len(unfinished), late)
	}
	if n := count(t, dsn, fmt.Sprintf(`SELECT count(*) FROM etl.run_stream s JOIN etl.run r USING (run_id)
		WHERE r.pid = %d AND s.status = 'ok' AND s.windows_ok > 0`, daemons[2].cmd.Process.Pid)); n == 0 {
		t.Error("the daemon that joined later loaded nothing")
	} else {
		t.Logf("the daemon that joined later loaded %d streams", n)
	}
	if n := count(t, dsn, `SELECT count(*) FROM etl.run_stream WHERE status = 'running'`); n != 0 {
		t.Errorf("%d streams left running", n)
	}

	var total, refused int
	var spread []string
	for _, tc := range tenants {
		tr := api.of(tc.Token)
		total, refused = total+tr.requests, refused+tr.refused
		took := tr.last.Sub(tr.first)
		need := time.Duration(float64(tr.requests-tr.refused) / rate * float64(time.Second))
		spread = append(spread, fmt.Sprintf("%s %d requests in %.1fs (%.2f× %.1fs)", tc.ID, tr.requests, took.Seconds(), took.Seconds()/need.Seconds(), need.Seconds()))
		if took > need*3/2 {
			t.Errorf("%s loaded in %v, more than 1.5 × the %v its %d requests take at %d/s", tc.ID, took.Round(time.Millisecond), need.Round(time.Millisecond), tr.requests-tr.refused, rate)
		}
	}
	if refused*100 > total {
		t.Errorf("the API answered %d 429s of %d requests, more than 1 %%", refused, total)
	}
	sort.Strings(spread)
	t.Logf("%d requests, %d answered 429; all loaded %v after the start; the killed daemon left %d streams unfinished\n%s",
		total, refused, done.Sub(daemons[0].started).Round(time.Second), len(unfinished), strings.Join(spread, "\n"))
}

// daemonProcess is `engage-etl run` as a child process.
type daemonProcess struct {
	cmd     *exec.Cmd
	stderr  *lockedBuffer
	started time.Time
}

func startDaemonProcess(t *testing.T, ctx context.Context, env map[string]string, args ...string) *daemonProcess {
	t.Helper()
	cmd := mainCommand(t, ctx, env, args...)
	d := &daemonProcess{cmd: cmd, stderr: &lockedBuffer{}, started: time.Now()}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
		if t.Failed() {
			t.Logf("daemon %d's stderr:\n%s", cmd.Process.Pid, d.stderr.String())
		}
	})
	return d
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemonProcess) stop(t *testing.T) {
	t.Helper()
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := d.cmd.Wait(); err != nil {
		t.Errorf("daemon %d after SIGTERM: %v\n%s", d.cmd.Process.Pid, err, d.stderr.String())
	}
}

// pgxQuery returns the one text column of a query's rows.
func pgxQuery(t *testing.T, dsn, sql string) ([]string, error) {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		return nil, err
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(context.Background(), sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}
