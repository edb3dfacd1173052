package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"time"

	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
)

// defaultChunkBytes bounds a chunk of a paged window (Config.ChunkBytes):
// what it holds in memory, and its raw row.
const defaultChunkBytes = 4 << 20

// chunkedWindow loads a window whose answer can be large (an activity log
// over a long range) in chunks as it is paged: each chunk of pages is
// decoded, upserted by natural key and kept raw in its own transaction, so
// memory stays flat whatever the range. The last chunk, the one that reaches
// the window's start, commits the cursor advance (and the backfill record):
// a run killed between chunks leaves the cursor where it was, and the next
// run reads the window again, upserting what it loaded already.
func (r *Runner) chunkedWindow(ctx context.Context, sr *streamRun, i int) outcome {
	w := sr.plan.windows[i]
	src := r.source(sr.job, w)
	o := outcome{window: w}
	var pages [][]byte
	size, chunk := 0, 0
	var newest time.Time // the API's newest event time over every chunk
	fetchedAt := time.Now()
	commit := func(last bool) error {
		body := engage.JoinJSON(pages)
		d, err := sr.def.Decode(src, body)
		raw := load.Payload{Stream: sr.stream.Name, Start: w.Start, End: w.End, Chunk: chunk, Last: last, FetchedAt: fetchedAt, Body: body}
		if err != nil {
			r.keepFailed(ctx, sr.job, w, fetchedAt, err, []load.Raw{raw})
			return fmt.Errorf("chunk %d: %w", chunk, err)
		}
		if d.Newest.After(newest) {
			newest = d.Newest
		}
		c := load.WindowCommit{TenantKey: sr.tenantKey, TenantID: sr.tenant.ID, Stream: sr.stream.Name,
			Start: w.Start, End: w.End, Batch: d.Batch, Raws: []load.Raw{raw}, Rows: o.received + d.Rows, Lock: sr.lock,
			AdvanceTo: newest} // an APIClock kind's cursor (commitWindow)
		var n int64
		if last {
			n, err = r.commitWindow(ctx, sr, i, c)
		} else {
			n, err = r.Store.CommitWindow(ctx, c)
		}
		if err != nil {
			return fmt.Errorf("load chunk %d: %w", chunk, err)
		}
		o.received += d.Rows
		o.written += n
		o.warnings = addWarnings(o.warnings, d.Warnings)
		pages, size, fetchedAt = nil, 0, time.Now()
		chunk++
		return nil
	}
	fctx, cancel := r.windowContext(ctx)
	defer cancel()
	// A chunk commits from the page callback: engage.Client.Pages calls it
	// once per page after that page's request is done (its retries are
	// over), never from inside them.
	err := extract.EachPage(fctx, sr.tenant.api(), sr.stream, sr.def.Shape, w, func(pg engage.Page) error {
		pages = append(pages, pg.Body)
		if size += len(pg.Body); size >= cmp.Or(r.ChunkBytes, defaultChunkBytes) {
			return commit(false)
		}
		return nil
	})
	if err != nil {
		err = r.windowCause(ctx, fctx, err)
		r.keepFailed(ctx, sr.job, w, fetchedAt, err, nil)
		o.err = err
		return o
	}
	o.err = commit(true)
	return o
}
