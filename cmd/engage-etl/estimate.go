package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

func runEstimate(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "estimate", "estimate [--from DATE --to DATE] [--config FILE] [--tenant ID] [--streams a,b*]\n\n"+
		"Says what a backfill of the local days [--from, --to) would ask the API, or without them what\n"+
		"the next sync would (a first sync: the whole history), per tenant and stream group, and how long\n"+
		"that takes at each tenant's requests_per_second. It asks the API a few requests to count (the\n"+
		"reports' counts per day, where lists end, how deep the activity logs go) and loads nothing.")
	c.register(fs, "warn")
	var sel selection
	var span dayFlags
	sel.register(fs, "estimate")
	span.register(fs)
	fs.Lookup("from").Usage = "first local `day` of a backfill, YYYY-MM-DD (without it: the next sync)"
	fs.Lookup("to").Usage = "local `day` after a backfill's last, YYYY-MM-DD"
	log, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	mode, from, to := "sync", civil.Date{}, civil.Date{}
	if span.from != "" || span.to != "" {
		if from, to, err = span.days(); err != nil {
			return err
		}
		mode = "backfill"
	}
	rt, err := newRuntime(ctx, cfg, log, sel)
	if err != nil {
		return err
	}
	defer rt.store.Close()
	est, err := rt.runner.Estimate(ctx, mode, rt.tenants, rt.streams, from, to)
	if err != nil {
		return err
	}
	printEstimate(e.stdout, est)
	return nil
}

// printEstimate writes an estimate as a table per tenant.
func printEstimate(w io.Writer, est pipeline.Estimate) {
	fmt.Fprintf(w, "Estimate of the %s: %d requests, %s at the tenants' pace (and %d asked to count them).\n",
		est.Mode, est.Requests, duration(est.Seconds), est.Probes)
	for _, t := range est.Tenants {
		if t.Refused != "" {
			fmt.Fprintf(w, "\ntenant %s: not counted: %s\n", t.Tenant, t.Refused)
			continue
		}
		pace := "unpaced"
		if t.RequestsPerSecond > 0 {
			pace = fmt.Sprintf("%g requests/s", t.RequestsPerSecond)
		}
		fmt.Fprintf(w, "\ntenant %s (%s): %d requests, %s\n", t.Tenant, pace, t.Requests, duration(t.Seconds))
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "group\tstreams\twindows\trequests\ttime\t")
		for _, g := range t.Groups {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t\n", g.Group, g.Streams, g.Windows, g.Requests, duration(g.Seconds))
		}
		tw.Flush()
		if len(t.Unknown) > 0 {
			fmt.Fprintf(w, "not counted: %s\n", strings.Join(t.Unknown, "; "))
		}
	}
}

// duration renders seconds at a pace as 2h05m, 12m30s or 45s ("-" unpaced).
func duration(seconds float64) string {
	if seconds <= 0 {
		return "-"
	}
	d := time.Duration(seconds * float64(time.Second)).Round(time.Second)
	if d >= time.Hour {
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return d.String()
}
