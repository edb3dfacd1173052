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
func (r *Runner) chunkedWindow(ctx context.Context, cp *checkpoint, i int, j *job, w extract.Window) (received int, written int64, warnings []string, err error) {
	src := r.source(j, w)
	var pages [][]byte
	size, chunk := 0, 0
	fetchedAt := time.Now()
	commit := func(last bool) error {
		body := engage.JoinJSON(pages)
		d, err := decode(src, body)
		raw := load.Payload{Stream: j.stream.Name, Start: w.Start, End: w.End, Chunk: chunk, Last: last, FetchedAt: fetchedAt, Body: body}
		if err != nil {
			r.keepFailed(ctx, j, w, fetchedAt, err, []load.Raw{raw})
			return fmt.Errorf("chunk %d: %w", chunk, err)
		}
		c := load.WindowCommit{TenantKey: j.tenantKey, TenantID: j.tenant.ID, Stream: j.stream.Name,
			Start: w.Start, End: w.End, Batch: d.batch, Raws: []load.Raw{raw}, Rows: received + d.rows, Lock: j.lock}
		var n int64
		if last {
			n, err = r.commitWindow(ctx, cp, i, j, c)
		} else {
			n, err = r.Store.CommitWindow(ctx, c)
		}
		if err != nil {
			return fmt.Errorf("load chunk %d: %w", chunk, err)
		}
		received += d.rows
		written += n
		warnings = addWarnings(warnings, d.warnings)
		pages, size, fetchedAt = nil, 0, time.Now()
		chunk++
		return nil
	}
	fctx, cancel := r.windowContext(ctx)
	defer cancel()
	err = extract.EachPage(fctx, j.tenant.api(), j.stream, w, func(pg engage.Page) error {
		pages = append(pages, pg.Body)
		if size += len(pg.Body); size >= cmp.Or(r.ChunkBytes, defaultChunkBytes) {
			return commit(false)
		}
		return nil
	})
	if err != nil {
		err = r.windowCause(ctx, fctx, err)
		r.keepFailed(ctx, j, w, fetchedAt, err, nil)
		return received, written, warnings, err
	}
	return received, written, warnings, commit(true)
}
