package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/engage-etl/engage-etl/internal/load"
)

func runStatus(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "status", "status [--config FILE]\n\nPer tenant and stream: the cursor, how far it lags behind now, and the last run.")
	c.register(fs, "warn")
	_, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.CheckCurrent(ctx); err != nil {
		return err
	}
	// A run whose process died shows as abandoned, not as running forever.
	if _, err := store.ReapAbandoned(ctx); err != nil {
		return err
	}
	statuses, err := store.Status(ctx)
	if err != nil {
		return err
	}
	if len(statuses) == 0 {
		fmt.Fprintln(e.stdout, "nothing loaded yet: run 'engage-etl sync'")
		return nil
	}
	now := time.Now()
	defer printWarnings(e, statuses)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tSTREAM\tCURSOR\tLAG\tLAST RUN\tMODE\tRESULT\tROWS\tERROR")
	for _, s := range statuses {
		cursor, lag, last := "-", "-", "-"
		if !s.Cursor.IsZero() {
			cursor = s.Cursor.UTC().Format(time.RFC3339)
			lag = now.Sub(s.ReadThrough()).Round(time.Second).String()
		}
		if !s.LastRunAt.IsZero() {
			last = s.LastRunAt.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", s.TenantID, s.Stream, cursor, lag, last,
			dash(s.LastMode), dash(s.LastStatus), s.LastRows, firstLine(s.LastError, 80))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := printClockSkew(ctx, e, store); err != nil {
		return err
	}
	return printReconciliation(ctx, e, store)
}

// clockSkewShown is how far the API's clock may be from ours unmentioned.
const clockSkewShown = time.Minute

// printClockSkew says which tenants' API clocks differ from ours by more
// than a minute: their activity cursors follow the API's clock, so their
// cursors and lags read oddly against ours.
func printClockSkew(ctx context.Context, e *env, store *load.Store) error {
	clocks, err := store.APIClocks(ctx)
	if err != nil {
		return err
	}
	for _, c := range clocks {
		if c.Skew.Abs() <= clockSkewShown {
			continue
		}
		way := "ahead of"
		if c.Skew < 0 {
			way = "behind"
		}
		fmt.Fprintf(e.stdout, "tenant %s: the API's clock is %s %s ours (at %s); activity cursors follow the API's clock\n",
			c.TenantID, c.Skew.Abs().Round(time.Second), way, c.ObservedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// printReconciliation lists, per tenant and pair, the days whose detail
// rows agree with the report that counts them, and the latest that does not.
func printReconciliation(ctx context.Context, e *env, store *load.Store) error {
	sums, err := store.ReconcileSummaries(ctx)
	if err != nil || len(sums) == 0 {
		return err
	}
	fmt.Fprintln(e.stdout)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TENANT\tRECONCILED PAIR\tDAYS OK\tPENDING\tMISMATCH\tLATEST DAY OFF")
	for _, s := range sums {
		off := "-"
		if s.LastOff.Status != "" {
			c := s.LastOff.Check
			off = fmt.Sprintf("%s (%s): %s %g, %s %g", c.Day, s.LastOff.Status, s.LastOff.DetailStream, c.Detail, s.LastOff.ReportStream, c.Report)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", s.TenantID, s.Pair, s.OK, s.Pending, s.Mismatch, off)
	}
	return tw.Flush()
}

// printWarnings lists, after the table, the mapped fields the last runs
// never saw: a green run whose config may name keys the API does not send.
func printWarnings(e *env, statuses []load.StreamStatus) {
	first := true
	for _, s := range statuses {
		for _, w := range s.LastWarnings {
			if first {
				fmt.Fprintln(e.stdout, "\nWarnings of the last runs (check these api.fields keys):")
				first = false
			}
			fmt.Fprintf(e.stdout, "  %s %s: %s\n", s.TenantID, s.Stream, w)
		}
	}
}

func firstLine(s string, n int) string {
	for i, r := range s {
		if r == '\n' {
			s = s[:i]
			break
		}
	}
	if len(s) > n {
		s = s[:n-1] + "…"
	}
	return dash(s)
}
