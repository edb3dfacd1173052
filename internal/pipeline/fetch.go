package pipeline

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// streamRun is one tenant's stream while it runs: what every window of it
// shares.
type streamRun struct {
	*job
	def  kinds.Def
	caps *capWatch // Capped kinds: the lengths of the answers so far
	cp   *checkpoint
	log  *slog.Logger
	prog *progress
	stop context.CancelCauseFunc // stops the tenant (a refused token)
	// requests counts what its windows sent the API, over the rounds.
	requests atomic.Int64
}

// outcome is one window's result.
type outcome struct {
	window   extract.Window
	received int   // rows the answer held
	written  int64 // warehouse rows inserted, updated or deleted
	warnings []string
	err      error
}

// fetched is a window's answer turned into rows, with what it committed
// already (the chunks of a busy day's messages).
type fetched struct {
	kinds.Decoded
	raws    []load.Raw
	written int64
}

// window fetches window i from the API, turns its answer into rows and
// commits them with the answer and the cursor advance, as its kind fetches.
func (r *Runner) window(ctx context.Context, sr *streamRun, i int) outcome {
	w := sr.plan.windows[i]
	if sr.def.Fetch == kinds.FetchChunked {
		return r.chunkedWindow(ctx, sr, i)
	}
	fetchedAt := time.Now()
	fctx, cancel := r.windowContext(ctx)
	defer cancel()
	var f fetched
	var err error
	switch {
	case sr.def.Fetch == kinds.FetchPerConversation:
		f, err = r.fetchMessages(fctx, sr, i)
	case sr.def.Capped:
		f, err = r.fetchWhole(fctx, sr, i)
	case sr.def.Join != nil:
		f, err = r.fetchShorter(fctx, sr, w, func(ctx context.Context, p extract.Window) (fetched, error) {
			return r.fetchAnswer(ctx, sr, p)
		}, joinDecoded(sr.def))
	default:
		f, err = r.fetchAnswer(fctx, sr, w)
	}
	if err != nil {
		err = r.windowCause(ctx, fctx, err)
		r.keepFailed(ctx, sr.job, w, fetchedAt, err, f.raws)
		return outcome{window: w, err: err}
	}
	written, err := r.commitWindow(ctx, sr, i, load.WindowCommit{
		TenantKey: sr.tenantKey, TenantID: sr.tenant.ID, Stream: sr.stream.Name,
		Start: w.Start, End: w.End, Batch: f.Batch, Raws: f.raws, Rows: f.Rows,
	})
	if err != nil {
		return outcome{window: w, err: fmt.Errorf("load: %w", err)}
	}
	return outcome{window: w, received: f.Rows, written: written + f.written, warnings: f.Warnings}
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

// commitWindow commits what completes window i of a stream, under its
// lock, with the cursor advance the checkpoint allows and, for a backfill
// or a long sync, the record that the window is finished.
//
// The cursor moves to the end of the contiguous run of committed windows,
// or, for an APIClock kind, to the newest event time the window's answers
// held (c.AdvanceTo, set by the caller), when the checkpoint lets it move.
func (r *Runner) commitWindow(ctx context.Context, sr *streamRun, i int, c load.WindowCommit) (written int64, err error) {
	c.Lock = sr.lock
	apiClock := c.AdvanceTo
	err = sr.cp.commit(i, func(advanceTo time.Time) (time.Time, error) {
		c.AdvanceTo = time.Time{}
		if sr.plan.advance && !advanceTo.IsZero() {
			c.AdvanceTo = advanceTo
			if sr.def.APIClock {
				c.AdvanceTo = apiClock // zero when the answers held no event: the cursor stays
			}
		}
		if sr.plan.resumable {
			c.BackfillRun = sr.runID
		}
		written, err = r.Store.CommitWindow(ctx, c)
		return c.AdvanceTo, err
	})
	return written, err
}

// source is what the rows of a window's answers depend on besides the body.
func (r *Runner) source(j *job, w extract.Window) kinds.Source {
	return kinds.Source{Dialect: j.tenant.dialect(), Location: j.tenant.Location, Stream: j.stream, Window: w,
		StoreText: r.StoreMessageText}
}

// fetchAnswer fetches a window answered by one body (or one list of pages).
func (r *Runner) fetchAnswer(ctx context.Context, sr *streamRun, w extract.Window) (fetched, error) {
	fetchedAt := time.Now()
	var d kinds.Decoded
	body, err := extract.Answer(ctx, sr.tenant.api(), sr.stream, sr.def.Shape, w, func(body []byte) (err error) {
		d, err = sr.def.Decode(r.source(sr.job, w), body)
		return err
	})
	raw := load.Payload{Stream: sr.stream.Name, Start: w.Start, End: w.End, FetchedAt: fetchedAt, Body: body}
	if sr.def.Moment {
		// Every snapshot is a record of its own: kept under its minute, not
		// replaced by the day's next one, so a rebuild restores them all.
		raw.Start = w.End.Truncate(time.Minute)
	}
	if err != nil {
		return fetched{raws: []load.Raw{raw}}, err
	}
	return fetched{Decoded: d, raws: []load.Raw{raw}}, nil
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

// conversationAnswer is one conversation's messages answer, decoded.
type conversationAnswer struct {
	rows     []transform.MessageRow
	warnings []string
}

// fetchMessages lists the window's conversations, chooses those whose
// messages to fetch, and fetches them. A sync fetches only conversations
// whose message count differs from the warehouse's (messages do not change
// once sent), so re-reading the lookback costs one list request per day; a
// backfill fetches them all. Each conversation's answer is kept on its own.
func (r *Runner) fetchMessages(ctx context.Context, sr *streamRun, i int) (fetched, error) {
	w := sr.plan.windows[i]
	src := r.source(sr.job, w)
	fetchedAt := time.Now()
	// The conversation list is an unpaged detail answer: fetched whole,
	// in pieces when it may have been cut (capped.go).
	listOf := func(ctx context.Context, p extract.Window) (fetched, error) {
		var refs []kinds.ConversationRef
		body, err := extract.ConversationList(ctx, sr.tenant.api(), sr.stream, p, func(body []byte) (err error) {
			refs, _, err = kinds.ConversationRefs(src.Dialect, body)
			return err
		})
		raw := load.Payload{Stream: sr.stream.Name, Start: p.Start, End: p.End, FetchedAt: fetchedAt, Body: body}
		return fetched{Decoded: kinds.Decoded{Elements: len(refs), Out: refs}, raws: []load.Raw{raw}}, err
	}
	whole, pieces, err := r.uncut(ctx, sr, i, w, listOf)
	if err != nil {
		return fetched{}, fmt.Errorf("list conversations: %w", err)
	}
	if pieces == nil {
		pieces = []fetched{whole}
	}
	var refs []kinds.ConversationRef
	var lists []load.Raw
	for _, p := range pieces {
		refs = append(refs, p.Out.([]kinds.ConversationRef)...)
		lists = append(lists, p.raws...)
	}
	counted := make(map[string]int, len(refs))
	for _, ref := range refs {
		counted[ref.ID] = ref.MessageCount
	}
	ids, err := r.conversationsToFetch(ctx, sr.job, refs)
	if err != nil {
		return fetched{}, err
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
	// with the conversation list, moves the cursor. A chunk commits once
	// its conversations' requests are done, never inside their retries.
	flush := func() error {
		n, err := r.Store.CommitWindow(ctx, load.WindowCommit{TenantKey: sr.tenantKey, TenantID: sr.tenant.ID, Stream: sr.stream.Name,
			Start: w.Start, End: w.End, Batch: load.MessageBatch(w.From, w.To, rows), Raws: raws, Lock: sr.lock})
		if err != nil {
			return fmt.Errorf("load a chunk of messages: %w", err)
		}
		written += n
		rows, raws, size = nil, nil, 0
		return nil
	}
	decodeOne := func(id string, body []byte) (conversationAnswer, error) {
		msgs, warnings, err := kinds.Messages(src, body)
		if err == nil && len(msgs) < counted[id] {
			// Messages are only ever added: fewer than the conversation
			// counted means the API cut the answer (a cap), and one
			// conversation cannot be asked for in pieces.
			err = fmt.Errorf("conversation %s: the messages answer holds %d of the %d messages the conversation list counts (messageCount): the API cut it at a cap; the missing messages cannot be fetched",
				id, len(msgs), counted[id])
		}
		return conversationAnswer{rows: msgs, warnings: warnings}, err
	}
	take := func(id string, body []byte, a conversationAnswer) error {
		mu.Lock()
		defer mu.Unlock()
		rows = append(rows, a.rows...)
		received += len(a.rows)
		if len(a.rows) > 0 {
			answered++
		}
		for _, w := range a.warnings {
			missing[w]++
		}
		raws = append(raws, load.ConversationMessages{ConversationID: id, Messages: len(a.rows), FetchedAt: time.Now(), Body: body})
		if size += len(body); size >= cmp.Or(r.ChunkBytes, defaultChunkBytes) {
			return flush()
		}
		return nil
	}
	if err := extract.Conversations(ctx, sr.tenant.api(), sr.stream, ids, r.MessageParallel, decodeOne, take); err != nil {
		return fetched{}, err
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
	raws = append(raws, lists...)
	return fetched{
		Decoded: kinds.Decoded{Batch: load.MessageBatch(w.From, w.To, rows), Rows: received, Warnings: warnings, Out: rows},
		raws:    raws, written: written,
	}, nil
}

// conversationsToFetch chooses, before any message is fetched, the
// conversations of refs whose messages a window loads.
func (r *Runner) conversationsToFetch(ctx context.Context, j *job, refs []kinds.ConversationRef) ([]string, error) {
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
