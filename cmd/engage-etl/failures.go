package main

import (
	"context"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

func runFailures(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "failures", "failures [--config FILE] [--tenant ID] [--stream NAME] [--limit N] [--bytes N]\n\n"+
		"The answers that failed their window, newest first (the newest 20 per tenant and stream are\n"+
		"kept in raw.failed_payload): when, which window, why, the status and content type, and how\n"+
		"the answer began.")
	c.register(fs, "warn")
	tenant := fs.String("tenant", "", "only this tenant `id`")
	stream := fs.String("stream", "", "only this stream `name`")
	limit := fs.Int("limit", 10, "at most `N` answers")
	head := fs.Int("bytes", 400, "show the first `N` bytes of each answer")
	_, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	if *limit < 1 || *head < 0 {
		return usageError{fmt.Errorf("--limit must be at least 1 and --bytes not negative")}
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.CheckCurrent(ctx); err != nil {
		return err
	}
	failed, err := store.FailedAnswers(ctx, *tenant, *stream, *limit)
	if err != nil {
		return err
	}
	if len(failed) == 0 {
		fmt.Fprintln(e.stdout, "no failed answer kept")
		return nil
	}
	for _, f := range failed {
		status := "-"
		if f.Status != 0 {
			status = strconv.Itoa(f.Status)
		}
		fmt.Fprintf(e.stdout, "%s  tenant %s  stream %s  window %s..%s\n  error: %s\n  status %s, %s, %d bytes\n",
			f.ReceivedAt.UTC().Format(time.RFC3339), f.TenantID, f.Stream,
			f.WindowStart.UTC().Format(time.RFC3339), f.WindowEnd.UTC().Format(time.RFC3339), f.Error,
			status, dash(f.ContentType), f.Bytes)
		b := f.Head
		if len(b) > *head {
			b = b[:*head]
		}
		if utf8.Valid(b) {
			fmt.Fprintf(e.stdout, "  began: %s\n\n", b)
		} else {
			fmt.Fprintf(e.stdout, "  began: %q\n\n", b)
		}
	}
	return nil
}
