package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// Rebuilt is what a rebuild did to one tenant's stream.
type Rebuilt struct {
	TenantID, Stream string
	Answers          int   // answers replayed
	Rows             int64 // rows they hold
	Written          int64 // warehouse rows inserted, updated or deleted
	// Inserted, of Written, are rows inserted straight into a fact table
	// the rebuild found emptied (load.Emptied), without a merge.
	Inserted int64
	Failed   int   // answers that failed to decode or commit
	Err      error // the first failure; or why the stream was skipped
}

// RebuildResult is the outcome of a rebuild, per tenant and stream.
type RebuildResult struct{ Streams []Rebuilt }

// OK reports whether every answer was replayed.
func (r RebuildResult) OK() bool {
	for _, s := range r.Streams {
		if s.Err != nil {
			return false
		}
	}
	return true
}

// Rebuild replays the answers kept in schema raw for the local days [from,
// to) through the same decode and commit as a sync, one transaction per
// answer (consecutive conversations' messages answers together), without a
// request to the API. Answers are read oldest first and committed in that
// order within their lane (see laneOf), so webhook deliveries and sync
// answers of conversations interleave as they did, while the lanes, which
// write different tables, commit side by side. Cursors and raw answers are left
// as they are. An answer that later answers of its stream replaced whole is
// skipped, and of a list that is a state as a whole (roles, teams,
// customers, rules) only the latest is replayed.
//
// Each stream is rebuilt under its advisory lock, and every commit passes
// it, as a sync's does, so no sync commits newer answers in between; when
// the webhooks replay (with conversations or messages), their stream is
// locked too, so a webhook arriving meanwhile waits and commits after the
// rebuild. A stream another process is loading is skipped.
func (r *Runner) Rebuild(ctx context.Context, tenants []Tenant, streams []catalog.Stream, from, to civil.Date) (RebuildResult, error) {
	var res RebuildResult
	for _, t := range tenants {
		got, err := r.rebuildTenant(ctx, t, streams, from, to)
		res.Streams = append(res.Streams, got...)
		if err != nil {
			return res, fmt.Errorf("tenant %s: %w", t.ID, err)
		}
	}
	r.analyze(ctx)
	sort.Slice(res.Streams, func(i, j int) bool {
		a, b := res.Streams[i], res.Streams[j]
		return a.TenantID+"\x00"+a.Stream < b.TenantID+"\x00"+b.Stream
	})
	return res, nil
}

func (r *Runner) rebuildTenant(ctx context.Context, t Tenant, streams []catalog.Stream, from, to civil.Date) ([]Rebuilt, error) {
	tenantKey, err := r.Store.EnsureTenant(ctx, t.ID, t.Timezone)
	if err != nil {
		return nil, err
	}
	byName := map[string]catalog.Stream{}
	var names []string
	webhooks := false
	for _, s := range streams {
		byName[s.Name] = s
		names = append(names, s.Name)
		webhooks = webhooks || kinds.Of(s.Kind).ReplaysWebhooks
	}
	lock, busy, err := r.Store.LockStreams(ctx, t.ID, names)
	if err != nil {
		return nil, err
	}
	defer lock.Release(ctx)
	if webhooks { // no webhook commits while they replay
		ok, err := r.lockWebhooks(ctx, lock)
		if err != nil {
			return nil, err
		}
		for name, s := range byName {
			if !ok && kinds.Of(s.Kind).ReplaysWebhooks && !slices.Contains(busy, name) {
				busy = append(busy, name)
			}
		}
	}

	// The fact tables without a row of the tenant on these days, found
	// under the locks: their batches insert their rows without a merge
	// where the keys are new (see load.Emptied).
	emptied, err := r.Store.EmptiedFacts(ctx, tenantKey, from, to)
	if err != nil {
		return nil, err
	}
	if tables := emptied.Tables(); len(tables) > 0 {
		r.Log.Info("rebuild: fact tables without a row of these days insert without a merge", "tenant", t.ID, "tables", tables)
	}

	stats := map[string]*Rebuilt{}
	stat := func(stream string) *Rebuilt {
		if stats[stream] == nil {
			stats[stream] = &Rebuilt{TenantID: t.ID, Stream: stream}
		}
		return stats[stream]
	}
	q := load.RawQuery{TenantID: t.ID, Start: from.Start(t.Location), End: to.Start(t.Location)}
	for _, name := range busy {
		stat(name).Err = errors.New("skipped: another process is loading it")
		delete(byName, name)
	}
	for name, s := range byName {
		def := kinds.Of(s.Kind)
		switch def.Replay {
		case kinds.ReplayConversations:
			q.Conversations = true
		case kinds.ReplayWindows:
			q.Windowed = append(q.Windowed, name)
		case kinds.ReplayLatest:
			q.Latest = append(q.Latest, name)
		case kinds.ReplayEvery:
			q.Other = append(q.Other, name)
		}
		// Webhooks change conversations and messages: they replay with
		// those streams, in the order they came.
		q.Webhooks = q.Webhooks || def.ReplaysWebhooks
		stat(name)
	}

	var mu sync.Mutex // guards stats: the lanes commit in parallel
	fail := func(st *Rebuilt, a load.RawAnswer, err error) {
		st.Failed++
		if st.Err == nil {
			st.Err = fmt.Errorf("answer of %s: %w", a.FetchedAt.UTC().Format(time.RFC3339), err)
		}
		r.Log.Warn("rebuild: answer failed", "tenant", t.ID, "stream", st.Stream, "fetched_at", a.FetchedAt, "error", err)
	}
	// The answers are read and decoded here, in order, and committed by
	// one goroutine per lane (see laneOf): a lane commits its answers in
	// the order they came, while the lanes, which write different tables,
	// and the decoding of the next answers go on at the same time. The
	// decoded rows waiting in the lanes are bounded (rowsInFlight), not
	// the answers: with a few answers a lane, the reader waited for
	// whichever lane was busiest while the others had nothing to commit.
	lanes := make([]chan replayed, kinds.Lanes)
	inFlight := semaphore.NewWeighted(rowsInFlight)
	var committers sync.WaitGroup
	for i := range lanes {
		lanes[i] = make(chan replayed, answersInFlight)
		committers.Go(func() {
			for p := range lanes[i] {
				var written int64
				err := p.err
				if err == nil {
					c := p.commit
					c.Lock = lock // the same locks and commit as a sync's
					c.Emptied = emptied
					written, err = r.Store.CommitWindow(ctx, c)
				}
				inFlight.Release(p.weight)
				mu.Lock()
				st := stat(p.commit.Stream)
				st.Answers += p.answers
				if err != nil {
					fail(st, p.first, err)
				} else {
					st.Written += written
					st.Rows += int64(p.commit.Rows)
				}
				mu.Unlock()
			}
		})
	}
	send := func(p replayed) error {
		p.first.Body = nil // only its time names it in an error
		p.weight = min(max(int64(p.commit.Rows), 1), rowsInFlight)
		if err := inFlight.Acquire(ctx, p.weight); err != nil {
			return context.Cause(ctx)
		}
		select {
		case lanes[laneOf(byName[p.commit.Stream], p.commit.Stream)] <- p:
			return nil
		case <-ctx.Done():
			inFlight.Release(p.weight)
			return context.Cause(ctx)
		}
	}
	// Conversations' messages answers are many and small (one per
	// conversation), and no two hold the same message: consecutive ones
	// commit together, up to messagesPerCommit rows, as a sync's window
	// commits a day of them.
	var pending []transform.MessageRow
	var pendingFrom []load.RawAnswer
	flush := func() error {
		if len(pendingFrom) == 0 {
			return nil
		}
		c := load.WindowCommit{TenantKey: tenantKey, TenantID: t.ID, Stream: messagesStream(byName),
			Start: pendingFrom[0].Start, End: pendingFrom[len(pendingFrom)-1].End,
			Batch: load.MessageBatch(from, from.AddDays(1), pending), Rows: len(pending)}
		p := replayed{commit: c, first: pendingFrom[0], answers: len(pendingFrom)}
		pending, pendingFrom = nil, nil
		return send(p)
	}
	replay := func(a load.RawAnswer) error {
		if a.Source == load.RawConversation {
			rows, _, err := kinds.Messages(kinds.Source{Dialect: t.dialect(), Location: t.Location, StoreText: r.StoreMessageText}, a.Body)
			if err != nil {
				c := load.WindowCommit{Stream: messagesStream(byName)}
				return send(replayed{commit: c, first: a, answers: 1, err: err})
			}
			kept := a
			kept.Body = nil // decoded: only its instants are needed
			pending, pendingFrom = append(pending, inDays(rows, from, to)...), append(pendingFrom, kept)
			if len(pending) >= messagesPerCommit {
				return flush()
			}
			return nil
		}
		c, err := r.rebuildCommit(t, tenantKey, byName, a, from, to)
		// The messages that came before this answer commit before it when
		// it shares their lane (a conversation, a webhook); the other lanes
		// write other tables, and the messages go on gathering.
		if laneOf(byName[c.Stream], c.Stream) == kinds.LaneConversations {
			if err := flush(); err != nil {
				return err
			}
		}
		return send(replayed{commit: c, first: a, answers: 1, err: err})
	}
	err = r.Store.RawAnswers(ctx, q, replay)
	if err == nil {
		err = flush()
	}
	for _, l := range lanes {
		close(l)
	}
	committers.Wait()
	if err != nil {
		return nil, err
	}
	var out []Rebuilt
	for _, s := range stats {
		s.Inserted, _ = emptied.Inserted(s.Stream)
		out = append(out, *s)
	}
	return out, nil
}

// lockWebhooks adds the webhooks' stream to a rebuild's lock. A webhook's
// commit holds that lock for the moment of its transaction, so it is tried
// again for a while before the streams that replay webhooks are given up as
// busy.
func (r *Runner) lockWebhooks(ctx context.Context, lock *load.StreamLock) (bool, error) {
	for attempt := 1; ; attempt++ {
		ok, err := lock.TryAdd(ctx, WebhookStream)
		if ok || err != nil || attempt == webhookLockAttempts {
			return ok, err
		}
		select {
		case <-ctx.Done():
			return false, context.Cause(ctx)
		case <-time.After(webhookLockPause):
		}
	}
}

const (
	webhookLockAttempts = 20
	webhookLockPause    = 100 * time.Millisecond
)

// replayed is a kept answer decoded into the commit it makes (or why it
// could not be), on its way to its lane.
type replayed struct {
	commit  load.WindowCommit
	first   load.RawAnswer // the (first) answer it replays, for the error
	answers int            // answers it replays
	err     error          // the decoding failed
	weight  int64          // of rowsInFlight it holds until committed
}

// laneOf is the lane a stream's answers commit in (see kinds.Lane);
// webhooks share the conversations' lane.
func laneOf(s catalog.Stream, name string) kinds.Lane {
	if name == WebhookStream {
		return kinds.LaneConversations
	}
	return kinds.Of(s.Kind).Lane
}

// messagesPerCommit bounds the messages a rebuild commits at once.
const messagesPerCommit = 20000

// rowsInFlight bounds the decoded rows a rebuild holds that wait in its
// lanes (an answer larger than it waits for the lanes to be empty), and
// answersInFlight the answers each lane holds.
const (
	rowsInFlight    = 100000
	answersInFlight = 1024
)

// rebuildCommit decodes one kept answer (a window's, or a webhook delivery)
// into the commit it makes, without
// raw answers or a cursor advance: they are kept already.
func (r *Runner) rebuildCommit(t Tenant, tenantKey int, streams map[string]catalog.Stream, a load.RawAnswer, from, to civil.Date) (load.WindowCommit, error) {
	c := load.WindowCommit{TenantKey: tenantKey, TenantID: t.ID, Start: a.Start, End: a.End}
	src := kinds.Source{Dialect: t.dialect(), Location: t.Location, StoreText: r.StoreMessageText}
	var err error
	switch a.Source {
	case load.RawWebhook:
		c.Stream = WebhookStream
		c.Batch, err = kinds.Webhook(src, a.FetchedAt, a.Body)
		c.Rows = 1
	default:
		s := streams[a.Stream]
		c.Stream = s.Name
		src.Stream, src.Window = s, rawWindow(s, a, t.Location)
		var d kinds.Decoded
		d, err = kinds.Decode(src, a.Body)
		c.Batch, c.Rows = d.Batch, d.Rows
		if err == nil && a.Owned != nil && !owns(a.Owned, a.Start, a.End) {
			c.Batch = load.OnlyDays(c.Batch, func(d civil.Date) bool { return owns(a.Owned, d.Start(t.Location), d.AddDays(1).Start(t.Location)) })
		}
	}
	return c, err
}

// rawWindow is the window an answer was fetched for, from the instants it
// was kept under (see extract.Plan, Snapshot and Since).
func rawWindow(s catalog.Stream, a load.RawAnswer, loc *time.Location) extract.Window {
	w := extract.Window{Start: a.Start, End: a.End, From: civil.Of(a.Start, loc)}
	switch kinds.Of(s.Kind).Planning {
	case kinds.PlanDays:
		// A window of days ends at a local midnight; a piece of a day that
		// was split because its answer was cut (fetchWhole) is that day's.
		w.To = civil.Of(a.End, loc)
		if !w.To.Start(loc).Equal(a.End) {
			w.To = w.To.AddDays(1)
		}
	case kinds.PlanSnapshot: // a realtime snapshot is kept under its minute: the same day
		w.To = w.From.AddDays(1)
	default:
		w.To = civil.Of(a.End, loc).AddDays(1)
	}
	return w
}

func messagesStream(streams map[string]catalog.Stream) string {
	for name, s := range streams {
		if kinds.Of(s.Kind).Replay == kinds.ReplayConversations {
			return name
		}
	}
	return "messages"
}

// inDays keeps the messages sent on the local days [from, to).
func inDays(rows []transform.MessageRow, from, to civil.Date) []transform.MessageRow {
	kept := rows[:0]
	for _, m := range rows {
		if !m.Date.Before(from) && m.Date.Before(to) {
			kept = append(kept, m)
		}
	}
	return kept
}

// owns reports whether the instants [start, end) lie in one of ranges.
func owns(ranges [][2]time.Time, start, end time.Time) bool {
	for _, r := range ranges {
		if !start.Before(r[0]) && !end.After(r[1]) {
			return true
		}
	}
	return false
}
