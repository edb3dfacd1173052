package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/config"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/redact"
)

// common are the flags every warehouse command takes.
type common struct {
	configPath string
	logLevel   string
	logFormat  string
}

func newFlagSet(e *env, name, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprintf(e.stdout, "Usage: engage-etl %s\n\nFlags:\n", usage)
		fs.SetOutput(e.stdout)
		fs.PrintDefaults()
		fs.SetOutput(e.stderr)
	}
	return fs
}

func (c *common) register(fs *flag.FlagSet, defaultLevel string) {
	fs.StringVar(&c.configPath, "config", "", "YAML configuration `file` (see config.example.yaml)")
	fs.StringVar(&c.logLevel, "log-level", defaultLevel, "log level: debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json")
}

// parse parses flags; --help is errHelp, anything else wrong a usage error.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{err}
	}
	return nil
}

func (c *common) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.logLevel)); err != nil {
		return nil, usageError{fmt.Errorf("--log-level %q: use debug, info, warn or error", c.logLevel)}
	}
	// Durations read as "1.5s", not as integer nanoseconds.
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		switch a.Value.Kind() {
		case slog.KindDuration:
			a.Value = slog.StringValue(a.Value.Duration().String())
		case slog.KindString: // the message too
			a.Value = slog.StringValue(redact.String(a.Value.String()))
		case slog.KindAny:
			// Errors carry DSNs and URLs; other values are checked as printed.
			if err, ok := a.Value.Any().(error); ok {
				a.Value = slog.StringValue(redact.String(err.Error()))
			} else if s := fmt.Sprint(a.Value.Any()); redact.String(s) != s {
				a.Value = slog.StringValue(redact.String(s))
			}
		}
		return a
	}}
	switch c.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usageError{fmt.Errorf("--log-format %q: use text or json", c.logFormat)}
}

// start parses args, then builds the logger and loads the configuration:
// the prologue of every warehouse command.
func (c *common) start(e *env, fs *flag.FlagSet, args []string) (*slog.Logger, *config.Config, error) {
	if err := parse(fs, args); err != nil {
		return nil, nil, err
	}
	log, err := c.logger(e.stderr)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := config.Load(c.configPath, e.lookup)
	if err == nil {
		limitMemory(cfg, e.lookup)
	}
	return log, cfg, err
}

// openStore connects to the configured warehouse.
func openStore(ctx context.Context, cfg *config.Config) (*load.Store, error) {
	if err := cfg.RequireDatabase(); err != nil {
		return nil, err
	}
	store, err := load.Open(ctx, cfg.DatabaseURL.Reveal())
	if errors.Is(err, load.ErrInvalidDSN) {
		return nil, &config.Error{Key: "DATABASE_URL (or database_url)", Problem: err.Error(),
			Fix: "check host, port and database, and percent-encode special characters of the password (@ as %40, / as %2F)"}
	}
	return store, err
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// selection is the --tenant and --streams flags of sync, backfill and verify.
type selection struct{ tenant, streams string }

func (sel *selection) register(fs *flag.FlagSet, verb string) {
	fs.StringVar(&sel.tenant, "tenant", "", verb+" only this tenant `id`")
	fs.StringVar(&sel.streams, "streams", "", "comma-separated stream names or globs (default: all; see 'engage-etl streams')")
}

// dayFlags is the --from and --to flags of backfill and verify.
type dayFlags struct{ from, to string }

func (d *dayFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&d.from, "from", "", "first local `day`, YYYY-MM-DD (required)")
	fs.StringVar(&d.to, "to", "", "local `day` after the last, YYYY-MM-DD (required)")
}

// days reads --from and --to: local days [from, to).
func (d *dayFlags) days() (civil.Date, civil.Date, error) {
	if d.from == "" || d.to == "" {
		return civil.Date{}, civil.Date{}, usageError{fmt.Errorf("--from and --to are required (YYYY-MM-DD)")}
	}
	from, err := civil.Parse(d.from)
	if err != nil {
		return from, from, usageError{fmt.Errorf("--from: %w", err)}
	}
	to, err := civil.Parse(d.to)
	if err != nil {
		return from, to, usageError{fmt.Errorf("--to: %w", err)}
	}
	if !from.Before(to) {
		return from, to, usageError{fmt.Errorf("--from %s must be before --to %s (--to is exclusive)", from, to)}
	}
	return from, to, nil
}
