package main

import (
	"context"
	"fmt"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "verify", "verify --from DATE --to DATE [--config FILE] [--tenant ID] [--streams a,b*]\n\n"+
		"Asks the API for the bucketed reports of the local days [--from, --to) again and compares\n"+
		"every bucket with the warehouse, and reconciles each detail stream with the report that\n"+
		"counts the same thing (bi.reconciliation). Prints each difference; exits 1 when there is any.")
	c.register(fs, "warn")
	var sel selection
	var span dayFlags
	sel.register(fs, "verify")
	span.register(fs)
	log, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	from, to, err := span.days()
	if err != nil {
		return err
	}
	rt, err := newRuntime(ctx, cfg, log, sel)
	if err != nil {
		return err
	}
	defer rt.store.Close()
	drift, err := rt.runner.Verify(ctx, rt.tenants, rt.streams, from, to)
	if err != nil {
		return err
	}
	for _, d := range drift {
		fmt.Fprintln(e.stdout, d)
	}
	off, err := rt.runner.Reconcile(ctx, rt.tenants, rt.streams, from, to)
	if err != nil {
		return err
	}
	for _, o := range off {
		fmt.Fprintln(e.stdout, "reconciliation:", o)
	}
	if len(drift) > 0 || len(off) > 0 {
		fmt.Fprintf(e.stderr, "engage-etl: %d differences between the API and the warehouse, %d days whose detail rows and report disagree\n", len(drift), len(off))
		return errReported
	}
	fmt.Fprintf(e.stdout, "no drift: the warehouse matches the API for %s..%s, and every detail stream its report\n", from, to.AddDays(-1))
	return nil
}
