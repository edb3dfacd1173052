package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/redact"
)

func runRebuild(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "rebuild", "rebuild [--from DATE --to DATE] [--config FILE] [--tenant ID] [--streams a,b*]\n\n"+
		"Replays the API answers kept in schema raw for the local days [--from, --to) (default: all\n"+
		"of them) through the same transform and load as a sync, one transaction per answer, in the\n"+
		"order they were received, without a request to the API. Run it after upgrading engage-etl\n"+
		"or changing how answers are mapped, or to repair damaged facts. Prints what it changed;\n"+
		"exits 1 when an answer could not be replayed.")
	c.register(fs, "warn")
	var sel selection
	var span dayFlags
	sel.register(fs, "rebuild")
	span.register(fs)
	var prof profiling
	prof.register(fs)
	fs.Lookup("from").Usage = "first local `day`, YYYY-MM-DD (default: the first answer kept)"
	fs.Lookup("to").Usage = "local `day` after the last, YYYY-MM-DD (default: after today)"
	log, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	stopProfile, err := prof.start()
	if err != nil {
		return err
	}
	defer stopProfile()
	from, to := civil.Date{Year: 2000, Month: 1, Day: 1}, civil.Of(time.Now(), time.UTC).AddDays(2)
	if span.from != "" || span.to != "" {
		if from, to, err = span.days(); err != nil {
			return err
		}
	}
	rt, err := newRuntime(ctx, cfg, log, sel)
	if err != nil {
		return err
	}
	defer rt.store.Close()
	started := time.Now()
	res, err := rt.runner.Rebuild(ctx, rt.tenants, rt.streams, from, to)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tSTREAM\tANSWERS\tROWS\tWRITTEN\tFAILED")
	var answers, written int64
	for _, s := range res.Streams {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\n", s.TenantID, s.Stream, s.Answers, s.Rows, s.Written, s.Failed)
		answers += int64(s.Answers)
		written += s.Written
	}
	tw.Flush()
	fmt.Fprintf(e.stdout, "rebuilt %d answers in %s: %d warehouse rows written\n", answers, time.Since(started).Round(time.Millisecond), written)
	if !res.OK() {
		for _, s := range res.Streams {
			if s.Err != nil {
				fmt.Fprintf(e.stderr, "engage-etl: tenant %s: stream %s: %s\n", s.TenantID, s.Stream, redact.String(s.Err.Error()))
			}
		}
		return errReported
	}
	return nil
}
