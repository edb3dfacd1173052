package main

import (
	"context"
	"fmt"
	"os"

	"github.com/engage-etl/engage-etl/internal/pipeline"
	"golang.org/x/term"
)

func runBackfill(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "backfill", "backfill --from DATE --to DATE [--config FILE] [--tenant ID] [--streams a,b*] [--redo]\n\n"+
		"Loads the local days [--from, --to) of every stream (to exclusive), in parallel within the\n"+
		"tenants' rate limits. Finished windows are recorded: a killed or failed backfill run again\n"+
		"skips them (--redo loads them again). Cursors never move backwards.")
	c.register(fs, "warn")
	var sel selection
	var span dayFlags
	sel.register(fs, "backfill")
	span.register(fs)
	var prof profiling
	prof.register(fs)
	redo := fs.Bool("redo", false, "load windows again even if an earlier backfill finished them")
	log, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	stopProfile, err := prof.start()
	if err != nil {
		return err
	}
	defer stopProfile()
	from, to, err := span.days()
	if err != nil {
		return err
	}
	progress := newProgressReporter(e.stderr, isTerminal(e.stderr))
	rt, err := newRuntime(ctx, cfg, log, sel, func(c *pipeline.Config) {
		c.OnProgress, c.EstimateFirst = progress.report, true
		c.OnEstimate = func(est pipeline.Estimate) { printEstimate(e.stderr, est); fmt.Fprintln(e.stderr) }
	})
	if err != nil {
		return err
	}
	defer rt.store.Close()

	res, err := rt.runner.Backfill(ctx, rt.tenants, rt.streams, from, to, *redo)
	progress.done()
	if err != nil {
		return err
	}
	return rt.finish(e, res)
}

func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
