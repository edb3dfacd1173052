package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/config"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/pipeline"
	"github.com/engage-etl/engage-etl/internal/redact"
)

func runSync(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "sync", "sync [--config FILE] [--tenant ID] [--streams a,b*]")
	c.register(fs, "warn")
	var sel selection
	sel.register(fs, "sync")
	fs.Lookup("streams").Usage += "; the lists among them are read even when loaded less than sync.list_refresh ago"
	var prof profiling
	prof.register(fs)
	log, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	stopProfile, err := prof.start()
	if err != nil {
		return err
	}
	defer stopProfile()
	// A first sync (a long load) prints what it will ask before it starts.
	opts := []func(*pipeline.Config){func(c *pipeline.Config) {
		c.EstimateFirst = true
		c.OnEstimate = func(est pipeline.Estimate) { printEstimate(e.stderr, est); fmt.Fprintln(e.stderr) }
	}}
	if sel.streams != "" {
		// Streams named on the command line are read now, whenever a list
		// was loaded last (sync.list_refresh).
		opts = append(opts, func(c *pipeline.Config) { c.ListRefresh = 0 })
	}
	rt, err := newRuntime(ctx, cfg, log, sel, opts...)
	if err != nil {
		return err
	}
	defer rt.store.Close()
	res, err := rt.runner.Sync(ctx, rt.tenants, rt.streams)
	if err != nil {
		return err
	}
	return rt.finish(e, res)
}

// runtime is what sync, backfill and verify share: the selected tenants and
// streams, a warehouse at the current migration, and a runner.
type runtime struct {
	cfg     *config.Config
	store   *load.Store
	runner  *pipeline.Runner
	tenants []pipeline.Tenant
	streams []catalog.Stream
}

// newRuntime builds the runtime of a command; opts adjust the runner's configuration.
func newRuntime(ctx context.Context, cfg *config.Config, log *slog.Logger, sel selection, opts ...func(*pipeline.Config)) (*runtime, error) {
	if err := cfg.RequireTenants(); err != nil {
		return nil, err
	}
	all, err := cfg.Streams()
	if err != nil {
		return nil, err
	}
	selected, err := catalog.Select(all, splitList(sel.streams))
	if err != nil {
		return nil, usageError{err} // names --streams
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if err := store.CheckCurrent(ctx); err != nil {
		store.Close()
		return nil, err
	}
	tenants, err := pipelineTenants(cfg, sel.tenant, time.Now(), log, store)
	if err != nil {
		store.Close()
		return nil, err
	}
	rc := runnerConfig(cfg, store, log, "cli", time.Now)
	for _, o := range opts {
		o(&rc)
	}
	return &runtime{cfg: cfg, store: store, tenants: tenants, streams: selected, runner: pipeline.New(rc)}, nil
}

// finish prints a run's result; failures make the command exit 1.
func (rt *runtime) finish(e *env, res pipeline.Result) error {
	printResult(e.stdout, res)
	if !res.OK() {
		reportFailures(e.stderr, rt.cfg, res)
		return errReported
	}
	return nil
}

func printResult(w io.Writer, res pipeline.Result) {
	sort.Slice(res.Streams, func(i, j int) bool {
		a, b := res.Streams[i], res.Streams[j]
		if a.TenantID != b.TenantID {
			return a.TenantID < b.TenantID
		}
		return a.Stream < b.Stream
	})
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tSTREAM\tSTATUS\tWINDOWS\tROWS\tWRITTEN\tCURSOR")
	for _, s := range res.Streams {
		status, cursor := "ok", "-"
		switch {
		case s.Err != nil:
			status = "failed"
		case s.Locked:
			status = "skipped: another process is loading it"
		}
		if !s.CursorAfter.IsZero() {
			cursor = s.CursorAfter.UTC().Format(time.RFC3339)
		}
		windows := fmt.Sprintf("%d/%d", s.WindowsOK, s.WindowsTotal-s.WindowsSkip)
		if s.WindowsSkip > 0 {
			windows += fmt.Sprintf(" (+%d done)", s.WindowsSkip)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%s\n", s.TenantID, s.Stream, status, windows, s.RowsReceived, s.RowsWritten, cursor)
	}
	tw.Flush()
}

// reportFailures prints one line per failed tenant (a refused token) or, for
// other failures, per failed stream.
func reportFailures(w io.Writer, cfg *config.Config, res pipeline.Result) {
	for id, err := range res.TenantErrors {
		fmt.Fprintf(w, "engage-etl: tenant %s: the Engage API refused the token (%s): check the tenant's token (%s)\n", id, redact.String(err.Error()), tokenKey(cfg, id))
	}
	for _, s := range res.Streams {
		if s.Err == nil || res.TenantErrors[s.TenantID] != nil {
			continue
		}
		fmt.Fprintf(w, "engage-etl: tenant %s: stream %s: %s\n", s.TenantID, s.Stream, redact.String(s.Err.Error()))
	}
}

// tokenKey names where the tenant's token was configured.
func tokenKey(cfg *config.Config, id string) string {
	for i, t := range cfg.Tenants {
		if t.ID == id && cfg.TenantFromEnv() {
			return "ENGAGE_API_TOKEN"
		} else if t.ID == id {
			return fmt.Sprintf("tenants[%d].token or token_env", i)
		}
	}
	return "its token setting"
}
