// Command engage-bench is the end-to-end benchmark behind `make bench`.
//
// It drives the built binaries as subprocesses, as an operator would: it
// starts `engage-etl simulate` with one large tenant (fixed seed, clock
// standing still, the client unpaced), backfills fresh warehouses of 30, 90
// and all the simulated days, dumps the loaded engage tables with psql \copy
// and reloads them into empty copies of the same tables and indexes, re-runs
// a backfill over a loaded range, times an incremental sync after one
// simulated hour, and rebuilds the facts from the raw answers. Wall time comes
// from the harness's clock, peak RSS and CPU time from the kernel's rusage of
// each engage-etl process (wait4), row counts from the warehouse. The timed
// steps (the large backfill, the \copy reload, the rebuild, the incremental
// sync) run -runs times (3) and are judged on their medians. The simulator's
// count of requests by route (GET /__sim/requests) around the large backfill
// gives its requests by stream group and their time at 5 requests/s.
//
// It prints the figures and the targets of issues 12 and 20 (PASS or MISS),
// and writes the same to bench/results-DATE.md. See README.md, "Benchmarks".
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

// options are the harness's flags; make bench fills them from BENCH_*.
type options struct {
	days        int     // simulated days of history, the large backfill
	scale       float64 // simulator --scale: conversations per weekday (weekends 0.4x)
	seed        uint64
	rssDays     string // backfills whose peak RSS is reported, comma-separated day counts
	redoDays    int    // days re-run by backfill --redo at the end of the loaded range
	rebuildDays int    // the backfill whose warehouse is rebuilt, all its facts truncated: -days or one of -rss-days
	pgURL       string // server, any database: the harness creates its own
	dbPrefix    string
	bin         string // engage-etl binary; built from ./cmd/engage-etl unless -no-build
	noBuild     bool
	etlConfig   string // optional --config passed to every engage-etl command
	outDir      string
	keep        bool   // keep the databases and dumps
	profile     string // folder of CPU and heap profiles of the large backfill and the rebuild
	volumeDays  int    // days backfilled at the daily volume when the tenant is scaled down
	preset      string
	limit       time.Duration // the bound the run is reported against
	runs        int           // runs of each timed step: the report gives their median and range
}

func main() {
	var o options
	fs := flag.NewFlagSet("engage-bench", flag.ExitOnError)
	fs.StringVar(&o.preset, "preset", "default", "figures: default (365 days, --scale 600: about 500 conversations a day), full (365 days, --scale 3620: about 3,000 a day, the issue's tenant; longer than 20 minutes on 2 cores), small (5 days, --scale 400: a minute, to try the harness); -days and -scale override it")
	fs.IntVar(&o.days, "days", 0, "simulated days of history and of the large backfill (default: the preset's)")
	fs.Float64Var(&o.scale, "scale", 0, "simulator --scale: conversations per weekday; the average day has 0.83 of it (default: the preset's)")
	fs.Uint64Var(&o.seed, "seed", 1, "simulator seed")
	fs.StringVar(&o.rssDays, "rss-days", "", "also backfill this many days into fresh warehouses, for their peak RSS (comma-separated; days from -days on are left out; default: 30,90, for -preset small 2)")
	fs.IntVar(&o.redoDays, "redo-days", 30, "days at the end of the loaded range re-run with backfill --redo, whose rows written should be 0")
	fs.IntVar(&o.rebuildDays, "rebuild-days", 0, "rebuild the warehouse of the backfill of this many days (-days or one of -rss-days), every fact table truncated (default: 30, for -preset small 5)")
	fs.IntVar(&o.volumeDays, "volume-days", -1, "when -scale is below the full preset's, also backfill this many days of a tenant at the full preset's daily volume (3,000 conversations), for the peak RSS of its windows; 0: not (default: 3, for -preset small 1)")
	fs.StringVar(&o.pgURL, "database-url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "a `URL` of the PostgreSQL server; the harness creates and drops its own databases there")
	fs.StringVar(&o.dbPrefix, "db-prefix", "engage_bench", "prefix of the databases the harness creates (dropped first)")
	fs.StringVar(&o.bin, "bin", "bin/engage-etl", "engage-etl `binary`")
	fs.BoolVar(&o.noBuild, "no-build", false, "use -bin as it is instead of building ./cmd/engage-etl into it")
	fs.StringVar(&o.etlConfig, "config", "", "engage-etl YAML `file` for every command (parallelism etc.); the tenant comes from ENGAGE_* variables")
	fs.StringVar(&o.outDir, "out", "bench", "`folder` of results-DATE.md")
	fs.BoolVar(&o.keep, "keep", false, "keep the databases and the dumps")
	fs.StringVar(&o.profile, "profile", "", "write CPU and heap profiles of the large backfill and of the rebuild into this `folder`, and add their top functions to the report")
	fs.IntVar(&o.runs, "runs", 3, "runs of each timed step (the large backfill, the psql \\copy reload, the rebuild, the incremental sync): the report gives the median and the min-max, and judges the targets on the medians; 1 for a quick try")
	fs.DurationVar(&o.limit, "limit", 30*time.Minute, "the bound the whole run is reported against (the report also says when it took more than the 20 minutes of issue 12)")
	var fo fleetOptions
	fs.IntVar(&fo.tenants, "fleet", 0, "run the fleet benchmark instead: this many simulated tenants loaded by -fleet-daemons daemons on one warehouse, the simulator enforcing each token's rate (writes bench/fleet-DATE.md)")
	fs.IntVar(&fo.daemons, "fleet-daemons", 3, "daemons of the fleet benchmark")
	fs.IntVar(&fo.days, "fleet-days", 2, "days each fleet tenant's first sync loads")
	fs.Float64Var(&fo.rate, "fleet-rate", 5, "requests per second per tenant: the simulator's limit and the tenants' pace")
	fs.Float64Var(&fo.scale, "fleet-scale", 2, "simulator --scale of the fleet's tenants")
	fs.DurationVar(&fo.latency, "fleet-latency", 20*time.Millisecond, "simulator --latency of the fleet benchmark")
	fs.IntVar(&fo.poolSize, "fleet-pool", 10, "each fleet daemon's pool_max_conns")
	fs.DurationVar(&fo.timeout, "fleet-timeout", 20*time.Minute, "how long the fleet may take to load every tenant")
	fs.Parse(os.Args[1:])
	if fo.tenants > 0 {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := fleet(ctx, o, fo); err != nil {
			fmt.Fprintln(os.Stderr, "engage-bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := o.applyPreset(); err != nil {
		fmt.Fprintln(os.Stderr, "engage-bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "engage-bench:", err)
		os.Exit(1)
	}
}

var presets = map[string]struct {
	days        int
	scale       float64
	rssDays     string
	rebuildDays int
	volumeDays  int
}{
	"full":    {365, 3620, "30,90", 30, 0},
	"default": {365, 600, "30,90", 30, 3},
	"small":   {5, 400, "2", 5, 1},
}

func (o *options) applyPreset() error {
	p, ok := presets[o.preset]
	if !ok {
		return fmt.Errorf("-preset %q: use default, full or small", o.preset)
	}
	if o.days == 0 {
		o.days = p.days
	}
	if o.scale == 0 {
		o.scale = p.scale
	}
	if o.rssDays == "" {
		o.rssDays = p.rssDays
	}
	if o.volumeDays < 0 {
		o.volumeDays = p.volumeDays
	}
	if o.rebuildDays <= 0 {
		o.rebuildDays = p.rebuildDays
	}
	if o.rebuildDays >= o.days {
		o.rebuildDays = o.days
	}
	if o.runs < 1 || o.runs > 25 {
		return fmt.Errorf("-runs %d: want 1 to 25", o.runs)
	}
	if o.days < 1 || o.days > 3660 || o.scale <= 0 {
		return fmt.Errorf("-days %d, -scale %v: want 1 to 3660 days and a positive scale", o.days, o.scale)
	}
	return nil
}

// bench is one run's state.
type bench struct {
	o       options
	work    string // dumps and logs
	env     []string
	simURL  string
	sim     *exec.Cmd
	simAddr string
	tenant  string
	today   string // the simulator's local day (UTC) at the start
	from    string // first day of the large backfill
	to      string // the day after today
	res     results
	started time.Time
	// the fleet benchmark's simulator (fleet.go): tenants and more flags
	simTenants int
	simExtra   []string
}

const (
	tenantID    = "bench"
	tenantToken = "bench-token"
)

func run(ctx context.Context, o options) error {
	b := &bench{o: o, started: time.Now(), tenant: tenantID}
	if o.rebuildDays != o.days && !slices.Contains(b.rssDays(), o.rebuildDays) {
		return fmt.Errorf("-rebuild-days %d: use -days (%d) or one of -rss-days (%v)", o.rebuildDays, o.days, b.rssDays())
	}
	var err error
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return err
		}
	}
	if b.work, err = os.MkdirTemp("", "engage-bench-"); err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(b.work)
	}
	b.res.loadStart = loadAvg()
	if l, err := strconv.ParseFloat(strings.Fields(b.res.loadStart + " 0")[0], 64); err == nil && l > float64(runtime.NumCPU()) {
		b.logf("the machine is busy (load %s on %d CPUs): the figures will be slower than on a quiet machine", b.res.loadStart, runtime.NumCPU())
	}
	b.logf("engage-bench: preset %s, %d days, --scale %g, seed %d; work folder %s", o.preset, o.days, o.scale, o.seed, b.work)
	if err := b.build(ctx); err != nil {
		return err
	}
	if err := b.startSimulator(ctx); err != nil {
		return err
	}
	defer b.stopSimulator()
	steps := []struct {
		name string
		fn   func(context.Context) error
	}{
		{"warehouses", b.createDatabases},
		{"backfills", b.backfills},
		{"dump and reload with psql \\copy", b.copyBaseline},
		{"re-run", b.rerun},
		{"incremental sync", b.incremental},
		{"KPI views", b.kpis},
		{"rebuild from raw", b.rebuild},
	}
	for _, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		b.logf("== %s", s.name)
		if err := s.fn(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
	}
	b.res.simCPU = b.simCPU()
	if b.volume() {
		b.logf("== backfill at the full preset's daily volume")
		if err := b.fullVolume(ctx); err != nil {
			return fmt.Errorf("backfill at the full preset's daily volume: %w", err)
		}
	}
	b.res.total = time.Since(b.started)
	if b.o.runs > 1 {
		b.logf("total %s, of which %s for runs 2 to %d of the timed steps", b.res.total.Round(time.Second), b.res.repeated.Round(time.Second), b.o.runs)
	} else {
		b.logf("total %s", b.res.total.Round(time.Second))
	}
	if !o.keep {
		b.dropDatabases(context.WithoutCancel(ctx))
	}
	return b.report()
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%6.1fs] "+format+"\n", append([]any{time.Since(b.started).Seconds()}, args...)...)
}

// build compiles engage-etl, with the commit stamped where git can tell it.
func (b *bench) build(ctx context.Context) error {
	if b.o.noBuild {
		return nil
	}
	b.logf("building %s", b.o.bin)
	cmd := exec.CommandContext(ctx, "go", "build", "-buildvcs=auto", "-o", b.o.bin, "./cmd/engage-etl")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	return cmd.Run()
}

// startSimulator runs `engage-etl simulate` on a free loopback port with the
// clock standing still one hour behind the wall clock (so that a sync's
// activity-log cursor, which follows the wall clock, covers the hour the
// simulator later advances by), and waits until it serves.
func (b *bench) startSimulator(ctx context.Context) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	b.simAddr = ln.Addr().String()
	ln.Close()
	now := time.Now().UTC().Add(-time.Hour).Truncate(time.Minute)
	b.today = now.Format("2006-01-02")
	day := now.Truncate(24 * time.Hour)
	b.from = day.AddDate(0, 0, 1-b.o.days).Format("2006-01-02")
	b.to = day.AddDate(0, 0, 1).Format("2006-01-02")
	b.res.simNow = now
	args := []string{"simulate", "--addr", b.simAddr, "--seed", strconv.FormatUint(b.o.seed, 10),
		"--days", strconv.Itoa(b.o.days), "--tenants", strconv.Itoa(max(1, b.simTenants)), "--scale", strconv.FormatFloat(b.o.scale, 'f', -1, 64),
		"--timezone", "UTC", "--tenant-id", tenantID, "--token", tenantToken, "--now", now.Format(time.RFC3339), "--log-level", "warn"}
	args = append(args, b.simExtra...)
	b.res.simArgs = "engage-etl " + strings.Join(args, " ")
	b.sim = exec.Command(b.o.bin, args...)
	out, err := b.sim.StdoutPipe()
	if err != nil {
		return err
	}
	b.sim.Stderr = os.Stderr
	started := time.Now()
	if err := b.sim.Start(); err != nil {
		return err
	}
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "Engage simulator at") {
				ready <- nil
				io.Copy(io.Discard, out)
				return
			}
		}
		ready <- errors.New("the simulator stopped before it served")
	}()
	select {
	case err := <-ready:
		if err != nil {
			return err
		}
	case <-time.After(5 * time.Minute):
		return errors.New("the simulator did not start within 5 minutes")
	case <-ctx.Done():
		return ctx.Err()
	}
	b.res.simStart = time.Since(started)
	b.simURL = "http://" + b.simAddr
	b.logf("simulator at %s, clock at %s, built its world in %s", b.simURL, now.Format(time.RFC3339), b.res.simStart.Round(time.Millisecond))
	b.env = append(os.Environ(),
		"ENGAGE_API_TOKEN="+tenantToken, "ENGAGE_TENANT_ID="+tenantID, "ENGAGE_TIMEZONE=UTC",
		"ENGAGE_BASE_URL="+b.simURL+"/rest/v1", "ENGAGE_REQUESTS_PER_SECOND=0",
		// A sync of a stream without a cursor starts yesterday, not 30 days ago.
		"ENGAGE_START_DATE="+day.AddDate(0, 0, -1).Format("2006-01-02"))
	return nil
}

func (b *bench) stopSimulator() {
	if b.sim != nil && b.sim.Process != nil {
		b.sim.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { b.sim.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			b.sim.Process.Kill()
		}
	}
}

// simCPU is the simulator's user+system CPU time so far, from /proc.
func (b *bench) simCPU() time.Duration {
	if b.sim == nil || b.sim.Process == nil {
		return 0
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", b.sim.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(raw)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(fields) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(fields[11], 10, 64)
	st, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

// advanceSimulator moves the simulator's clock forward.
func (b *bench) advanceSimulator(ctx context.Context, d time.Duration) error {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.simURL+"/__sim/advance?by="+d.String(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("advance the simulator: %s: %s", resp.Status, body)
	}
	return nil
}

// measured is one engage-etl (or psql) process: wall time, peak RSS and CPU
// time from the kernel's accounting of the finished process.
type measured struct {
	wall      time.Duration
	maxRSS    int64 // bytes
	user, sys time.Duration
	stdout    string
}

func (m measured) cpu() time.Duration { return m.user + m.sys }

// etl runs engage-etl against database db, measured; its output goes to a log
// in the work folder.
func (b *bench) etl(ctx context.Context, db, logName string, args ...string) (measured, error) {
	if b.o.etlConfig != "" {
		args = append(args[:1:1], append([]string{"--config", b.o.etlConfig}, args[1:]...)...)
	}
	env := append(b.env, "DATABASE_URL="+b.dbURL(db))
	b.settle(ctx)
	return b.measure(ctx, env, logName, b.o.bin, args...)
}

// settle checkpoints and waits (up to settleFor) until no autovacuum worker
// runs, so that a step is not timed while PostgreSQL still vacuums and
// analyzes what the step before it loaded.
func (b *bench) settle(ctx context.Context) {
	if _, err := b.psql(ctx, "postgres", "CHECKPOINT"); err != nil {
		b.logf("checkpoint: %v (not a superuser?), going on", err)
	}
	started := time.Now()
	for time.Since(started) < settleFor {
		out, err := b.psql(ctx, "postgres", "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'autovacuum worker'")
		if err != nil || strings.TrimSpace(out) == "0" {
			break
		}
		select {
		case <-time.After(500 * time.Millisecond):
		case <-ctx.Done():
			return
		}
	}
	if waited := time.Since(started); waited > time.Second {
		b.logf("waited %s for autovacuum to finish", waited.Round(100*time.Millisecond))
	}
}

const settleFor = 3 * time.Minute

func (b *bench) measure(ctx context.Context, env []string, logName, name string, args ...string) (measured, error) {
	logPath := filepath.Join(b.work, logName+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return measured{}, err
	}
	defer logf.Close()
	var stdout strings.Builder
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdout = io.MultiWriter(&stdout, logf)
	cmd.Stderr = logf
	started := time.Now()
	err = cmd.Run()
	m := measured{wall: time.Since(started), stdout: stdout.String()}
	if ps := cmd.ProcessState; ps != nil {
		if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
			m.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
			m.user = time.Duration(ru.Utime.Nano())
			m.sys = time.Duration(ru.Stime.Nano())
		}
	}
	if err != nil {
		tail, _ := os.ReadFile(logPath)
		if len(tail) > 2000 {
			tail = tail[len(tail)-2000:]
		}
		return m, fmt.Errorf("%s %s: %w\n%s", filepath.Base(name), strings.Join(args, " "), err, tail)
	}
	return m, nil
}

func (b *bench) dbName(suffix string) string { return b.o.dbPrefix + "_" + suffix }

func (b *bench) dbURL(db string) string {
	return replaceDatabase(b.o.pgURL, db)
}

// replaceDatabase swaps the database of a postgres:// URL.
func replaceDatabase(u, db string) string {
	rest, query, _ := strings.Cut(u, "?")
	scheme, hostPath, ok := strings.Cut(rest, "://")
	if !ok {
		return u
	}
	host, _, _ := strings.Cut(hostPath, "/")
	out := scheme + "://" + host + "/" + db
	if query != "" {
		out += "?" + query
	}
	return out
}

// psql runs SQL (or psql meta-commands) on db and returns what it prints,
// unaligned and without headers.
func (b *bench) psql(ctx context.Context, db, sql string) (string, error) {
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", b.dbURL(db), "-c", sql)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("psql %q: %w: %s", firstLine(sql), err, errb.String())
	}
	return out.String(), nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if len(s) > 80 {
		s = s[:80] + "…"
	}
	return s
}

func (b *bench) databases() []string {
	dbs := []string{b.dbName("full"), b.dbName("copy")}
	if b.volume() {
		dbs = append(dbs, b.dbName("volume"))
	}
	for _, d := range b.rssDays() {
		dbs = append(dbs, b.dbName(fmt.Sprintf("d%d", d)))
	}
	return dbs
}

// rssDays are the extra backfills, shorter than the large one.
func (b *bench) rssDays() []int {
	var out []int
	for _, f := range strings.Split(b.o.rssDays, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 && n < b.o.days {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

// createDatabases makes a fresh, migrated warehouse for each backfill and for
// the psql reload.
func (b *bench) createDatabases(ctx context.Context) error {
	b.dropDatabases(ctx)
	for _, db := range b.databases() {
		if err := b.freshDatabase(ctx, db); err != nil {
			return err
		}
	}
	return nil
}

// freshDatabase drops db if it is there, creates it and migrates it.
func (b *bench) freshDatabase(ctx context.Context, db string) error {
	if _, err := b.psql(ctx, "postgres", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := b.psql(ctx, "postgres", "CREATE DATABASE "+db); err != nil {
		return err
	}
	_, err := b.etl(ctx, db, "migrate-"+db, "migrate", "up")
	return err
}

func (b *bench) dropDatabases(ctx context.Context) {
	for _, db := range b.databases() {
		if _, err := b.psql(ctx, "postgres", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
			b.logf("%v", err)
		}
	}
}

// backfills loads the short ranges (for their peak RSS), once each, then the
// large one -runs times, each into a freshly created warehouse: the report
// takes the median run. The simulator's requests are counted around the
// first large run; the last one's warehouse is the one the steps after use.
func (b *bench) backfills(ctx context.Context) error {
	base, err := b.tableCounts(ctx, b.dbName("copy"), "engage")
	if err != nil {
		return err
	}
	b.res.baseline = base
	for _, d := range b.rssDays() {
		run, _, err := b.backfill(ctx, d, fmt.Sprintf("backfill-%d", d), false)
		if err != nil {
			return err
		}
		b.res.backfills = append(b.res.backfills, run)
	}
	d, db := b.o.days, b.dbName("full")
	var runs []backfillRun
	for i := range b.o.runs {
		started := time.Now()
		logName := fmt.Sprintf("backfill-%d", d)
		if i > 0 {
			// A fresh warehouse, as the first run had.
			if err := b.freshDatabase(ctx, db); err != nil {
				return err
			}
			logName += fmt.Sprintf("-run%d", i+1)
		}
		var before map[string]int
		if i == 0 {
			if before, err = b.simRequests(ctx); err != nil {
				b.logf("cannot count the simulator's requests (%v): the report leaves them out", err)
			}
		}
		run, counts, err := b.backfill(ctx, d, logName, i == 0)
		if err != nil {
			return err
		}
		if i == 0 && before != nil {
			after, err := b.simRequests(ctx)
			if err != nil {
				return err
			}
			b.res.requests = newRequestCount(catalog.All(), before, after, d)
			// The run history counts each stream's requests apart (the
			// messages stream's conversation lists with it): the groups
			// are its figures; what the simulator received besides them
			// is what planning and the estimate asked to count.
			out, err := b.psql(ctx, db, `SELECT stream || ' ' || coalesce(sum(requests), 0) FROM etl.run_stream
				WHERE run_id = (SELECT max(run_id) FROM etl.run WHERE mode = 'backfill') GROUP BY stream`)
			if err != nil {
				return err
			}
			b.res.requests.byStream(catalog.All(), out)
			b.logf("the %d-day backfill asked %d requests (%s at 5 requests/s), %d of them for messages", d, b.res.requests.total(), at5(b.res.requests.total()), b.res.requests.byGroup[groupMessages])
		} else {
			b.res.repeated += time.Since(started)
		}
		if len(runs) > 0 && run.rows != runs[0].rows {
			b.logf("run %d of the %d-day backfill loaded %d rows, run 1 %d", i+1, d, run.rows, runs[0].rows)
		}
		runs = append(runs, run)
		// The warehouse of the last run stays for the steps after.
		b.res.counts = counts
		b.res.convPerDay = float64(counts["fact_conversation"]) / float64(d)
		b.res.messages = counts["fact_message"]
	}
	med := runs[medianIndex(runs, backfillWall)]
	med.runs = runs
	b.res.backfills = append(b.res.backfills, med)
	if len(runs) > 1 {
		s := spreadOf(runs, backfillWall)
		b.logf("backfill of %d days, %d runs: median %s (%s to %s), %.0f rows/s", d, len(runs), s.med.Round(time.Millisecond),
			s.lo.Round(time.Millisecond), s.hi.Round(time.Millisecond), rate(med.rows, med.m.wall))
	}
	return b.rawStats(ctx)
}

// backfill times one backfill of the last d days into its warehouse, which
// holds no tenant data yet, and counts the engage rows it loaded.
func (b *bench) backfill(ctx context.Context, d int, logName string, profile bool) (backfillRun, map[string]int64, error) {
	db := b.backfillDB(d)
	today, _ := time.Parse("2006-01-02", b.today)
	from := today.AddDate(0, 0, 1-d).Format("2006-01-02")
	cpu0 := b.simCPU()
	args := []string{"backfill", "--from", from, "--to", b.to}
	if profile {
		args = append(args, b.profileArgs("backfill")...)
	}
	m, err := b.etl(ctx, db, logName, args...)
	if err != nil {
		return backfillRun{}, nil, err
	}
	simCPU := b.simCPU() - cpu0
	counts, err := b.tableCounts(ctx, db, "engage")
	if err != nil {
		return backfillRun{}, nil, err
	}
	rows := loadedRows(counts, b.res.baseline)
	b.logf("backfill of %d days: %d rows in %s (%.0f rows/s), peak RSS %s", d, rows, m.wall.Round(time.Millisecond),
		float64(rows)/m.wall.Seconds(), mib(m.maxRSS))
	return backfillRun{days: d, m: m, rows: rows, simCPU: simCPU}, counts, nil
}

// loadedRows counts the rows of the tables a backfill changed: all their rows,
// the few a migration seeds included, since the psql reload copies those too.
func loadedRows(counts, base map[string]int64) int64 {
	var n int64
	for t, c := range counts {
		if c != base[t] {
			n += c
		}
	}
	return n
}

// tableCounts counts the rows of every table of a schema, exactly.
func (b *bench) tableCounts(ctx context.Context, db, schema string) (map[string]int64, error) {
	list, err := b.psql(ctx, db, fmt.Sprintf(
		`SELECT string_agg(format('SELECT %%L, count(*) FROM %%I.%%I', tablename, schemaname, tablename), ' UNION ALL ')
		 FROM pg_tables WHERE schemaname = '%s'`, schema))
	if err != nil {
		return nil, err
	}
	out, err := b.psql(ctx, db, strings.TrimSpace(list))
	if err != nil {
		return nil, err
	}
	counts := map[string]int64{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		name, n, ok := strings.Cut(line, "|")
		if !ok {
			continue
		}
		c, _ := strconv.ParseInt(n, 10, 64)
		counts[name] = c
	}
	return counts, nil
}

func (b *bench) rawStats(ctx context.Context) error {
	out, err := b.psql(ctx, b.dbName("full"),
		`SELECT (SELECT count(*) FROM raw.payload), (SELECT count(*) FROM raw.conversation_messages),
		        (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'raw' AND c.relkind = 'r'),
		        (SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'engage' AND c.relkind = 'r')`)
	if err != nil {
		return err
	}
	f := strings.Split(strings.TrimSpace(out), "|")
	if len(f) == 4 {
		b.res.rawPayloads, _ = strconv.ParseInt(f[0], 10, 64)
		b.res.rawMessages, _ = strconv.ParseInt(f[1], 10, 64)
		b.res.rawBytes, _ = strconv.ParseInt(f[2], 10, 64)
		b.res.engageBytes, _ = strconv.ParseInt(f[3], 10, 64)
	}
	return nil
}

// copyTable is one table dumped and reloaded by psql \copy.
type copyTable struct {
	schema, name string
	rows         int64
	dump, load   time.Duration   // load: the median of loads
	loads        []time.Duration // each run's reload
}

func (t copyTable) fact() bool { return strings.HasPrefix(t.name, "fact_") }

// copyBaseline dumps what the large backfill loaded into the engage tables (and,
// for comparison, the raw answers), then reloads them with psql \copy into a
// freshly migrated warehouse whose same tables were emptied: same tables,
// indexes and constraints. Tables are loaded parents first, in one psql
// session. The dump is made once; the reload runs -runs times, the tables
// emptied again before each.
func (b *bench) copyBaseline(ctx context.Context) error {
	src, dst := b.dbName("full"), b.dbName("copy")
	var tables []copyTable
	for name, c := range b.res.counts {
		if c != b.res.baseline[name] {
			tables = append(tables, copyTable{schema: "engage", name: name, rows: c})
		}
	}
	order, err := b.fkOrder(ctx, dst)
	if err != nil {
		return err
	}
	sort.Slice(tables, func(i, j int) bool {
		if order[tables[i].name] != order[tables[j].name] {
			return order[tables[i].name] < order[tables[j].name]
		}
		return tables[i].name < tables[j].name
	})
	raws, err := b.tableCounts(ctx, src, "raw")
	if err != nil {
		return err
	}
	for _, name := range []string{"payload", "conversation_messages"} {
		tables = append(tables, copyTable{schema: "raw", name: name, rows: raws[name]})
	}
	var names []string
	for _, t := range tables {
		names = append(names, t.schema+"."+t.name)
	}
	truncate := "TRUNCATE " + strings.Join(names, ", ") + " CASCADE"
	dumps, err := b.copyAll(ctx, src, "dump", tables, "TO")
	if err != nil {
		return err
	}
	for i := range tables {
		tables[i].dump = dumps[i]
	}
	for run := range b.o.runs {
		started := time.Now()
		if _, err := b.psql(ctx, dst, truncate); err != nil {
			return err
		}
		// Settle first, so the reload does not pay for the backfill's (or
		// the truncated reload's) dirty pages.
		b.settle(ctx)
		logName := "reload"
		if run > 0 {
			logName += fmt.Sprintf("-run%d", run+1)
		}
		loads, err := b.copyAll(ctx, dst, logName, tables, "FROM")
		if err != nil {
			return err
		}
		var total time.Duration
		for i := range tables {
			tables[i].loads = append(tables[i].loads, loads[i])
			total += loads[i]
		}
		b.logf("\\copy reload %d of %d: %s", run+1, b.o.runs, total.Round(time.Millisecond))
		if run > 0 {
			b.res.repeated += time.Since(started)
		}
	}
	for i := range tables {
		t := &tables[i]
		t.load = spreadOf(t.loads, itself).med
		b.logf("\\copy %s.%s: %d rows in %s", t.schema, t.name, t.rows, t.load.Round(time.Millisecond))
	}
	b.res.copies = tables
	return nil
}

// copyAll runs \copy TABLE TO|FROM FILE for every table in one psql session
// and returns each one's time as psql's \timing measures it (the client reading
// or writing the file included, the session's start not).
func (b *bench) copyAll(ctx context.Context, db, logName string, tables []copyTable, direction string) ([]time.Duration, error) {
	script := "\\timing on\n"
	for _, t := range tables {
		script += fmt.Sprintf("\\copy %s.%s %s '%s'\n", t.schema, t.name, direction, filepath.Join(b.work, t.schema+"."+t.name+".copy"))
	}
	file := filepath.Join(b.work, logName+".sql")
	if err := os.WriteFile(file, []byte(script), 0o644); err != nil {
		return nil, err
	}
	m, err := b.measure(ctx, os.Environ(), logName, "psql", "-X", "-v", "ON_ERROR_STOP=1", "-d", b.dbURL(db), "-f", file)
	if err != nil {
		return nil, err
	}
	var times []time.Duration
	for _, line := range strings.Split(m.stdout, "\n") {
		if rest, ok := strings.CutPrefix(line, "Time: "); ok {
			ms, err := strconv.ParseFloat(strings.Fields(rest)[0], 64)
			if err != nil {
				return nil, fmt.Errorf("psql \\timing: %q: %w", line, err)
			}
			times = append(times, time.Duration(ms*float64(time.Millisecond)))
		}
	}
	if len(times) != len(tables) {
		return nil, fmt.Errorf("psql printed %d timings for %d \\copy commands:\n%s", len(times), len(tables), m.stdout)
	}
	return times, nil
}

// fkOrder ranks the engage tables so that every table comes after the tables
// its foreign keys reference.
func (b *bench) fkOrder(ctx context.Context, db string) (map[string]int, error) {
	out, err := b.psql(ctx, db, `SELECT c.relname, p.relname FROM pg_constraint k
		JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE k.contype = 'f' AND n.nspname = 'engage' AND k.conrelid <> k.confrelid`)
	if err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if c, p, ok := strings.Cut(line, "|"); ok {
			parents[c] = append(parents[c], p)
		}
	}
	rank := map[string]int{}
	var depth func(string, int) int
	depth = func(t string, guard int) int {
		if r, ok := rank[t]; ok || guard > 50 {
			return r
		}
		r := 0
		for _, p := range parents[t] {
			r = max(r, depth(p, guard+1)+1)
		}
		rank[t] = r
		return r
	}
	for t := range parents {
		depth(t, 0)
	}
	return rank, nil
}

// rerun backfills the last redoDays of the loaded range again with --redo:
// nothing changed in the simulator, so it should write no row.
func (b *bench) rerun(ctx context.Context) error {
	days := min(b.o.redoDays, b.o.days)
	today, _ := time.Parse("2006-01-02", b.today)
	from := today.AddDate(0, 0, 1-days).Format("2006-01-02")
	m, err := b.etl(ctx, b.dbName("full"), "rerun", "backfill", "--redo", "--from", from, "--to", b.to)
	if err != nil {
		return err
	}
	received, written, err := b.lastRun(ctx, b.dbName("full"))
	if err != nil {
		return err
	}
	b.res.rerun = rerunResult{days: days, m: m, received: received, written: written, byStream: b.writtenByStream(m.stdout)}
	b.logf("re-run of %d days: %d rows received, %d written, in %s", days, received, written, m.wall.Round(time.Millisecond))
	return nil
}

// lastRun sums the rows received and written by the latest run.
func (b *bench) lastRun(ctx context.Context, db string) (received, written int64, err error) {
	out, err := b.psql(ctx, db, `SELECT coalesce(sum(rows_received), 0), coalesce(sum(rows_written), 0) FROM etl.run_stream
		WHERE run_id = (SELECT max(run_id) FROM etl.run)`)
	if err != nil {
		return 0, 0, err
	}
	f := strings.Split(strings.TrimSpace(out), "|")
	if len(f) != 2 {
		return 0, 0, fmt.Errorf("etl.run_stream: unexpected %q", out)
	}
	received, _ = strconv.ParseInt(f[0], 10, 64)
	written, _ = strconv.ParseInt(f[1], 10, 64)
	return received, written, nil
}

// writtenByStream picks the streams with rows written from a sync or
// backfill's table (TENANT STREAM STATUS WINDOWS ROWS WRITTEN CURSOR).
func (b *bench) writtenByStream(table string) []string {
	var out []string
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		if len(f) < 6 || f[0] == "TENANT" {
			continue
		}
		// WINDOWS may read "3/3 (+2 done)": WRITTEN is the second number after it.
		var nums []string
		for _, x := range f[3:] {
			if _, err := strconv.ParseInt(x, 10, 64); err == nil {
				nums = append(nums, x)
			}
		}
		if len(nums) >= 2 && nums[len(nums)-1] != "0" {
			out = append(out, f[1]+" "+nums[len(nums)-1])
		}
	}
	return out
}

// incremental times a sync after one simulated hour on the large warehouse.
func (b *bench) incremental(ctx context.Context) error {
	r, err := b.syncAfterHour(ctx, b.dbName("full"))
	b.res.sync = r
	if err != nil {
		return err
	}
	b.res.lists, err = b.listRefresh(ctx, b.dbName("full"))
	return err
}

// listStreams are the type 1 lists: a sync leaves them alone for
// sync.list_refresh (1h by default) after they loaded, as the daemon runs
// them on its hourly lists schedule; the harness times their refresh apart.
var listStreams = "users,teams,customers,roles,rules,opening_hours,sla_rules"

// listRefresh times `sync --streams` of the lists, which reads them whole
// whatever sync.list_refresh says: the hourly part of keeping up.
func (b *bench) listRefresh(ctx context.Context, db string) (syncResult, error) {
	return b.timedSync(ctx, db, "list refresh", "sync-lists-"+db, "--streams", listStreams)
}

// syncAfterHour brings the simulator to one hour behind the wall clock,
// syncs (the first sync sets the cursors a backfill of an empty warehouse
// leaves unset), then -runs times advances the simulator by one more hour and
// times a sync. It returns the median run, with every run in its runs.
func (b *bench) syncAfterHour(ctx context.Context, db string) (syncResult, error) {
	behind := time.Since(b.res.simNow) - time.Hour
	if behind > 0 {
		if err := b.advanceSimulator(ctx, behind.Truncate(time.Second)); err != nil {
			return syncResult{}, err
		}
	}
	if _, err := b.etl(ctx, db, "sync-first-"+db, "sync"); err != nil {
		return syncResult{}, err
	}
	var runs []syncResult
	for i := range b.o.runs {
		started := time.Now()
		if err := b.advanceSimulator(ctx, time.Hour); err != nil {
			return syncResult{}, err
		}
		what, logName := "incremental sync after one simulated hour", "sync-hour-"+db
		if b.o.runs > 1 {
			what += fmt.Sprintf(", run %d of %d", i+1, b.o.runs)
		}
		if i > 0 {
			logName += fmt.Sprintf("-run%d", i+1)
		}
		r, err := b.timedSync(ctx, db, what, logName)
		if err != nil {
			return syncResult{}, err
		}
		runs = append(runs, r)
		if i > 0 {
			b.res.repeated += time.Since(started)
		}
	}
	med := runs[medianIndex(runs, syncWall)]
	med.runs = runs
	return med, nil
}

// timedSync runs and times `engage-etl sync args`, with the rows its run
// received and wrote and the simulator's CPU time meanwhile.
func (b *bench) timedSync(ctx context.Context, db, what, logName string, args ...string) (syncResult, error) {
	cpu0 := b.simCPU()
	m, err := b.etl(ctx, db, logName, append([]string{"sync"}, args...)...)
	if err != nil {
		return syncResult{}, err
	}
	received, written, err := b.lastRun(ctx, db)
	if err != nil {
		return syncResult{}, err
	}
	b.logf("%s: %d rows received, %d written, in %s", what, received, written, m.wall.Round(time.Millisecond))
	return syncResult{m: m, received: received, written: written, simCPU: b.simCPU() - cpu0}, nil
}

// rebuild truncates every engage fact table of the warehouse of one of the
// backfills (rebuildDays), keeps raw, and times `engage-etl rebuild` of it all,
// -runs times (the facts truncated again before each); the facts each run
// restores are compared with those before. (A rebuild of the last days of a
// warehouse loaded today replays every conversation's messages answer fetched
// since, so it would cost as much as a whole one.)
func (b *bench) rebuild(ctx context.Context) error {
	db := b.backfillDB(b.o.rebuildDays)
	before, err := b.tableCounts(ctx, db, "engage")
	if err != nil {
		return err
	}
	var facts []string
	var emptied int64
	for t, c := range before {
		if strings.HasPrefix(t, "fact_") {
			facts = append(facts, "engage."+t)
			emptied += c
		}
	}
	sort.Strings(facts)
	var runs []rebuildResult
	for i := range b.o.runs {
		started := time.Now()
		if _, err := b.psql(ctx, db, "TRUNCATE "+strings.Join(facts, ", ")); err != nil {
			return err
		}
		args, logName := []string{"rebuild"}, "rebuild"
		if i == 0 {
			args = append(args, b.profileArgs("rebuild")...)
		} else {
			logName += fmt.Sprintf("-run%d", i+1)
		}
		m, err := b.etl(ctx, db, logName, args...)
		if err != nil {
			return err
		}
		after, err := b.tableCounts(ctx, db, "engage")
		if err != nil {
			return err
		}
		var restored int64
		var differ []string
		for t, c := range after {
			if strings.HasPrefix(t, "fact_") {
				restored += c
				if c != before[t] {
					differ = append(differ, fmt.Sprintf("%s %d → %d", t, before[t], c))
				}
			}
		}
		sort.Strings(differ)
		runs = append(runs, rebuildResult{days: b.o.rebuildDays, m: m, factsBefore: emptied, restored: restored, differ: differ})
		b.logf("rebuild of the %d-day warehouse: %d fact rows restored (of %d) in %s, peak RSS %s", b.o.rebuildDays, restored, emptied, m.wall.Round(time.Millisecond), mib(m.maxRSS))
		if i > 0 {
			b.res.repeated += time.Since(started)
		}
	}
	med := runs[medianIndex(runs, rebuildWall)]
	med.runs = runs
	b.res.rebuild = med
	return nil
}

// backfillDB is the warehouse of the backfill of days.
func (b *bench) backfillDB(days int) string {
	if days == b.o.days {
		return b.dbName("full")
	}
	return b.dbName(fmt.Sprintf("d%d", days))
}

// volume reports whether the tenant is scaled down, so that a short backfill
// at the full preset's daily volume is added for its peak RSS.
func (b *bench) volume() bool {
	return b.o.volumeDays > 0 && b.o.scale < presets["full"].scale
}

// fullVolume stops the simulator, starts one of volumeDays at the full
// preset's scale and backfills them into a fresh warehouse: the peak RSS of a
// backfill depends on how large a day's window is, which a scaled-down
// tenant understates.
func (b *bench) fullVolume(ctx context.Context) error {
	b.stopSimulator()
	main := b.res
	days, scale, today, from, to := b.o.days, b.o.scale, b.today, b.from, b.to
	// Whole days: the simulator's today is cut at its clock.
	b.o.days, b.o.scale = b.o.volumeDays+1, presets["full"].scale
	defer func() {
		volume, volumeSync, repeated := b.res.volume, b.res.volumeSync, b.res.repeated
		b.res = main
		b.res.volume, b.res.volumeSync, b.res.repeated = volume, volumeSync, repeated
		b.o.days, b.o.scale, b.today, b.from, b.to = days, scale, today, from, to
	}()
	if err := b.startSimulator(ctx); err != nil {
		return err
	}
	db := b.dbName("volume")
	if _, err := b.etl(ctx, db, "migrate-"+db, "migrate", "up"); err != nil {
		return err
	}
	cpu0 := b.simCPU()
	m, err := b.etl(ctx, db, "backfill-volume", "backfill", "--from", b.from, "--to", b.today)
	if err != nil {
		return err
	}
	counts, err := b.tableCounts(ctx, db, "engage")
	if err != nil {
		return err
	}
	rows := loadedRows(counts, main.baseline)
	b.res.volume = backfillRun{days: b.o.volumeDays, m: m, rows: rows, simCPU: b.simCPU() - cpu0,
		scale: b.o.scale, convPerDay: float64(counts["fact_conversation"]) / float64(b.o.volumeDays)}
	b.logf("backfill of %s at --scale %g: %d rows in %s (%.0f rows/s), peak RSS %s", plural(b.o.volumeDays, "day"), b.o.scale, rows,
		m.wall.Round(time.Millisecond), float64(rows)/m.wall.Seconds(), mib(m.maxRSS))
	b.res.volumeSync, err = b.syncAfterHour(ctx, db)
	return err
}

// profileArgs are the flags that make a command write its profiles.
func (b *bench) profileArgs(name string) []string {
	if b.o.profile == "" {
		return nil
	}
	return []string{"--cpuprofile", filepath.Join(b.o.profile, name+".cpu.pprof"), "--memprofile", filepath.Join(b.o.profile, name+".heap.pprof")}
}

// profileTops is go tool pprof -top of each profile written.
func (b *bench) profileTops() []string {
	var out []string
	for _, name := range []string{"backfill.cpu", "backfill.heap", "rebuild.cpu"} {
		file := filepath.Join(b.o.profile, name+".pprof")
		if _, err := os.Stat(file); err != nil {
			continue
		}
		args := []string{"tool", "pprof", "-top", "-nodecount=25"}
		if strings.HasSuffix(name, ".heap") {
			args = append(args, "-sample_index=alloc_space")
		}
		top, err := exec.Command("go", append(args, b.o.bin, file)...).Output()
		if err != nil {
			continue
		}
		out = append(out, fmt.Sprintf("`go tool pprof %s %s %s`:\n\n```\n%s```", strings.Join(args[2:], " "), b.o.bin, file, top))
	}
	return out
}

// loadAvg is the 1, 5 and 15 minute load averages.
func loadAvg() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(raw))[:3], " ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

func mib(bytes int64) string { return fmt.Sprintf("%.0f MiB", float64(bytes)/(1<<20)) }

func init() {
	if runtime.GOOS != "linux" {
		fmt.Fprintln(os.Stderr, "engage-bench: peak RSS is read from Linux's rusage; elsewhere it may be missing")
	}
}
