package main

import (
	"context"
	"fmt"
	"os"

	"golang.org/x/term"

	"github.com/engage-etl/engage-etl/internal/civil"
)

func runBackfill(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "backfill", "backfill --from DATE --to DATE [--config FILE] [--tenant ID] [--streams a,b*] [--redo]\n\n"+
		"Loads the local days [--from, --to) of every stream (to exclusive), in parallel within the\n"+
		"tenants' rate limits. Finished windows are recorded: a killed or failed backfill run again\n"+
		"skips them (--redo loads them again). Cursors never move backwards.")
	c.register(fs, "warn")
	tenant := fs.String("tenant", "", "backfill only this tenant `id`")
	streams := fs.String("streams", "", "comma-separated stream names or globs (default: all)")
	fromS := fs.String("from", "", "first local `day`, YYYY-MM-DD (required)")
	toS := fs.String("to", "", "local `day` after the last, YYYY-MM-DD (required)")
	redo := fs.Bool("redo", false, "load windows again even if an earlier backfill finished them")
	log, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	from, to, err := dayRange(*fromS, *toS)
	if err != nil {
		return err
	}
	rt, err := newRuntime(ctx, e, cfg, log, *tenant, *streams)
	if err != nil {
		return err
	}
	defer rt.store.Close()

	progress := newProgressReporter(e.stderr, isTerminal(e.stderr))
	rt.runner.OnProgress = progress.report
	res, err := rt.runner.Backfill(ctx, rt.tenants, rt.streams, from, to, *redo)
	progress.done()
	if err != nil {
		return err
	}
	return rt.finish(e, res)
}

// dayRange reads --from and --to.
func dayRange(fromS, toS string) (civil.Date, civil.Date, error) {
	if fromS == "" || toS == "" {
		return civil.Date{}, civil.Date{}, usageError{fmt.Errorf("--from and --to are required (YYYY-MM-DD)")}
	}
	from, err := civil.Parse(fromS)
	if err != nil {
		return from, from, usageError{fmt.Errorf("--from: %w", err)}
	}
	to, err := civil.Parse(toS)
	if err != nil {
		return from, to, usageError{fmt.Errorf("--to: %w", err)}
	}
	if !from.Before(to) {
		return from, to, usageError{fmt.Errorf("--from %s must be before --to %s (--to is exclusive)", from, to)}
	}
	return from, to, nil
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
