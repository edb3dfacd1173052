package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/engage-etl/engage-etl/internal/config"
	"github.com/engage-etl/engage-etl/internal/daemon"
)

func runDaemon(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "run", "run [--config FILE] [--schedule CRON] [--http-addr ADDR] [--no-migrate]\n\n"+
		"Runs every stream of every tenant on cron schedules per stream group (config `schedules`,\n"+
		"UTC unless an expression starts with CRON_TZ=), serves /healthz, /readyz, /metrics and\n"+
		"POST /webhooks/engage, and stops gracefully on SIGTERM or SIGINT.")
	c.register(fs, "info")
	fs.Lookup("log-format").DefValue = "json"
	c.logFormat = "json"
	schedule := fs.String("schedule", "", "one cron `expression` for every stream group (e.g. \"@every 5m\"), overriding the config")
	httpAddr := fs.String("http-addr", "", "listen `address` for health, metrics and webhooks (default: config http_addr, else "+config.DefaultHTTPAddr+")")
	noMigrate := fs.Bool("no-migrate", false, "do not apply migrations at start")
	shutdown := fs.Duration("shutdown-timeout", 0, "how long in-flight windows may take to commit on shutdown (default: config shutdown_timeout, else 30s)")
	atStart := fs.Bool("run-at-start", true, "run every stream group once at start, not only on its schedule")
	takeover := fs.Duration("takeover-every", daemon.DefaultTakeoverEvery, "how often to look whether the streams another daemon was loading are free, to load them here")
	log, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	if err := cfg.RequireTenants(); err != nil {
		return err
	}
	schedules := cfg.Schedules
	if *schedule != "" {
		if err := config.CheckSchedule(*schedule); err != nil {
			return usageError{fmt.Errorf("--schedule: %w", err)}
		}
		schedules = map[string]string{}
		for g := range cfg.Schedules {
			schedules[g] = *schedule
		}
	}
	if *httpAddr == "" {
		*httpAddr = cfg.HTTPAddr // checked by config.Load
	} else if err := config.CheckListenAddr(*httpAddr); err != nil {
		return usageError{fmt.Errorf("--http-addr: %w", err)}
	}
	if *shutdown <= 0 {
		*shutdown = cfg.ShutdownTimeout
	}

	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if !*noMigrate {
		if err := store.MigrateUp(ctx); err != nil {
			return err
		}
		reader, err := store.GrantReader(ctx)
		if err != nil {
			return err
		}
		if advice := reader.Advice(); advice != "" {
			log.Warn(advice)
		}
	}
	if err := store.CheckCurrent(ctx); err != nil {
		return err
	}
	streams, err := cfg.Streams()
	if err != nil {
		return err
	}
	metrics := daemon.NewMetrics(store)
	tenants, err := pipelineTenants(cfg, "", time.Now(), log, store, metrics.APIObserver)
	if err != nil {
		return err
	}
	webhooks := map[string]string{}
	for _, t := range cfg.Tenants {
		metrics.Budget(t.ID, t.RequestsPerSecond)
		if t.WebhookSecret != "" {
			webhooks[t.WebhookSecret.Reveal()] = t.ID
		}
	}
	rc := runnerConfig(cfg, store, log, instanceName(), time.Now)
	rc.OnStream = metrics.Stream
	d := &daemon.Daemon{
		Store: store, RunnerConfig: rc, Tenants: tenants, Streams: streams, Schedules: schedules,
		Webhooks: webhooks, Metrics: metrics, Log: log.With("instance", rc.Instance),
		ShutdownTimeout: *shutdown, RunAtStart: *atStart, TakeoverEvery: *takeover,
	}
	ln, err := net.Listen("tcp", *httpAddr)
	if err != nil {
		return fmt.Errorf("--http-addr %s: %w", *httpAddr, err)
	}
	return d.Run(ctx, ln)
}

// instanceName tells daemons apart in etl.run.
func instanceName() string {
	host, _ := os.Hostname()
	b := make([]byte, 3)
	rand.Read(b)
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
}
