package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/engage-etl/engage-etl/internal/engagesim"
)

// simFlags are the simulator's knobs, shared by simulate and demo.
type simFlags struct {
	seed        uint64
	days        int
	token       string
	tenantID    string
	timezone    string
	now         string
	clockRate   float64
	latency     time.Duration
	fault429    float64
	fault5xx    float64
	faultTrunc  float64
	faultReset  float64
	maxInARow   int
	retryAfterS int
}

func (f *simFlags) register(fs *flag.FlagSet, timezone string) {
	fs.Uint64Var(&f.seed, "seed", 1, "random seed: the same flags give the same answers")
	fs.IntVar(&f.days, "days", 14, "local days of history up to now")
	fs.StringVar(&f.token, "token", engagesim.DefaultToken, "API token the simulated tenant accepts")
	fs.StringVar(&f.tenantID, "tenant-id", "sim", "id of the simulated tenant")
	fs.StringVar(&f.timezone, "timezone", timezone, "IANA time zone of the tenant")
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
		Tenants: []engagesim.TenantConfig{{ID: f.tenantID, Token: f.token, Timezone: f.timezone}},
		Faults: engagesim.Faults{
			Rate429: f.fault429, Rate5xx: f.fault5xx, RateTruncate: f.faultTrunc, RateReset: f.faultReset,
			MaxConsecutive: f.maxInARow, RetryAfter: time.Duration(f.retryAfterS) * time.Second,
		},
	}
	if f.days < 1 || f.days > 3660 {
		return cfg, usageError{fmt.Errorf("--days %d: use 1 to 3660", f.days)}
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

func runSimulate(ctx context.Context, e *env, args []string) error {
	var c common
	var sf simFlags
	fs := newFlagSet(e, "simulate", "simulate [--addr 127.0.0.1:8089] [--seed N] [--days D] [--token T] [--timezone Z] [faults]")
	c.register(fs, "info")
	sf.register(fs, "UTC")
	addr := fs.String("addr", "127.0.0.1:8089", "listen `address`")
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
	sim, err := engagesim.New(cfg)
	if err != nil {
		return usageError{err}
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "Engage simulator: tenant %s (%s), %d days up to %s\n  base URL http://%s%s\n  Ctrl-C stops it\n",
		sf.tenantID, sf.timezone, sf.days, sim.Now().Format(time.RFC3339), ln.Addr(), engagesim.Prefix)
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
