package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/kinds"
)

// fleetOptions shape the fleet benchmark: many tenants, several daemons,
// one warehouse, the simulator enforcing each token's rate (issue "A fleet
// of tenants and daemons").
type fleetOptions struct {
	tenants  int
	daemons  int
	days     int
	rate     float64
	scale    float64
	latency  time.Duration
	poolSize int // each daemon's pool_max_conns
	timeout  time.Duration
}

// fleetResult is what the fleet benchmark measured.
type fleetResult struct {
	o              fleetOptions
	requests       int
	refused        int
	took           time.Duration   // until every tenant was loaded
	tenantDone     []time.Duration // each tenant's completion, from the start
	ideal          time.Duration   // a tenant's requests at its rate, the median tenant's
	connsMax       int
	connsBound     int
	rssMaxMiB      []float64 // per daemon
	goroutinesMax  int
	metricsScrape  []time.Duration
	statusPage     []time.Duration
	lagSeriesCount int
	loaded         int
}

// fleet runs the fleet benchmark and writes bench/fleet-DATE.md.
func fleet(ctx context.Context, o options, fo fleetOptions) error {
	b := &bench{o: o, started: time.Now(), tenant: tenantID, simTenants: fo.tenants,
		simExtra: []string{"--rate-limit", strconv.FormatFloat(fo.rate, 'f', -1, 64), "--latency", fo.latency.String()}}
	b.o.days, b.o.scale = fo.days+1, fo.scale
	var err error
	if b.work, err = os.MkdirTemp("", "engage-bench-fleet-"); err != nil {
		return err
	}
	if !o.keep {
		defer os.RemoveAll(b.work)
	}
	b.logf("engage-bench fleet: %d tenants, %d daemons, %d days each, %g requests/s per tenant, --scale %g, latency %s; work folder %s",
		fo.tenants, fo.daemons, fo.days, fo.rate, fo.scale, fo.latency, b.work)
	if err := b.build(ctx); err != nil {
		return err
	}
	if err := b.startSimulator(ctx); err != nil {
		return err
	}
	defer b.stopSimulator()
	db := b.dbName("fleet")
	if _, err := b.psql(ctx, "postgres", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := b.psql(ctx, "postgres", "CREATE DATABASE "+db); err != nil {
		return err
	}
	if !o.keep {
		defer b.psql(context.WithoutCancel(ctx), "postgres", "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)")
	}
	dsn := b.dbURL(db)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	dsn += sep + "pool_max_conns=" + strconv.Itoa(fo.poolSize)
	if _, err := b.etl(ctx, db, "fleet-migrate", "migrate", "up"); err != nil {
		return err
	}

	// The config: every simulated tenant, paced at the simulator's limit.
	tenants := engagesim.TenantsAfter(engagesim.TenantConfig{ID: tenantID, Token: tenantToken, Timezone: "UTC"}, fo.tenants)
	start := time.Now().UTC().AddDate(0, 0, 1-fo.days).Format(time.DateOnly)
	var cfg strings.Builder
	cfg.WriteString("tenants:\n")
	for _, tc := range tenants {
		fmt.Fprintf(&cfg, "  - {id: %s, base_url: %q, token: %s, timezone: %s, start_date: %s, requests_per_second: %g, burst: 1}\n",
			tc.ID, b.simURL+"/rest/v1", tc.Token, tc.Timezone, start, fo.rate)
	}
	cfgPath := filepath.Join(b.work, "fleet.yaml")
	if err := os.WriteFile(cfgPath, []byte(cfg.String()), 0o600); err != nil {
		return err
	}

	res := fleetResult{o: fo, connsBound: fo.daemons * (fo.poolSize + 2)}
	type daemonProc struct {
		cmd  *exec.Cmd
		addr string
	}
	var daemons []daemonProc
	begin := time.Now()
	for i := 0; i < fo.daemons; i++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := ln.Addr().String()
		ln.Close()
		logf, err := os.Create(filepath.Join(b.work, fmt.Sprintf("daemon-%d.log", i)))
		if err != nil {
			return err
		}
		defer logf.Close()
		cmd := exec.CommandContext(ctx, b.o.bin, "run", "--config", cfgPath, "--schedule", "@every 1h", "--http-addr", addr,
			"--no-migrate", "--log-level", "warn")
		cmd.Env = []string{"DATABASE_URL=" + dsn} // the tenants are the config's
		for _, kv := range b.env {
			if !strings.HasPrefix(kv, "ENGAGE_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
				cmd.Env = append(cmd.Env, kv)
			}
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		if err := cmd.Start(); err != nil {
			return err
		}
		daemons = append(daemons, daemonProc{cmd: cmd, addr: addr})
	}
	defer func() {
		for _, d := range daemons {
			if d.cmd.ProcessState == nil {
				d.cmd.Process.Signal(os.Interrupt)
				d.cmd.Wait()
			}
		}
	}()

	var days []string
	for _, s := range catalog.All() {
		if kinds.Of(s.Kind).Planning == kinds.PlanDays {
			days = append(days, "'"+s.Name+"'")
		}
	}
	// A tenant is loaded when each of its streams ran ok and each stream of
	// days has its cursor at the start of the run or later (its oldest
	// window committed).
	doneSQL := fmt.Sprintf(`SELECT t.tenant_id FROM (SELECT tenant_id, count(DISTINCT stream) AS ok FROM etl.run_stream WHERE status = 'ok' GROUP BY 1) t
JOIN (SELECT tenant_id, count(*) AS at FROM etl.cursor WHERE stream IN (%s) AND watermark >= '%s' GROUP BY 1) c USING (tenant_id)
WHERE t.ok = %d AND c.at = %d`, strings.Join(days, ","), begin.UTC().Format(time.RFC3339Nano), len(catalog.All()), len(days))
	done := map[string]time.Duration{}
	client := &http.Client{Timeout: 30 * time.Second}
	deadline := time.Now().Add(fo.timeout)
	for len(done) < len(tenants) {
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(3 * time.Second):
		}
		out, err := b.psql(ctx, db, doneSQL)
		if err == nil {
			for _, id := range strings.Fields(out) {
				if _, ok := done[id]; !ok {
					done[id] = time.Since(begin)
				}
			}
		}
		if out, err := b.psql(ctx, db, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'"); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(out)); err == nil {
				res.connsMax = max(res.connsMax, n-1) // not psql's own
			}
		}
		for _, d := range daemons {
			t0 := time.Now()
			body, err := get(client, "http://"+d.addr+"/metrics")
			if err != nil {
				continue
			}
			res.metricsScrape = append(res.metricsScrape, time.Since(t0))
			if m := regexp.MustCompile(`(?m)^go_goroutines (\d+)`).FindStringSubmatch(body); m != nil {
				n, _ := strconv.Atoi(m[1])
				res.goroutinesMax = max(res.goroutinesMax, n)
			}
			res.lagSeriesCount = strings.Count(body, "\nengage_etl_stream_lag_seconds{")
			t0 = time.Now()
			if _, err := get(client, "http://"+d.addr+"/"); err == nil {
				res.statusPage = append(res.statusPage, time.Since(t0))
			}
		}
		b.logf("%d of %d tenants loaded, %d connections, %d goroutines at most", len(done), len(tenants), res.connsMax, res.goroutinesMax)
	}
	res.took = time.Since(begin)
	res.loaded = len(done)
	for _, d := range daemons {
		res.rssMaxMiB = append(res.rssMaxMiB, vmHWM(d.cmd.Process.Pid))
		d.cmd.Process.Signal(os.Interrupt)
		d.cmd.Wait()
	}
	for _, at := range done {
		res.tenantDone = append(res.tenantDone, at)
	}
	slices.Sort(res.tenantDone)

	stats, err := simStats(client, b.simURL)
	if err != nil {
		return err
	}
	for code, n := range stats {
		res.requests += n
		if code == http.StatusTooManyRequests {
			res.refused += n
		}
	}
	res.ideal = time.Duration(float64(res.requests-res.refused) / float64(len(tenants)) / fo.rate * float64(time.Second))
	return writeFleetReport(b, res)
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

func simStats(c *http.Client, simURL string) (map[int]int, error) {
	body, err := get(c, simURL+"/__sim/stats")
	if err != nil {
		return nil, err
	}
	var raw map[string]int
	if err := json.Unmarshal([]byte(body), &raw); err != nil {
		return nil, fmt.Errorf("simulator stats: %w", err)
	}
	out := map[int]int{}
	for k, v := range raw {
		code, _ := strconv.Atoi(k)
		out[code] += v
	}
	return out, nil
}

// vmHWM is a process's peak resident set, in MiB (0 when unknown).
func vmHWM(pid int) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	return 0
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func writeFleetReport(b *bench, r fleetResult) error {
	var w strings.Builder
	fmt.Fprintf(&w, "# engage-bench fleet, %s\n\n", time.Now().UTC().Format(time.DateOnly))
	fmt.Fprintf(&w, "%d simulated tenants, %d `engage-etl run` daemons on one warehouse, %d days of every stream per tenant (first sync), "+
		"the simulator answering 429 beyond %g requests/s per token (`--rate-limit`, `--latency %s`, `--scale %g`), each tenant paced at the same rate, "+
		"each daemon's pool `pool_max_conns=%d`. Load average at the end: %s.\n\n", r.o.tenants, r.o.daemons, r.o.days, r.o.rate, r.o.latency, r.o.scale, r.o.poolSize, loadAvg())
	pass := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "MISS"
	}
	rssMax := slices.Max(append([]float64{0}, r.rssMaxMiB...))
	fmt.Fprintf(&w, "| figure | value | target |\n|---|---|---|\n")
	fmt.Fprintf(&w, "| tenants loaded | %d of %d in %s | all |\n", r.loaded, r.o.tenants, r.took.Round(time.Second))
	fmt.Fprintf(&w, "| requests, 429 answers | %d, %d (%.2f %%) | ≤ 1 %% %s |\n", r.requests, r.refused, 100*float64(r.refused)/float64(max(1, r.requests)), pass(r.refused*100 <= r.requests))
	fmt.Fprintf(&w, "| a tenant's requests at its rate (mean) | %s | |\n", r.ideal.Round(time.Second))
	fmt.Fprintf(&w, "| tenants' completion from the start: first, median, last | %s, %s, %s | |\n",
		quantile(r.tenantDone, 0).Round(time.Second), quantile(r.tenantDone, 0.5).Round(time.Second), quantile(r.tenantDone, 1).Round(time.Second))
	fmt.Fprintf(&w, "| warehouse connections, at most | %d | ≤ daemons × (pool_max_conns + 2) = %d %s |\n", r.connsMax, r.connsBound, pass(r.connsMax <= r.connsBound))
	fmt.Fprintf(&w, "| peak RSS per daemon | %s MiB | ≤ 200 MiB %s |\n", fmtFloats(r.rssMaxMiB), pass(rssMax <= 200))
	fmt.Fprintf(&w, "| goroutines in a daemon, at most | %d | bounded |\n", r.goroutinesMax)
	fmt.Fprintf(&w, "| `/metrics` scrape (%d lag series): median, slowest | %s, %s | |\n", r.lagSeriesCount,
		quantile(r.metricsScrape, 0.5).Round(time.Millisecond), quantile(r.metricsScrape, 1).Round(time.Millisecond))
	fmt.Fprintf(&w, "| status page: median, slowest | %s, %s | |\n",
		quantile(r.statusPage, 0.5).Round(time.Millisecond), quantile(r.statusPage, 1).Round(time.Millisecond))
	fmt.Fprintf(&w, "\nHow: `make bench-fleet` (`go run ./cmd/engage-bench -fleet %d -fleet-daemons %d -fleet-days %d`). "+
		"A tenant counts as loaded when each of its streams ran ok and each stream of days has its cursor at the start of the run or later; "+
		"connections are counted in `pg_stat_activity` every 3 s, RSS is each daemon's VmHWM.\n", r.o.tenants, r.o.daemons, r.o.days)
	fmt.Print(w.String())
	if err := os.MkdirAll(b.o.outDir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(b.o.outDir, "fleet-"+time.Now().UTC().Format(time.DateOnly)+".md")
	if err := os.WriteFile(path, []byte(w.String()), 0o644); err != nil {
		return err
	}
	b.logf("wrote %s", path)
	if r.loaded < r.o.tenants {
		return fmt.Errorf("%d of %d tenants loaded within %s", r.loaded, r.o.tenants, r.o.timeout)
	}
	return nil
}

func fmtFloats(fs []float64) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = strconv.FormatFloat(f, 'f', 0, 64)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}
