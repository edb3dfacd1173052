package main

import (
	"context"
	"fmt"
	"text/tabwriter"
)

func runStreams(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "streams", "streams [--config FILE]\n\nLists every stream with the config file's overrides applied.")
	c.register(fs, "warn")
	_, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	streams, err := cfg.Streams()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "STREAM\tKIND\tENDPOINT\tMETRIC\tGROUP BY\tWINDOW\tLOOKBACK\tGROUP")
	for _, s := range streams {
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%dd\t%s\t%s\n", s.Name, s.Kind, s.Method, s.Path,
			dash(s.Metric), dash(s.GroupBy), s.WindowDays, s.Lookback, s.Group)
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
