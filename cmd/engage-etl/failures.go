package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
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
		// What an API sent is shown, never interpreted: no terminal escapes.
		fmt.Fprintf(e.stdout, "  began: %s\n\n", printable(b))
	}
	return nil
}

// printable is b as text, with control characters (but newlines and tabs)
// and invalid UTF-8 escaped.
func printable(b []byte) string {
	var out strings.Builder
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&out, "\\x%02x", b[0])
		case r == '\n' || r == '\t' || !unicode.IsControl(r):
			out.WriteRune(r)
		default:
			fmt.Fprintf(&out, "\\u%04x", r)
		}
		b = b[n:]
	}
	return out.String()
}
