package daemon_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/daemon"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/pipeline"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

var simNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

type world struct {
	sim     *engagesim.Server
	baseURL string
}

func newWorld(t *testing.T, latency time.Duration) *world {
	t.Helper()
	sim, err := engagesim.New(engagesim.Config{Seed: 5, Days: 7, Now: simNow, Scale: 20, Latency: latency,
		Tenants: engagesim.DefaultTenants(2)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return &world{sim, srv.URL + engagesim.Prefix}
}

func openStore(t *testing.T, dsn string) *load.Store {
	t.Helper()
	store, err := load.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(store.Close)
	if err := store.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return store
}

// newDaemon builds a daemon over the world's tenants, every group on schedule.
func newDaemon(t *testing.T, w *world, store *load.Store, instance, schedule string) *daemon.Daemon {
	t.Helper()
	return newDaemonWith(t, w, store, instance, schedule, func(string) []engage.Option { return []engage.Option{engage.WithRate(0, 0)} })
}

// newDaemonWith is newDaemon with each tenant's client made with the
// options clientOpts gives for it (pace, budget).
func newDaemonWith(t *testing.T, w *world, store *load.Store, instance, schedule string, clientOpts func(tenant string) []engage.Option) *daemon.Daemon {
	t.Helper()
	m := daemon.NewMetrics(store)
	var tenants []pipeline.Tenant
	webhooks := map[string]string{}
	for _, tc := range w.sim.Tenants() {
		opts := append([]engage.Option{engage.WithBaseURL(w.baseURL), engage.WithObserver(m.APIObserver(tc.ID))}, clientOpts(tc.ID)...)
		c, err := engage.New(tc.Token, opts...)
		if err != nil {
			t.Fatal(err)
		}
		loc, _ := time.LoadLocation(tc.Timezone)
		tenants = append(tenants, pipeline.Tenant{ID: tc.ID, Timezone: tc.Timezone, Location: loc, Client: c,
			Start: civil.Of(simNow, loc).AddDays(-6)})
		webhooks["secret-"+tc.ID] = tc.ID
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	schedules := map[string]string{}
	for _, s := range catalog.All() {
		schedules[s.Group] = schedule
	}
	runner := pipeline.Config{Catalog: catalog.All(), Store: store, Log: log, Now: w.sim.Now, Instance: instance, OnStream: m.Stream,
		WindowParallel: 3, StreamParallel: 3, MessageParallel: 4}
	return &daemon.Daemon{Store: store, RunnerConfig: runner, Tenants: tenants, Streams: catalog.All(), Schedules: schedules,
		Webhooks: webhooks, Metrics: m, Log: log, ShutdownTimeout: 10 * time.Second, RunAtStart: true}
}

// start runs d until the returned stop is called; stop returns Run's error.
func start(t *testing.T, d *daemon.Daemon) (addr string, stop func() error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx, ln) }()
	return "http://" + ln.Addr().String(), func() error { cancel(); return <-done }
}

func TestTwoDaemonsSplitTheWorkWithoutOverlap(t *testing.T) {
	w := newWorld(t, 2*time.Millisecond)
	shared := testdb.Migrated(t)
	store := openStore(t, shared)
	_, stopA := start(t, newDaemon(t, w, store, "daemon-a", "@every 1s"))
	storeB := openStore(t, shared)
	_, stopB := start(t, newDaemon(t, w, storeB, "daemon-b", "@every 1s"))
	// Several ticks: at least 6 s, and on a busy machine until the runs the
	// test counts below are done (at most a minute).
	time.Sleep(6 * time.Second)
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		var finished int
		if err := store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM etl.run_stream WHERE finished_at IS NOT NULL`).Scan(&finished); err != nil {
			t.Fatal(err)
		}
		if finished >= 3*2*len(catalog.All()) {
			break
		}
	}
	if err := stopA(); err != nil {
		t.Fatal(err)
	}
	if err := stopB(); err != nil {
		t.Fatal(err)
	}

	ctx := context.Background()
	rows, err := store.Pool().Query(ctx, `
SELECT rs.tenant_id, rs.stream, r.instance, rs.started_at, rs.finished_at
FROM etl.run_stream rs JOIN etl.run r USING (run_id)
ORDER BY rs.tenant_id, rs.stream, rs.started_at`)
	if err != nil {
		t.Fatal(err)
	}
	type interval struct {
		key, instance string
		start, end    time.Time
	}
	var prev interval
	perInstance := map[string]int{}
	total := 0
	for rows.Next() {
		var tenant, stream, instance string
		var s time.Time
		var e *time.Time
		rows.Scan(&tenant, &stream, &instance, &s, &e)
		if e == nil {
			t.Errorf("%s/%s by %s never finished", tenant, stream, instance)
			continue
		}
		cur := interval{tenant + "/" + stream, instance, s, *e}
		if cur.key == prev.key && cur.start.Before(prev.end) {
			t.Errorf("%s: %s ran %v..%v while %s ran %v..%v", cur.key, cur.instance, cur.start, cur.end, prev.instance, prev.start, prev.end)
		}
		// Keep the run that ends last: a later run must start after every
		// earlier one of the same stream ended, not just the previous one.
		if cur.key != prev.key || cur.end.After(prev.end) {
			prev = cur
		}
		perInstance[instance]++
		total++
	}
	rows.Close()
	if perInstance["daemon-a"] == 0 || perInstance["daemon-b"] == 0 {
		t.Errorf("stream runs per daemon: %v: both must have worked", perInstance)
	}
	if total < 3*2*len(catalog.All()) {
		t.Errorf("only %d stream runs over several ticks", total)
	}

	// The shared warehouse holds what one sync alone loads.
	alone := testdb.Migrated(t)
	single := newDaemon(t, w, openStore(t, alone), "alone", "@every 1h")
	if res, err := pipeline.New(single.RunnerConfig).Sync(ctx, single.Tenants, single.Streams); err != nil || !res.OK() {
		t.Fatalf("single sync: %v %+v", err, res)
	}
	if diff := cmp.Diff(testdb.Checksums(t, alone), testdb.Checksums(t, shared)); diff != "" {
		t.Errorf("two daemons loaded a different warehouse than one sync (-one +two):\n%s", diff)
	}
}

func TestMetricsParseAndHaveRowsAndLag(t *testing.T) {
	w := newWorld(t, 0)
	d := newDaemon(t, w, openStore(t, testdb.Migrated(t)), "metrics", "@every 1h")
	addr, stop := start(t, d)
	defer stop()
	// Wait for the start-up runs to load something.
	deadline := time.Now().Add(20 * time.Second)
	var families map[string]*dtoFamily
	for time.Now().Before(deadline) {
		families = scrape(t, addr)
		if f := families["engage_etl_stream_lag_seconds"]; f != nil && len(f.samples) >= len(catalog.All()) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	rows := families["engage_etl_rows_loaded_total"]
	if rows == nil || rows.sum <= 0 {
		t.Fatalf("engage_etl_rows_loaded_total missing or zero: %+v", rows)
	}
	lag := families["engage_etl_stream_lag_seconds"]
	if lag == nil || len(lag.samples) == 0 {
		t.Fatal("engage_etl_stream_lag_seconds has no samples")
	}
	for labels, v := range lag.samples {
		if v < 0 {
			t.Errorf("lag %s = %v", labels, v)
		}
	}
	if f := families["engage_etl_api_requests_total"]; f == nil || f.samples[`status="200",tenant="acme"`] == 0 {
		t.Errorf("API requests by status missing: %+v", f)
	}
	for _, name := range []string{"engage_etl_windows_total", "engage_etl_run_duration_seconds", "engage_etl_runs_total"} {
		if families[name] == nil {
			t.Errorf("%s missing", name)
		}
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(addr + path)
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("%s: %v %v", path, resp.StatusCode, err)
		}
	}
}

// testWriter sends the daemon's warnings and errors to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

type dtoFamily struct {
	sum     float64
	samples map[string]float64 // labels -> value
}

// scrape reads /metrics with the Prometheus text parser.
func scrape(t *testing.T, addr string) map[string]*dtoFamily {
	t.Helper()
	resp, err := http.Get(addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("/metrics does not parse: %v", err)
	}
	out := map[string]*dtoFamily{}
	for name, mf := range mfs {
		f := &dtoFamily{samples: map[string]float64{}}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			f.samples[strings.Join(labels, ",")] = v
			f.sum += v
		}
		out[name] = f
	}
	return out
}

func TestWebhooksNeedTheSecretAndUpdateAtOnce(t *testing.T) {
	w := newWorld(t, 0)
	store := openStore(t, testdb.Migrated(t))
	d := newDaemon(t, w, store, "hooks", "@every 1h")
	d.RunAtStart = false
	ctx := context.Background()
	conv := stream(t, "conversations")
	if res, err := pipeline.New(d.RunnerConfig).Sync(ctx, d.Tenants, []catalog.Stream{conv}); err != nil || !res.OK() {
		t.Fatalf("sync: %v", err)
	}
	addr, stop := start(t, d)
	defer stop()

	var id, customer, status string
	store.Pool().QueryRow(ctx, `SELECT f.conversation_id, c.customer_id, f.status FROM engage.fact_conversation f
JOIN engage.dim_customer c USING (customer_key) JOIN engage.dim_tenant t ON t.tenant_key = f.tenant_key
WHERE t.tenant_id = 'acme' AND f.status <> 'DONE' ORDER BY f.started_at DESC LIMIT 1`).Scan(&id, &customer, &status)
	if id == "" {
		t.Fatal("no open conversation to update")
	}
	body := fmt.Sprintf(`{"customerId":%q,"status":"DONE","lastMessage":{"conversationId":%q,"timestamp":"2026-11-03T09:59:00.000Z"},"url":"https://x"}`, customer, id)
	fingerprint := func() string {
		var s string
		store.Pool().QueryRow(ctx, `SELECT string_agg(xmin::text || status, ',' ORDER BY conversation_id) || (SELECT count(*) FROM raw.payload)::text FROM engage.fact_conversation`).Scan(&s)
		return s
	}
	before := fingerprint()
	for _, hook := range []struct{ query, header string }{{"", ""}, {"?secret=wrong", ""}, {"", "secret-globex-typo"}} {
		req, _ := http.NewRequest("POST", addr+"/webhooks/engage"+hook.query, strings.NewReader(body))
		if hook.header != "" {
			req.Header.Set(daemon.WebhookSecretHeader, hook.header)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("webhook %+v: %v %v, want 401", hook, resp.StatusCode, err)
		}
	}
	if fingerprint() != before {
		t.Fatal("a refused webhook changed the warehouse")
	}

	req, _ := http.NewRequest("POST", addr+"/webhooks/engage", strings.NewReader(body))
	req.Header.Set(daemon.WebhookSecretHeader, "secret-acme")
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %v %v", resp.StatusCode, err)
	}
	var now string
	var ended *time.Time
	store.Pool().QueryRow(ctx, `SELECT status, ended_at FROM engage.fact_conversation WHERE conversation_id = $1`, id).Scan(&now, &ended)
	if now != "DONE" || ended == nil {
		t.Errorf("conversation %s after the webhook: %s, ended %v (was %s)", id, now, ended, status)
	}

	// A new message arrives as a message object.
	msg := fmt.Sprintf(`{"id":"wh-msg-1","conversationId":%q,"customerId":%q,"userId":null,"fromCustomer":true,"type":"MESSAGE","message":"hello again","url":null,"timestamp":"2026-11-03T09:59:30.000Z"}`, id, customer)
	resp, err = http.Post(addr+"/webhooks/engage?secret=secret-acme", "application/json", strings.NewReader(msg))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("message webhook: %v %v", resp.StatusCode, err)
	}
	var length int
	if err := store.Pool().QueryRow(ctx, `SELECT text_length FROM engage.fact_message WHERE message_id = 'wh-msg-1'`).Scan(&length); err != nil || length != 11 {
		t.Errorf("webhook message: length %d, %v", length, err)
	}
	if resp, _ := http.Post(addr+"/webhooks/engage?secret=secret-acme", "application/json", strings.NewReader(`{"status":"SLEEPING"}`)); resp.StatusCode != 400 {
		t.Errorf("invalid webhook: %d, want 400", resp.StatusCode)
	}
}

// TestAWebhookWritesOnlyUnderTheTenantItsSecretNames: a delivery naming
// one tenant's conversation, sent with another tenant's secret, changes
// nothing of the first: the secret, not the body, says whose it is.
func TestAWebhookWritesOnlyUnderTheTenantItsSecretNames(t *testing.T) {
	w := newWorld(t, 0)
	store := openStore(t, testdb.Migrated(t))
	d := newDaemon(t, w, store, "hooks", "@every 1h")
	d.RunAtStart = false
	ctx := context.Background()
	if res, err := pipeline.New(d.RunnerConfig).Sync(ctx, d.Tenants, []catalog.Stream{stream(t, "conversations")}); err != nil || !res.OK() {
		t.Fatalf("sync: %v", err)
	}
	addr, stop := start(t, d)
	defer stop()
	rowsOf := func(tenant string) string {
		var s string
		store.Pool().QueryRow(ctx, `SELECT count(*)::text || ' ' || coalesce(md5(string_agg(f::text, ',' ORDER BY f.conversation_id)), '')
FROM engage.fact_conversation f JOIN engage.dim_tenant t USING (tenant_key) WHERE t.tenant_id = $1`, tenant).Scan(&s)
		return s
	}
	var id, customer string
	store.Pool().QueryRow(ctx, `SELECT f.conversation_id, c.customer_id FROM engage.fact_conversation f
JOIN engage.dim_customer c USING (customer_key) JOIN engage.dim_tenant t ON t.tenant_key = f.tenant_key
WHERE t.tenant_id = 'acme' AND f.status <> 'DONE' ORDER BY f.started_at DESC LIMIT 1`).Scan(&id, &customer)
	if id == "" {
		t.Fatal("no open conversation of acme")
	}
	acme, globex := rowsOf("acme"), rowsOf("globex")
	body := fmt.Sprintf(`{"customerId":%q,"status":"DONE","lastMessage":{"conversationId":%q,"timestamp":"2026-11-03T09:59:00.000Z"},"url":"https://x"}`, customer, id)
	resp, err := http.Post(addr+"/webhooks/engage?secret=secret-globex", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != http.StatusAccepted {
		t.Fatalf("webhook: %v %v", resp.StatusCode, err)
	}
	if now := rowsOf("acme"); now != acme {
		t.Errorf("a webhook with globex's secret changed acme's conversations: %s, was %s", now, acme)
	}
	var owner string
	store.Pool().QueryRow(ctx, `SELECT string_agg(t.tenant_id, ',') FROM engage.fact_conversation f JOIN engage.dim_tenant t USING (tenant_key)
WHERE f.conversation_id = $1 AND f.status = 'DONE'`, id).Scan(&owner)
	if owner != "globex" || rowsOf("globex") == globex {
		t.Errorf("the delivery landed under %q, want globex alone", owner)
	}
}

// get returns the status and body of a GET of url.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func extractPlan(t pipeline.Tenant, from, to civil.Date) []extract.Window {
	return extract.Plan(from, to, 30, t.Location)
}

func extractArray[T any](ctx context.Context, t pipeline.Tenant, s catalog.Stream, w extract.Window, fn func(T) error) ([]byte, error) {
	return extract.Answer(ctx, extract.API{Client: t.Client}, s, kinds.Of(s.Kind).Shape, w, func(body []byte) error {
		return decode.Array(bytes.NewReader(body), fn)
	})
}

func stream(t *testing.T, name string) catalog.Stream {
	t.Helper()
	s, err := catalog.Select(catalog.All(), []string{name})
	if err != nil {
		t.Fatal(err)
	}
	return s[0]
}

// TestWebhooksFromTheSimulatorKeepStatusesCurrent: between two syncs, the
// pushed status changes alone bring the warehouse to the API's statuses.
func TestWebhooksFromTheSimulatorKeepStatusesCurrent(t *testing.T) {
	w := newWorld(t, 0)
	store := openStore(t, testdb.Migrated(t))
	d := newDaemon(t, w, store, "pushed", "@every 1h")
	d.RunAtStart = false
	ctx := context.Background()
	conv := stream(t, "conversations")
	if res, err := pipeline.New(d.RunnerConfig).Sync(ctx, d.Tenants[:1], []catalog.Stream{conv}); err != nil || !res.OK() {
		t.Fatalf("sync: %v", err)
	}
	addr, stop := start(t, d)
	defer stop()

	w.sim.Advance(3 * time.Hour)
	n, err := w.sim.DeliverWebhooks(ctx, http.DefaultClient, engagesim.WebhookTarget{TenantID: "acme", URL: addr + "/webhooks/engage", Secret: "secret-acme"})
	if err != nil || n == 0 {
		t.Fatalf("delivered %d hooks: %v", n, err)
	}
	// Compare with the API now, without syncing.
	api := map[string]string{}
	tn := d.Tenants[0]
	day := civil.Of(w.sim.Now(), tn.Location)
	for _, win := range extractPlan(tn, day.AddDays(-6), day.AddDays(1)) {
		_, err := extractArray(ctx, tn, conv, win, func(c engage.Conversation) error { api[c.ConversationID] = c.Status; return nil })
		if err != nil {
			t.Fatal(err)
		}
	}
	rows, _ := store.Pool().Query(ctx, `SELECT conversation_id, status FROM engage.fact_conversation`)
	defer rows.Close()
	checked := 0
	for rows.Next() {
		var id, status string
		rows.Scan(&id, &status)
		if api[id] != status {
			t.Errorf("%s: warehouse %s, API %s", id, status, api[id])
		}
		checked++
	}
	if checked <= len(api)/2 {
		t.Errorf("only %d of %d conversations in the warehouse", checked, len(api))
	}
}

// TestThreeDaemonsShareEachTenantsAPIBudget: three daemons load three
// tenants from an API that answers 429 beyond 20 requests a second per key,
// each client paced at that limit on its own. Through the warehouse's
// shared budget they send at most the limit together: at most 1 % of the
// requests get a 429 (three times the limit without it), and every tenant's
// every stream loads.
func TestThreeDaemonsShareEachTenantsAPIBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("three daemons loading three tenants at the API's pace: make test runs it, make test-short does not")
	}
	const rps = 20
	sim, err := engagesim.New(engagesim.Config{Seed: 5, Days: 3, Now: simNow, Scale: 10, RateLimit: rps,
		Tenants: engagesim.DefaultTenants(3)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	w := &world{sim, srv.URL + engagesim.Prefix}
	shared := testdb.Migrated(t)
	var stops []func() error
	var store *load.Store
	var addr string
	var addrs []string
	for i := 0; i < 3; i++ {
		s := openStore(t, shared)
		store = s
		d := newDaemonWith(t, w, s, fmt.Sprintf("daemon-%d", i), "@every 1s", func(tenant string) []engage.Option {
			return []engage.Option{engage.WithRate(rps, 1), engage.WithBudget(s.Budget(tenant, rps, 1))}
		})
		a, stop := start(t, d)
		addr, addrs, stops = a, append(addrs, a), append(stops, stop)
	}
	// While they work, the status page says which daemon holds what.
	seen := false
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline) && !seen; time.Sleep(200 * time.Millisecond) {
		_, page := get(t, addr+"/")
		seen = strings.Contains(page, "<td>daemon-")
	}
	if !seen {
		t.Error("the status page never showed a daemon loading a stream (Running now)")
	}

	want := 3 * len(catalog.All())
	loaded := 0
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline) && loaded < want; time.Sleep(time.Second) {
		store.Pool().QueryRow(context.Background(), `SELECT count(DISTINCT (tenant_id, stream)) FROM etl.run_stream WHERE status = 'ok'`).Scan(&loaded)
	}
	waited := false // some daemon's requests waited for the shared budget
	for _, a := range addrs {
		_, metrics := get(t, a+"/metrics")
		waited = waited || regexp.MustCompile(`engage_etl_api_budget_wait_seconds_total\{tenant="\w+"\} \d*[.1-9]`).MatchString(metrics)
	}
	if !waited {
		t.Error("no daemon's /metrics shows time waited for the shared budget")
	}
	for _, stop := range stops {
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
	if loaded < want {
		t.Errorf("%d of %d tenant streams loaded within two minutes", loaded, want)
	}

	stats := sim.Stats()
	total := 0
	for _, n := range stats {
		total += n
	}
	if stats[429]*100 > total {
		t.Errorf("the API answered %v: %d 429s of %d requests, more than 1 %%", stats, stats[429], total)
	}
	t.Logf("%d requests, %d answered 429", total, stats[429])
}

// TestOneTenantsLongRunDoesNotHoldBackAnother: a tenant whose API answers
// slowly (a long first sync) keeps its own schedule busy, not the other
// tenants': theirs run on every tick meanwhile. Each tenant's group run is
// a scheduled job of its own, skipped only while its own previous one runs.
func TestOneTenantsLongRunDoesNotHoldBackAnother(t *testing.T) {
	w := newWorld(t, 0)
	slow := "Bearer " + w.sim.Tenants()[0].Token
	sim := w.sim.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == slow {
			time.Sleep(2500 * time.Millisecond)
		}
		sim.ServeHTTP(rw, r)
	}))
	t.Cleanup(srv.Close)
	w.baseURL = srv.URL + engagesim.Prefix
	store := openStore(t, testdb.Migrated(t))
	d := newDaemon(t, w, store, "fair", "@every 1s")
	d.Streams = []catalog.Stream{stream(t, "conversations"), stream(t, "visits")}
	_, stop := start(t, d)
	time.Sleep(6 * time.Second)
	runsOf := func(tenant string) (finished, running int) {
		store.Pool().QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE finished_at IS NOT NULL), count(*) FILTER (WHERE finished_at IS NULL)
FROM etl.run_stream WHERE tenant_id = $1 AND stream = 'conversations'`, tenant).Scan(&finished, &running)
		return finished, running
	}
	slowDone, slowRunning := runsOf(w.sim.Tenants()[0].ID)
	fastDone, _ := runsOf(w.sim.Tenants()[1].ID)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if slowDone > 0 || slowRunning == 0 {
		t.Fatalf("the slow tenant's first run is not the long one it should be: %d finished, %d running", slowDone, slowRunning)
	}
	if fastDone < 3 {
		t.Errorf("the other tenant's conversations ran %d times in 6 s on a 1 s schedule, while the slow tenant's first run went on", fastDone)
	}
}

// TestIncrementalRunsKeepTheirScheduleWhileOthersLoadAYear: two tenants
// load a year of history for the first time while a third, loaded
// already, runs every two seconds. The process runs four streams at once
// and the year's older history may hold only two of them, so the third
// tenant's incremental runs always find a slot and finish within their
// schedule (were all four slots the history's, they waited for its long
// streams).
func TestIncrementalRunsKeepTheirScheduleWhileOthersLoadAYear(t *testing.T) {
	if testing.Short() {
		t.Skip("a year's first load at the API's pace for 14 s: make test runs it, make test-short does not")
	}
	sim, err := engagesim.New(engagesim.Config{Seed: 3, Days: 370, Now: simNow, Scale: 1, Tenants: engagesim.DefaultTenants(3)})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	w := &world{sim, srv.URL + engagesim.Prefix}
	store := openStore(t, testdb.Migrated(t))
	fresh := w.sim.Tenants()[0].ID
	d := newDaemonWith(t, w, store, "busy", "@every 2s", func(string) []engage.Option { return []engage.Option{engage.WithRate(10, 1)} })
	d.Streams = []catalog.Stream{stream(t, "conversations"), stream(t, "visits"), stream(t, "agent_times_online"), stream(t, "chat_conversations")}
	d.RunnerConfig.StreamsInFlight = 4
	d.RunnerConfig.DetailWindowElements = 1 // a window a day or so: a year of hundreds of requests at 10/s
	for i := range d.Tenants {
		if d.Tenants[i].ID != fresh {
			d.Tenants[i].Start = civil.Of(simNow, d.Tenants[i].Location).AddDays(-365)
		}
	}
	_, stop := start(t, d)
	defer stop()

	ctx := context.Background()
	yearDone := func() bool { // both long loads have their oldest conversations in
		var n int
		store.Pool().QueryRow(ctx, `SELECT count(*) FROM etl.cursor WHERE stream = 'conversations' AND tenant_id <> $1`, fresh).Scan(&n)
		return n == 2
	}
	var first time.Time // the fresh tenant's first load done
	for deadline := time.Now().Add(30 * time.Second); first.IsZero(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the fresh tenant's first load did not finish in 30 s")
		}
		var n int
		store.Pool().QueryRow(ctx, `SELECT count(*) FROM etl.cursor WHERE tenant_id = $1`, fresh).Scan(&n)
		if n == len(d.Streams) {
			first = time.Now()
		}
	}
	time.Sleep(10 * time.Second)
	if yearDone() {
		t.Fatal("the year loaded within 10 s: the test proves nothing")
	}
	var runs int
	var slowest float64
	store.Pool().QueryRow(ctx, `SELECT count(*), coalesce(max(extract(epoch FROM finished_at - started_at)), 0) FROM etl.run_stream
		WHERE tenant_id = $1 AND stream = 'conversations' AND started_at > $2 AND finished_at IS NOT NULL`, fresh, first).Scan(&runs, &slowest)
	var waiting int
	store.Pool().QueryRow(ctx, `SELECT count(*) FROM etl.run_stream WHERE tenant_id = $1 AND finished_at IS NULL
		AND started_at < now() - interval '2 seconds'`, fresh).Scan(&waiting)
	if runs < 4 || slowest > 2 || waiting > 0 {
		t.Errorf("while two tenants loaded a year, the fresh tenant's conversations ran %d times in 10 s on a 2 s schedule, the slowest in %.1f s, %d streams running over 2 s",
			runs, slowest, waiting)
	}
	t.Logf("%d incremental runs in 10 s beside the year's load, the slowest %.2f s", runs, slowest)
}
