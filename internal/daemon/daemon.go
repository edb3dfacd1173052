// Package daemon runs engage-etl as a service: stream groups on cron
// schedules (UTC unless an expression says CRON_TZ=), each tenant's group
// run skipped while that tenant's previous one still runs, an HTTP listener for health, readiness,
// Prometheus metrics and Engage webhooks, and a graceful shutdown that stops
// scheduling, lets in-flight windows commit within a timeout, then cancels.
//
// Several daemons may share a warehouse: the pipeline takes an advisory lock
// per tenant and stream, so none loads what another is loading, and a
// daemon loads the streams another left (finished, or died) within
// TakeoverEvery rather than at its next tick.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/config"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// Daemon is one engage-etl service process.
type Daemon struct {
	Store           *load.Store
	RunnerConfig    pipeline.Config // Run builds the runner, draining it on shutdown, with ListRefresh 0
	Tenants         []pipeline.Tenant
	Streams         []catalog.Stream
	Schedules       map[string]string // stream group -> cron expression
	Webhooks        map[string]string // webhook secret -> tenant id
	Metrics         *Metrics
	Log             *slog.Logger
	ShutdownTimeout time.Duration
	RunAtStart      bool // run every group once at start, not only on its schedule
	// TakeoverEvery: after a group run, the streams another daemon was
	// loading are looked at this often until the next tick, and loaded
	// here once free, so a daemon that dies leaves its work to the others
	// within about this long; 0: DefaultTakeoverEvery.
	TakeoverEvery time.Duration

	runner *pipeline.Runner // built by Run
}

// DefaultTakeoverEvery is how often a daemon looks whether the streams
// another daemon held are free.
const DefaultTakeoverEvery = 20 * time.Second

// Run serves on ln and runs the schedules until ctx ends, then shuts down
// gracefully. A clean shutdown returns nil.
func (d *Daemon) Run(ctx context.Context, ln net.Listener) error {
	drain, startDrain := context.WithCancel(context.Background())
	defer startDrain()
	work, cancelWork := context.WithCancel(context.Background())
	defer cancelWork()
	rc := d.RunnerConfig
	rc.Drain = drain.Done()
	// The lists group's schedule is how often the daemon reads the lists:
	// each of its runs reads them all. sync.list_refresh is for a sync run
	// from cron, which reads every group at once.
	rc.ListRefresh = 0
	d.runner = pipeline.New(rc)

	// net/http's own messages (a handler's panic, say) go through the
	// daemon's logger, which redacts secrets, not straight to stderr.
	srv := &http.Server{Handler: d.Handler(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(d.Log.Handler(), slog.LevelError)}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	c := cron.New(cron.WithParser(config.CronParser), cron.WithLocation(time.UTC),
		cron.WithChain(cron.Recover(cronLogger{d.Log}), cron.SkipIfStillRunning(cronLogger{d.Log})))
	var starters []cron.Job
	// One job per group and tenant: a tick is skipped only while the same
	// tenant's previous run of the group goes on, so one tenant's long first
	// sync never holds back another tenant's incremental runs.
	for _, group := range d.groups() {
		spec := d.Schedules[group]
		schedule, err := config.CronParser.Parse(spec)
		if err != nil {
			return fmt.Errorf("schedule of %s: %w", group, err)
		}
		var next time.Time
		for _, t := range d.Tenants {
			id, err := c.AddJob(spec, cron.FuncJob(func() { d.runGroup(work, drain.Done(), group, schedule, t) }))
			if err != nil {
				return fmt.Errorf("schedule of %s: %w", group, err)
			}
			starters = append(starters, c.Entry(id).WrappedJob)
			next = c.Entry(id).Next
		}
		d.Log.Info("scheduled", "group", group, "schedule", spec, "tenants", len(d.Tenants), "next", next)
	}
	c.Start()
	// cron's Stop waits only for the jobs its scheduler started, so the
	// start-up runs are tracked here.
	var startup sync.WaitGroup
	if d.RunAtStart {
		for _, j := range starters {
			startup.Add(1)
			go func() {
				defer startup.Done()
				j.Run() // through the skip-if-running wrapper, like a tick
			}()
		}
	}
	d.Log.Info("engage-etl daemon started", "http", ln.Addr().String(), "tenants", len(d.Tenants), "streams", len(d.Streams))

	select {
	case <-ctx.Done():
	case err := <-served:
		cancelWork()
		c.Stop()
		return fmt.Errorf("http listener: %w", err)
	}

	d.Log.Info("shutting down: no new windows; waiting for in-flight ones", "timeout", d.ShutdownTimeout)
	startDrain()
	stopped := c.Stop() // done when the scheduled runs have returned
	idle := make(chan struct{})
	go func() {
		<-stopped.Done()
		startup.Wait()
		close(idle)
	}()
	select {
	case <-idle:
	case <-time.After(d.ShutdownTimeout):
		d.Log.Warn("shutdown timeout: cancelling in-flight windows (they roll back)")
		cancelWork()
		<-idle
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	d.Log.Info("engage-etl daemon stopped")
	return nil
}

// groups lists the stream groups that have streams and a schedule.
func (d *Daemon) groups() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range d.Streams {
		if _, ok := d.Schedules[s.Group]; ok && !seen[s.Group] {
			seen[s.Group] = true
			out = append(out, s.Group)
		}
	}
	sort.Strings(out)
	return out
}

// runGroup syncs one stream group of one tenant: one scheduled tick. The
// streams another daemon was loading are then looked at every
// TakeoverEvery until the next tick and loaded here once free: should the
// other daemon die, its work does not wait for the next tick.
func (d *Daemon) runGroup(ctx context.Context, drain <-chan struct{}, group string, schedule cron.Schedule, tenant pipeline.Tenant) {
	var streams []catalog.Stream
	for _, s := range d.Streams {
		if s.Group == group {
			streams = append(streams, s)
		}
	}
	next := schedule.Next(time.Now())
	every := d.TakeoverEvery
	if every <= 0 {
		every = DefaultTakeoverEvery
	}
	for {
		began := time.Now()
		locked := d.syncGroup(ctx, group, tenant, streams)
		if streams = d.awaitFree(ctx, drain, group, tenant.ID, locked, began, next, every); len(streams) == 0 {
			return
		}
	}
}

// awaitFree looks every so often whether another process still holds the
// locks of streams, and returns those it left unfinished as soon as one is
// free (the others, still held, are tried again with it, and watched);
// none when the next tick comes first (it tries them all), when all were
// finished by others since began, or when the daemon stops.
func (d *Daemon) awaitFree(ctx context.Context, drain <-chan struct{}, group, tenant string, streams []catalog.Stream, began, next time.Time, every time.Duration) []catalog.Stream {
	for len(streams) > 0 && time.Until(next) > every {
		select {
		case <-ctx.Done():
			return nil
		case <-drain:
			return nil
		case <-time.After(every):
		}
		names := make([]string, len(streams))
		for i, s := range streams {
			names[i] = s.Name
		}
		busy, err := d.Store.HeldElsewhere(ctx, tenant, names)
		if err != nil {
			d.Log.Warn("cannot look at the stream locks", "group", group, "tenant", tenant, "error", err)
			continue
		}
		if len(busy) == len(names) {
			continue
		}
		finished, err := d.Store.FinishedSince(ctx, d.RunnerConfig.Instance, tenant, names, began)
		if err != nil {
			d.Log.Warn("cannot read the run history", "group", group, "tenant", tenant, "error", err)
			continue
		}
		streams = slices.DeleteFunc(streams, func(s catalog.Stream) bool {
			return slices.Contains(finished, s.Name) && !slices.Contains(busy, s.Name)
		})
		if len(streams) > len(busy) {
			d.Log.Info("taking over streams another process left", "group", group, "tenant", tenant, "streams", len(streams)-len(busy))
			return streams
		}
	}
	return nil
}

// syncGroup runs streams of a tenant once and returns those another
// process was loading (skipped here).
func (d *Daemon) syncGroup(ctx context.Context, group string, tenant pipeline.Tenant, streams []catalog.Stream) (locked []catalog.Stream) {
	start := time.Now()
	res, err := d.runner.Sync(ctx, []pipeline.Tenant{tenant}, streams)
	d.Metrics.runDuration.WithLabelValues(group).Observe(time.Since(start).Seconds())
	result := "ok"
	switch {
	case err != nil:
		result = "failed"
		d.Log.Error("group run failed", "group", group, "tenant", tenant.ID, "error", err)
	case !res.OK():
		result = "interrupted" // only shutting down stopped streams: not a failure
		for _, s := range res.Streams {
			if s.Err != nil && !errors.Is(s.Err, pipeline.ErrDraining) {
				result = "failed"
				d.Log.Error("stream failed", "group", group, "tenant", s.TenantID, "stream", s.Stream, "error", s.Err)
			}
		}
		for _, err := range res.TenantErrors {
			result = "failed"
			d.Log.Error("tenant failed", "group", group, "tenant", tenant.ID, "error", err)
		}
	}
	d.Metrics.runs.WithLabelValues(group, result).Inc()
	d.Log.Info("group run finished", "group", group, "tenant", tenant.ID, "result", result, "duration", time.Since(start).Round(time.Millisecond))
	for _, s := range res.Streams {
		if s.Locked {
			for _, st := range streams {
				if st.Name == s.Stream {
					locked = append(locked, st)
				}
			}
		}
	}
	return locked
}

// cronLogger adapts slog to robfig/cron's logger.
type cronLogger struct{ log *slog.Logger }

func (l cronLogger) Info(msg string, kv ...any) { l.log.Debug("cron: "+msg, kv...) }
func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.Error("cron: "+msg, append(kv, "error", err)...)
}
