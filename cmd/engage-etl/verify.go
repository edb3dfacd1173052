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
	tenant := fs.String("tenant", "", "verify only this tenant `id`")
	streams := fs.String("streams", "", "comma-separated stream names or globs (default: all report streams)")
	fromS := fs.String("from", "", "first local `day`, YYYY-MM-DD (required)")
	toS := fs.String("to", "", "local `day` after the last, YYYY-MM-DD (required)")
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
