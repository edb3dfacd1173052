package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

func runCheck(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "check", "check [--config FILE] [--tenant ID] [--day DAY] [--streams a,b*]\n\n"+
		"Asks each distinct endpoint the streams use once, for one local day (an activity log for its\n"+
		"last hour), paced like a sync, and says whether the answer fits the configuration: ok with\n"+
		"the element count, or what is wrong and which config key to set. Writes nothing to the\n"+
		"warehouse (no database needed). Exits 0 when every endpoint is ok, 1 otherwise.")
	c.register(fs, "warn")
	var sel selection
	sel.register(fs, "check")
	dayFlag := fs.String("day", "", "local `day` to ask, YYYY-MM-DD (default: yesterday in the tenant's zone)")
	log, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	if err := cfg.RequireTenants(); err != nil {
		return err
	}
	var day civil.Date
	if *dayFlag != "" {
		if day, err = civil.Parse(*dayFlag); err != nil {
			return usageError{fmt.Errorf("--day: %w", err)}
		}
	}
	all, err := cfg.Streams()
	if err != nil {
		return err
	}
	streams, err := catalog.Select(all, splitList(sel.streams))
	if err != nil {
		return usageError{fmt.Errorf("--streams: %w", err)}
	}
	tenants, err := pipelineTenants(cfg, sel.tenant, time.Now(), log, nil) // check writes nothing
	if err != nil {
		return err
	}
	ok := true
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tENDPOINT\tSTREAMS\tRESULT")
	for _, t := range tenants {
		d := day
		if d.IsZero() {
			d = civil.Of(time.Now(), t.Location).AddDays(-1)
		}
		for _, p := range pipeline.Check(ctx, t, streams, d, time.Now()) {
			ok = ok && p.OK
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", p.TenantID, p.Endpoint, streamList(p.Streams), p.Result)
		}
	}
	tw.Flush()
	if !ok {
		fmt.Fprintln(e.stderr, "engage-etl: some endpoints do not fit the configuration: see RESULT above")
		return errReported
	}
	return nil
}

// streamList names a few streams and counts the rest.
func streamList(names []string) string {
	if len(names) <= 2 {
		return strings.Join(names, ",")
	}
	return fmt.Sprintf("%s,%s (+%d)", names[0], names[1], len(names)-2)
}
