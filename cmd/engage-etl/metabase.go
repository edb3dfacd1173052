package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/engage-etl/engage-etl/internal/metabase"
)

func runMetabase(ctx context.Context, e *env, args []string) error {
	var c common
	fs := newFlagSet(e, "metabase", "metabase --url URL [--database NAME] [--config FILE]\n\n"+
		"Gives Metabase what it cannot read from the bi views: their entity keys, the columns that\n"+
		"refer to another view's key (so questions join by themselves), and the views' and columns'\n"+
		"COMMENT ON descriptions, also when they changed. It sends only what differs: run it after\n"+
		"every `migrate up`. The API key comes from METABASE_API_KEY (an admin's key: Admin settings >\n"+
		"Authentication > API keys). Tested against a fake of Metabase's documented endpoints only.")
	c.register(fs, "warn")
	var url, database string
	var wait time.Duration
	var noSync bool
	fs.StringVar(&url, "url", "", "Metabase's `URL`, e.g. http://localhost:3000 (default: METABASE_URL)")
	fs.StringVar(&database, "database", "engage", "the warehouse's `name` in Metabase (Admin > Databases)")
	fs.DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for Metabase to answer and to show every bi view after its schema sync")
	fs.BoolVar(&noSync, "no-sync", false, "do not ask Metabase to sync the schema first")
	_, cfg, err := c.start(e, fs, args)
	if err != nil {
		return err
	}
	if url == "" {
		url, _ = e.lookup("METABASE_URL")
	}
	if url == "" {
		return usageError{fmt.Errorf("metabase: give --url (or METABASE_URL)")}
	}
	key, _ := e.lookup("METABASE_API_KEY")
	client, err := metabase.New(url, key)
	if err != nil {
		return usageError{err}
	}
	store, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer store.Close()
	views, columns, err := store.BIComments(ctx)
	if err != nil {
		return err
	}
	comments := metabase.Comments{Views: views, Columns: map[metabase.Ref]string{}}
	for k, v := range columns {
		comments.Columns[metabase.Ref{View: k[0], Column: k[1]}] = v
	}
	opt := metabase.Options{SyncSchema: !noSync, Wait: wait}
	deadline := time.Now().Add(wait)
	for {
		res, err := metabase.Apply(ctx, client, database, comments, opt)
		var netErr net.Error // refused, reset, timed out: Metabase is not up yet
		if err != nil && errors.As(err, &netErr) && time.Now().Before(deadline) {
			select { // Metabase is still starting
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(5 * time.Second):
				continue
			}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Metabase database %d (%s): %d view descriptions and %d fields updated (keys, links, descriptions).\n",
			res.Database, database, len(res.TablesUpdated), len(res.FieldsUpdated))
		return nil
	}
}
