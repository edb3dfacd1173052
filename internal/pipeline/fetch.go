package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// window fetches one window from the API, turns its answer into rows and
// commits them with the answer and the cursor advance.
func (r *Runner) window(ctx context.Context, cp *checkpoint, i int, j *job, w extract.Window) (received int, written int64, warnings []string, err error) {
	if j.stream.Kind == catalog.KindActivity {
		return r.chunkedWindow(ctx, cp, i, j, w)
	}
	fetch := r.fetchAnswer
	if j.stream.Kind == catalog.KindMessages {
		fetch = r.fetchMessages
	}
	fetchedAt := time.Now()
	fctx, cancel := r.windowContext(ctx)
	defer cancel()
	d, raws, err := fetch(fctx, j, w)
	if err != nil {
		err = r.windowCause(ctx, fctx, err)
		r.keepFailed(ctx, j, w, fetchedAt, err, raws)
		return 0, 0, nil, err
	}
	written, err = r.commitWindow(ctx, cp, i, j, load.WindowCommit{
		TenantKey: j.tenantKey, TenantID: j.tenant.ID, Stream: j.stream.Name,
		Start: w.Start, End: w.End, Batch: d.batch, Raws: raws, Rows: d.rows,
	})
	if err != nil {
		return 0, 0, nil, fmt.Errorf("load: %w", err)
	}
	return d.rows, written + d.written, d.warnings, nil
}

// windowContext bounds a window's fetch by sync.window_timeout.
func (r *Runner) windowContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if r.WindowTimeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeoutCause(ctx, r.WindowTimeout,
		fmt.Errorf("the window took longer than sync.window_timeout (%s)", r.WindowTimeout))
}

// windowCause adds to a fetch's error that the window's time ran out, when
// it did (and not the run's).
func (r *Runner) windowCause(ctx, fctx context.Context, err error) error {
	if cause := context.Cause(fctx); cause != nil && ctx.Err() == nil {
		return fmt.Errorf("%w: %w", err, cause)
	}
	return err
}

// commitWindow commits what completes window i of a job, with the cursor
// advance the checkpoint allows and, for a backfill, the record that the
// window is finished.
func (r *Runner) commitWindow(ctx context.Context, cp *checkpoint, i int, j *job, c load.WindowCommit) (written int64, err error) {
	c.Lock = j.lock
	err = cp.commit(i, func(advanceTo time.Time) (err error) {
		if j.plan.advance {
			c.AdvanceTo = advanceTo
		}
		if j.plan.backfill {
			c.BackfillRun = j.runID
		}
		written, err = r.Store.CommitWindow(ctx, c)
		return err
	})
	return written, err
}

func (r *Runner) source(j *job, w extract.Window) source {
	return source{tenant: j.tenant, stream: j.stream, window: w, storeText: r.StoreMessageText}
}

// fetchAnswer fetches a window answered by one body (or one list of pages).
func (r *Runner) fetchAnswer(ctx context.Context, j *job, w extract.Window) (decoded, []load.Raw, error) {
	fetchedAt := time.Now()
	var d decoded
	body, err := extract.Answer(ctx, j.tenant.api(), j.stream, w, func(body []byte) (err error) {
		d, err = decode(r.source(j, w), body)
		return err
	})
	raw := load.Payload{Stream: j.stream.Name, Start: w.Start, End: w.End, FetchedAt: fetchedAt, Body: body}
	if j.stream.Kind == catalog.KindRealtime {
		// Every snapshot is a record of its own: kept under its minute, not
		// replaced by the day's next one, so a rebuild restores them all.
		raw.Start = w.End.Truncate(time.Minute)
	}
	if err != nil {
		return decoded{}, []load.Raw{raw}, err
	}
	return d, []load.Raw{raw}, nil
}

// keepFailed keeps what a failed window was answered, for diagnosis: the
// unreadable answer the client saw, else the body that failed to decode.
// Failures that received nothing (timeouts, 5xx after the retries) are in
// the run history only.
func (r *Runner) keepFailed(ctx context.Context, j *job, w extract.Window, at time.Time, err error, raws []load.Raw) {
	f := load.FailedAnswer{TenantID: j.tenant.ID, Stream: j.stream.Name, WindowStart: w.Start, WindowEnd: w.End,
		ReceivedAt: at, Error: err.Error()}
	var bad *engage.AnswerError
	var apiErr *engage.APIError
	switch {
	case errors.As(err, &bad):
		f.Status, f.ContentType, f.Bytes, f.Head = bad.Status, bad.ContentType, bad.Size, bad.Head
	case errors.As(err, &apiErr):
		f.Status, f.Bytes, f.Head = apiErr.Status, int64(len(apiErr.Body)), []byte(apiErr.Body)
	case len(raws) > 0:
		p, ok := raws[0].(load.Payload)
		if !ok || p.Body == nil {
			return
		}
		f.Status, f.Bytes, f.Head = 200, int64(len(p.Body)), p.Body
	default:
		return
	}
	if kerr := r.Store.KeepFailed(ctx, f); kerr != nil {
		r.Log.Warn("cannot keep the failed answer", "tenant", j.tenant.ID, "stream", j.stream.Name, "error", kerr)
	}
}

// conversationRef is a conversation of the list a messages window reads.
type conversationRef struct {
	ID           string
	MessageCount int
}

// fetchMessages lists the window's conversations, chooses those whose
// messages to fetch, and fetches them. A sync fetches only conversations
// whose message count differs from the warehouse's (messages do not change
// once sent), so re-reading the lookback costs one list request per day; a
// backfill fetches them all. Each conversation's answer is kept on its own.
func (r *Runner) fetchMessages(ctx context.Context, j *job, w extract.Window) (decoded, []load.Raw, error) {
	src := r.source(j, w)
	fetchedAt := time.Now()
	var refs []conversationRef
	list, err := extract.ConversationList(ctx, j.tenant.api(), j.stream, w, func(body []byte) (err error) {
		refs, _, err = conversationRefs(src.dialect(), body)
		return err
	})
	if err != nil {
		return decoded{}, nil, fmt.Errorf("list conversations: %w", err)
	}
	ids, err := r.conversationsToFetch(ctx, j, refs)
	if err != nil {
		return decoded{}, nil, err
	}
	var rows []transform.MessageRow
	var raws []load.Raw
	missing := map[string]int{} // warning -> conversations whose answer had it
	answered := 0               // conversations with messages
	received, size := 0, 0
	var written int64
	var mu sync.Mutex
	// A day of a busy tenant is thousands of conversations: their rows and
	// answers commit in chunks of bounded size as they arrive (each message
	// upserted by id, each answer kept on its own), and the last commit,
	// with the conversation list, moves the cursor.
	flush := func() error {
		n, err := r.Store.CommitWindow(ctx, load.WindowCommit{TenantKey: j.tenantKey, TenantID: j.tenant.ID, Stream: j.stream.Name,
			Start: w.Start, End: w.End, Batch: load.MessageBatch(w.From, w.To, rows), Raws: raws, Lock: j.lock})
		if err != nil {
			return fmt.Errorf("load a chunk of messages: %w", err)
		}
		written += n
		rows, raws, size = nil, nil, 0
		return nil
	}
	err = extract.Conversations(ctx, j.tenant.api(), j.stream, ids, r.MessageParallel, func(id string, body []byte) error {
		msgs, warnings, err := decodeMessages(src, body)
		if err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		rows = append(rows, msgs...)
		received += len(msgs)
		if len(msgs) > 0 {
			answered++
		}
		for _, w := range warnings {
			missing[w]++
		}
		raws = append(raws, load.ConversationMessages{ConversationID: id, Messages: len(msgs), FetchedAt: time.Now(), Body: body})
		if size += len(body); size >= cmp.Or(r.ChunkBytes, defaultChunkBytes) {
			return flush()
		}
		return nil
	})
	if err != nil {
		return decoded{}, nil, err
	}
	// A field absent from one conversation's messages may be there in
	// another's: report only what no answer of the window had.
	var warnings []string
	for w, n := range missing {
		if n == answered {
			warnings = append(warnings, w)
		}
	}
	sort.Strings(warnings)
	raws = append(raws, load.Payload{Stream: j.stream.Name, Start: w.Start, End: w.End, FetchedAt: fetchedAt, Body: list})
	return decoded{batch: load.MessageBatch(w.From, w.To, rows), rows: received, warnings: warnings, out: rows, written: written}, raws, nil
}

// conversationRefs reads the conversation list of a messages window, and
// the mapped fields no conversation had.
func conversationRefs(d catalog.Dialect, body []byte) ([]conversationRef, []string, error) {
	m := newRemapper(d, "conversations")
	var refs []conversationRef
	err := each(m, body, func(c engage.Conversation) error {
		refs = append(refs, conversationRef{c.ConversationID, c.MessageCount})
		return nil
	})
	return refs, m.missing(), err
}

// conversationsToFetch chooses, before any message is fetched, the
// conversations of refs whose messages a window loads.
func (r *Runner) conversationsToFetch(ctx context.Context, j *job, refs []conversationRef) ([]string, error) {
	counts := make(map[string]int, len(refs))
	for _, ref := range refs {
		counts[ref.ID] = ref.MessageCount
	}
	var ids []string
	if j.plan.backfill {
		for id := range counts {
			ids = append(ids, id)
		}
	} else {
		changed, err := r.Store.ChangedConversations(ctx, j.tenant.ID, counts)
		if err != nil {
			return nil, fmt.Errorf("compare message counts: %w", err)
		}
		for id := range changed {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids, nil
}
