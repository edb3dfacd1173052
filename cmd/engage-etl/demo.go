package main

import (
	"context"
	"fmt"
	"net"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/config"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// defaultDemoDatabase is the local PostgreSQL of a development machine.
const defaultDemoDatabase = "postgres://postgres@127.0.0.1:5432/engage_demo?sslmode=disable"

func runDemo(ctx context.Context, e *env, args []string) error {
	var c common
	var sf simFlags
	fs := newFlagSet(e, "demo", "demo [--database-url URL] [--days D] [--timezone Z] [--seed N]\n\n"+
		"Starts the simulator in-process, migrates the warehouse (DATABASE_URL, else\n"+
		defaultDemoDatabase+", created if missing),\nsyncs every stream and prints a summary.")
	c.register(fs, "warn")
	sf.register(fs, "Europe/Vienna")
	dbURL := fs.String("database-url", "", "warehouse `URL` (default: DATABASE_URL, else "+defaultDemoDatabase+")")
	localPG := fs.String("local-postgres", defaultLocalPostgres, "`address` of the local PostgreSQL used without a URL; when nothing answers there, a throwaway one is started")
	clusterDir := fs.String("postgres-dir", ".demo-postgres", "`folder` of the throwaway PostgreSQL")
	log, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	dsn := *dbURL
	if dsn == "" {
		dsn = cfg.DatabaseURL.Reveal()
	}
	if dsn == "" && answers(*localPG) {
		dsn = strings.Replace(defaultDemoDatabase, defaultLocalPostgres, *localPG, 1)
	}
	if dsn == "" {
		if dsn, err = throwawayPostgres(ctx, *localPG, *clusterDir, "engage_demo", e.stdout); err != nil {
			return err
		}
	}
	simCfg, err := sf.config(log)
	if err != nil {
		return err
	}
	sim, err := engagesim.New(simCfg)
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	simCtx, stopSim := context.WithCancel(ctx)
	defer stopSim()
	go serve(simCtx, ln, sim.Handler())
	baseURL := "http://" + ln.Addr().String() + engagesim.Prefix
	fmt.Fprintf(e.stdout, "1. simulator: %d tenants, %d days, at %s\n", len(sim.Tenants()), sf.days, baseURL)

	if created, err := load.CreateDatabaseIfMissing(ctx, dsn); err != nil {
		return fmt.Errorf("%w (is PostgreSQL running? see README)", err)
	} else if created {
		fmt.Fprintf(e.stdout, "   created database %s\n", load.RedactDSN(dsn))
	}
	store, err := load.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.MigrateUp(ctx); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "2. warehouse: %s at migration %d\n", load.RedactDSN(dsn), load.LatestVersion())

	// The simulator's tenants replace any configured ones.
	cfg.Tenants = nil
	for _, tc := range sim.Tenants() {
		loc, _ := time.LoadLocation(tc.Timezone) // validated by engagesim.New
		cfg.Tenants = append(cfg.Tenants, config.Tenant{ID: tc.ID, BaseURL: baseURL, Token: config.Secret(tc.Token),
			Timezone: tc.Timezone, Location: loc, StartDate: civil.Of(sim.Now(), loc).AddDays(1 - sf.days),
			RequestsPerSecond: 50, Burst: 10, MaxAttempts: engage.DefaultRetryPolicy.MaxAttempts, RequestTimeout: engage.DefaultTimeout,
			Dialect: catalog.Contract()})
	}
	cfg.Sync.MessageParallelism = 8
	tenants, err := pipelineTenants(cfg, "", sim.Now(), log, nil)
	if err != nil {
		return err
	}
	runner := pipeline.New(runnerConfig(cfg, store, log, "demo", sim.Now))
	started := time.Now()
	res, err := runner.Sync(ctx, tenants, catalog.All())
	if err != nil {
		return err
	}
	if !res.OK() {
		printResult(e.stdout, res)
		reportFailures(e.stderr, cfg, res)
		return errReported
	}
	var windows, rows int64
	for _, s := range res.Streams {
		windows += int64(s.WindowsOK)
		rows += s.RowsReceived
	}
	fmt.Fprintf(e.stdout, "3. sync: %d tenants x %d streams ok, %d windows, %d rows, in %s\n",
		len(tenants), len(catalog.All()), windows, rows, time.Since(started).Round(time.Millisecond))
	return printDemoSummary(ctx, e, store, dsn)
}

func printDemoSummary(ctx context.Context, e *env, store *load.Store, dsn string) error {
	sum, err := store.Summary(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "\nWarehouse rows:")
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	for _, t := range sum.Tables {
		fmt.Fprintf(tw, "  %s\t%d\n", t.Table, t.Rows)
	}
	tw.Flush()

	fmt.Fprintln(e.stdout, "\nBusiest agents (bi.agent_day):")
	tw = tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  AGENT\tCONVERSATIONS\tONLINE HOURS")
	for _, a := range sum.TopAgents {
		fmt.Fprintf(tw, "  %s\t%d\t%s\n", a.Email, a.Conversations, a.OnlineHours)
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "\nExplore: psql '%s' -c 'SELECT * FROM bi.report_metric ORDER BY day DESC LIMIT 10'\n", load.RedactDSN(dsn))
	return nil
}
