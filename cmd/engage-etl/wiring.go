package main

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/config"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// The one place where commands turn a configuration into what the pipeline
// runs on: API clients per tenant and a runner's configuration.

// pipelineTenants builds an API client per tenant. A tenant without a start
// date starts cfg.Sync.DefaultHistoryDays local days before now. observe,
// when set, watches each tenant's API exchanges (metrics).
//
// budgets, when set, is the warehouse whose shared budget (load.Budget) each
// paced tenant's requests also wait in, so every process that loads the
// tenant sends at most its requests_per_second together.
func pipelineTenants(cfg *config.Config, only string, now time.Time, log *slog.Logger, budgets *load.Store, observe ...func(tenant string) func(engage.Attempt)) ([]pipeline.Tenant, error) {
	tenants := cfg.Tenants
	if only != "" {
		t, err := cfg.Tenant(only)
		if err != nil {
			return nil, err
		}
		tenants = []config.Tenant{t}
	}
	var out []pipeline.Tenant
	for _, t := range tenants {
		if t.UnpacedRemote() {
			log.Warn("requests_per_second 0 sends requests unpaced: meant for a local simulator; against the Engage API set a pace such as 5",
				"tenant", t.ID, "base_url", t.BaseURL)
		}
		opts := []engage.Option{
			engage.WithBaseURL(t.BaseURL),
			engage.WithRate(t.RequestsPerSecond, t.Burst),
			engage.WithRetry(retryPolicy(t)),
			engage.WithTimeout(t.RequestTimeout),
			engage.WithLogger(log.With("tenant", t.ID)),
			engage.WithUserAgent(userAgent()),
		}
		for _, o := range observe {
			opts = append(opts, engage.WithObserver(o(t.ID)))
		}
		if budgets != nil && t.RequestsPerSecond > 0 {
			opts = append(opts, engage.WithBudget(budgets.Budget(t.ID, t.RequestsPerSecond, t.Burst)))
		}
		client, err := engage.New(t.Token.Reveal(), opts...)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: %w", t.ID, err)
		}
		start := t.StartDate
		if start.IsZero() {
			start = civil.Of(now, t.Location).AddDays(-cfg.Sync.DefaultHistoryDays)
		}
		out = append(out, pipeline.Tenant{ID: t.ID, Timezone: t.Timezone, Location: t.Location, Start: start, Client: client,
			Dialect: &t.Dialect, RequestsPerSecond: t.RequestsPerSecond})
	}
	return out, nil
}

func retryPolicy(t config.Tenant) engage.RetryPolicy {
	p := engage.DefaultRetryPolicy
	p.MaxAttempts = t.MaxAttempts
	return p
}

// runnerConfig is a pipeline runner's configuration, tuned by cfg.
func runnerConfig(cfg *config.Config, store *load.Store, log *slog.Logger, instance string, now func() time.Time) pipeline.Config {
	s := cfg.Sync
	all, _ := cfg.Streams() // checked when the config was loaded
	return pipeline.Config{
		Catalog: all,
		Store:   store, Log: log, Now: now, Instance: instance,
		WindowParallel: s.WindowParallelism, StreamParallel: s.StreamParallelism,
		MessageParallel: s.MessageParallelism, StoreMessageText: s.StoreMessageText,
		WindowTimeout: s.WindowTimeout, ChunkBytes: s.ChunkBytes, ListRefresh: s.ListRefresh, OpenHorizon: s.OpenHorizon,
		RecentDays: s.RecentDays, StreamsInFlight: s.StreamsInFlight,
		DetailWindowElements: s.DetailWindowElements, MessageHistoryDays: s.MessageHistoryDays,
	}
}
