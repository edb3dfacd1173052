package main

import (
	"context"
	"fmt"
)

func runVerify(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "verify", "verify --from DATE --to DATE [--config FILE] [--tenant ID] [--streams a,b*]\n\n"+
		"Asks the API for the bucketed reports of the local days [--from, --to) again and compares\n"+
		"every bucket with the warehouse. Prints each difference; exits 1 when there is any.")
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
	if len(drift) > 0 {
		fmt.Fprintf(e.stderr, "engage-etl: %d differences between the API and the warehouse\n", len(drift))
		return errReported
	}
	fmt.Fprintf(e.stdout, "no drift: the warehouse matches the API for %s..%s\n", from, to.AddDays(-1))
	return nil
}
