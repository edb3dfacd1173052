package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
)

// simFlags are the simulator's knobs, shared by simulate and demo.
type simFlags struct {
	seed         uint64
	start        string
	days         int
	tenants      int
	scale        float64
	rateLimit    float64
	capDetails   int
	maxRangeDays int
	token        string
	tenantID     string
	timezone     string
	now          string
	clockRate    float64
	latency      time.Duration
	fault429     float64
	fault5xx     float64
	faultTrunc   float64
	faultReset   float64
	maxInARow    int
	retryAfterS  int
}

func (f *simFlags) register(fs *flag.FlagSet, timezone string) {
	fs.Uint64Var(&f.seed, "seed", 1, "random seed: the same flags give the same answers")
	fs.StringVar(&f.start, "start", "", "first local day of the world, YYYY-MM-DD (default: --days before now)")
	fs.IntVar(&f.days, "days", 14, "local days of history")
	fs.IntVar(&f.tenants, "tenants", 2, "number of tenants; the first takes --tenant-id, --token and --timezone, the others preset ids, tokens and zones")
	fs.Float64Var(&f.scale, "scale", 40, "conversations per tenant and weekday")
	fs.Float64Var(&f.rateLimit, "rate-limit", 0, "requests per second per token before 429 (0: no limit)")
	fs.IntVar(&f.maxRangeDays, "max-range-days", 0, "answer 400 to a date filter of more than N days, as an API bounding its ranges does (0: any range)")
	fs.IntVar(&f.capDetails, "cap-details", 0, "keep only the first N elements of every unpaged detail answer, silently, as a capping API does (0: no cap)")
	fs.StringVar(&f.token, "token", engagesim.DefaultToken, "API token of the first tenant")
	fs.StringVar(&f.tenantID, "tenant-id", "sim", "id of the first tenant")
	fs.StringVar(&f.timezone, "timezone", timezone, "IANA time zone of the first tenant")
	fs.StringVar(&f.now, "now", "", "simulated start time, RFC 3339 (default: the wall clock)")
	fs.Float64Var(&f.clockRate, "clock-rate", 0, "simulated seconds per real second (0: the clock stands still)")
	fs.DurationVar(&f.latency, "latency", 0, "delay before every answer")
	fs.Float64Var(&f.fault429, "fault-429", 0, "fraction of requests answered 429 with Retry-After")
	fs.Float64Var(&f.fault5xx, "fault-5xx", 0, "fraction of requests answered 503")
	fs.Float64Var(&f.faultTrunc, "fault-truncate", 0, "fraction of answers cut in half")
	fs.Float64Var(&f.faultReset, "fault-reset", 0, "fraction of connections reset")
	fs.IntVar(&f.maxInARow, "fault-max-consecutive", 0, "most faults one identical request gets in a row (0: no bound)")
	fs.IntVar(&f.retryAfterS, "retry-after", 1, "Retry-After seconds sent with 429")
}

func (f *simFlags) config(log *slog.Logger) (engagesim.Config, error) {
	cfg := engagesim.Config{
		Seed: f.seed, Days: f.days, ClockRate: f.clockRate, Latency: f.latency, Logger: log,
		Scale: f.scale, RateLimit: f.rateLimit, CapDetails: f.capDetails, MaxRangeDays: f.maxRangeDays, Tenants: f.tenantList(),
		Faults: engagesim.Faults{
			Rate429: f.fault429, Rate5xx: f.fault5xx, RateTruncate: f.faultTrunc, RateReset: f.faultReset,
			MaxConsecutive: f.maxInARow, RetryAfter: time.Duration(f.retryAfterS) * time.Second,
		},
	}
	if f.days < 1 || f.days > 3660 {
		return cfg, usageError{fmt.Errorf("--days %d: use 1 to 3660", f.days)}
	}
	if f.tenants < 1 || f.tenants > 1000 {
		return cfg, usageError{fmt.Errorf("--tenants %d: use 1 to 1000", f.tenants)}
	}
	if f.scale <= 0 || f.scale > 100000 {
		return cfg, usageError{fmt.Errorf("--scale %v: use a positive number of conversations per day", f.scale)}
	}
	if f.capDetails < 0 {
		return cfg, usageError{fmt.Errorf("--cap-details %d: use 0 (no cap) or a number of elements", f.capDetails)}
	}
	if f.start != "" {
		d, err := civil.Parse(f.start)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--start: %w", err)}
		}
		cfg.Start = d
	}
	if sum := f.fault429 + f.fault5xx + f.faultTrunc + f.faultReset; sum < 0 || sum > 1 {
		return cfg, usageError{fmt.Errorf("fault fractions add up to %v: each is in [0, 1] and together at most 1", sum)}
	}
	if f.now != "" {
		t, err := time.Parse(time.RFC3339, f.now)
		if err != nil {
			return cfg, usageError{fmt.Errorf("--now %q: use RFC 3339, e.g. 2026-11-03T10:00:00Z", f.now)}
		}
		cfg.Now = t
	}
	return cfg, nil
}

// tenantList is the first tenant from the flags, then presets with other ids.
func (f *simFlags) tenantList() []engagesim.TenantConfig {
	return engagesim.TenantsAfter(engagesim.TenantConfig{ID: f.tenantID, Token: f.token, Timezone: f.timezone}, f.tenants)
}

func runSimulate(ctx context.Context, e *env, args []string) error {
	var c common
	var sf simFlags
	fs := newFlagSet(e, "simulate", "simulate [--addr 127.0.0.1:8089] [--dialect contract|v2] [--seed N] [--days D] [--token T] [--timezone Z] [faults]")
	c.register(fs, "info")
	sf.register(fs, "UTC")
	addr := fs.String("addr", "127.0.0.1:8089", "listen `address`")
	hookURL := fs.String("webhook-url", "", "push the first tenant's webhooks (new conversation, status change, new message) to this `URL`, e.g. http://127.0.0.1:9464/webhooks/engage")
	dialect := fs.String("dialect", "contract", "wire `dialect` served: "+strings.Join(engagesim.DialectNames(), " or ")+
		" (v2 differs from CONTRACT.md in paths, date filter, paging and field names: internal/engagesim/DIALECT-V2.md)")
	hookSecret := fs.String("webhook-secret", "", "shared `secret` sent with every webhook")
	hookEvery := fs.Duration("webhook-interval", time.Second, "how often pending webhooks are pushed")
	if err := parse(fs, args); err != nil {
		return err
	}
	log, err := c.logger(e.stderr)
	if err != nil {
		return err
	}
	cfg, err := sf.config(log)
	if err != nil {
		return err
	}
	if _, err := engagesim.LookupDialect(*dialect); err != nil || *dialect == "" {
		return usageError{fmt.Errorf("--dialect %q: use one of %s", *dialect, strings.Join(engagesim.DialectNames(), ", "))}
	}
	cfg.Dialect = *dialect
	sim, err := engagesim.New(cfg)
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Engage simulator at http://%s%s, dialect %s, %d days, clock at %s\n", ln.Addr(), engagesim.Prefix, *dialect, sf.days, sim.Now().Format(time.RFC3339))
	for _, tc := range sim.Tenants() {
		fmt.Fprintf(e.stdout, "  tenant %-10s zone %-18s token %s\n", tc.ID, tc.Timezone, tc.Token)
	}
	fmt.Fprintf(e.stdout, "  ground truth: GET /__sim/truth?tenant=&stream=&from=&to=   Ctrl-C stops it\n")
	if *hookURL != "" {
		target := engagesim.WebhookTarget{TenantID: sf.tenantID, URL: *hookURL, Secret: *hookSecret}
		go sim.RunWebhooks(ctx, *hookEvery, []engagesim.WebhookTarget{target})
		fmt.Fprintf(e.stdout, "  pushing %s's webhooks to %s every %v (as the clock moves)\n", sf.tenantID, *hookURL, *hookEvery)
	}
	return serve(ctx, ln, sim.Handler())
}

// serve runs an HTTP server on ln until ctx ends.
func serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shutdown); err != nil {
			return err
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}
