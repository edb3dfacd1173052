// Package pipeline runs streams: for each tenant and stream it reads the
// cursor, plans windows on local days, fetches them in parallel within the
// tenant's pacing, transforms, and commits each window (rows, raw payload and
// cursor advance) in one transaction. The loop is written once here; what
// differs per stream is data in internal/catalog plus one fetcher per Kind.
//
// A failing window fails its stream (the cursor stops before it), never the
// other streams; a refused token stops its tenant, since every request of the
// tenant would be refused too.
package pipeline

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
)

// Tenant is what the runner needs of a configured tenant.
type Tenant struct {
	ID       string
	Timezone string
	Location *time.Location
	Start    civil.Date // first day when a stream has no cursor
	Client   *engage.Client
}

// Runner runs streams against one warehouse.
type Runner struct {
	Store            *load.Store
	Log              *slog.Logger
	Now              func() time.Time
	WindowParallel   int  // windows in flight per stream
	StreamParallel   int  // streams in flight per tenant
	MessageParallel  int  // conversations whose messages are fetched at once, per window
	StoreMessageText bool // keep chat text (personal data) in fact_message
}

// StreamResult is the outcome of one tenant and stream.
type StreamResult = load.StreamRun

// Result is the outcome of a run.
type Result struct {
	RunID   int64
	Streams []StreamResult
	// TenantErrors holds, per tenant, an error that stopped the whole tenant
	// (a refused token); its streams carry the same error.
	TenantErrors map[string]error
}

// OK reports whether every stream succeeded.
func (r Result) OK() bool {
	for _, s := range r.Streams {
		if s.Err != nil {
			return false
		}
	}
	return len(r.TenantErrors) == 0
}

// Sync runs an incremental sync of streams for every tenant: each stream
// continues from its cursor, re-reading its lookback, through today.
func (r *Runner) Sync(ctx context.Context, tenants []Tenant, streams []catalog.Stream) (Result, error) {
	return r.run(ctx, "sync", tenants, streams, func(t Tenant, s catalog.Stream, cursor time.Time) []extract.Window {
		now := r.Now()
		switch s.Kind.Planning() {
		case catalog.PlanSnapshot:
			return []extract.Window{extract.Snapshot(now, t.Location)}
		case catalog.PlanSince:
			return []extract.Window{extract.Since(cursor, t.Start, s.Lookback, now, t.Location)}
		}
		from, to := extract.SyncRange(cursor, t.Start, s.Lookback, now, t.Location)
		return extract.Plan(from, to, s.WindowDays, t.Location)
	})
}

// planner returns the windows of a stream, given its cursor.
type planner func(t Tenant, s catalog.Stream, cursor time.Time) []extract.Window

func (r *Runner) run(ctx context.Context, mode string, tenants []Tenant, streams []catalog.Stream, plan planner) (Result, error) {
	runID, err := r.Store.StartRun(ctx, mode)
	if err != nil {
		return Result{}, fmt.Errorf("record run: %w", err)
	}
	res := Result{RunID: runID, TenantErrors: map[string]error{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results, tenantErr := r.tenant(ctx, runID, t, streams, plan)
			mu.Lock()
			defer mu.Unlock()
			res.Streams = append(res.Streams, results...)
			if tenantErr != nil {
				res.TenantErrors[t.ID] = tenantErr
			}
		}()
	}
	wg.Wait()
	if err := r.Store.FinishRun(context.WithoutCancel(ctx), runID, res.OK()); err != nil {
		return res, fmt.Errorf("record run: %w", err)
	}
	return res, nil
}

func (r *Runner) tenant(ctx context.Context, runID int64, t Tenant, streams []catalog.Stream, plan planner) ([]StreamResult, error) {
	tenantKey, err := r.Store.EnsureTenant(ctx, t.ID, t.Timezone)
	if err != nil {
		return nil, err
	}
	// A refused token cancels the tenant's context with the auth error as cause.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	// Phases run one after the other, so dimensions are loaded before the
	// facts that look them up; streams of one phase run in parallel.
	results := make([]StreamResult, len(streams))
	for _, phase := range phases(streams) {
		var g errgroup.Group
		g.SetLimit(max(r.StreamParallel, 1))
		for _, i := range phase {
			g.Go(func() error {
				results[i] = r.stream(ctx, stop, runID, t, tenantKey, streams[i], plan)
				return nil
			})
		}
		_ = g.Wait()
	}
	if cause := context.Cause(ctx); engage.IsAuth(cause) {
		return results, cause
	}
	return results, nil
}

// phases groups stream indexes by catalog phase, in ascending order.
func phases(streams []catalog.Stream) [][]int {
	byPhase := map[int][]int{}
	var order []int
	for i, s := range streams {
		if _, ok := byPhase[s.Phase]; !ok {
			order = append(order, s.Phase)
		}
		byPhase[s.Phase] = append(byPhase[s.Phase], i)
	}
	sort.Ints(order)
	out := make([][]int, 0, len(order))
	for _, p := range order {
		out = append(out, byPhase[p])
	}
	return out
}

// stream runs one tenant's stream: the loop every stream shares.
func (r *Runner) stream(ctx context.Context, stop context.CancelCauseFunc, runID int64, t Tenant, tenantKey int, s catalog.Stream, plan planner) StreamResult {
	log := r.Log.With("tenant", t.ID, "stream", s.Name)
	begin := time.Now()
	res := StreamResult{RunID: runID, TenantID: t.ID, Stream: s.Name}

	cursor, err := r.Store.Cursor(ctx, t.ID, s.Name)
	if err != nil {
		res.Err = fmt.Errorf("read cursor: %w", err)
		return res
	}
	windows := plan(t, s, cursor)
	res.WindowsTotal, res.CursorBefore = len(windows), cursor
	if err := r.Store.StartStream(ctx, res); err != nil {
		res.Err = fmt.Errorf("record stream: %w", err)
		return res
	}
	fetch := fetchers[s.Kind]
	if fetch == nil {
		res.Err = fmt.Errorf("stream kind %q has no fetcher", s.Kind)
	}

	cp := newCheckpoint(windows, r.Now())
	var mu sync.Mutex // guards res
	if res.Err == nil {
		extract.Each(ctx, windows, r.WindowParallel, func(ctx context.Context, i int, w extract.Window) {
			start := time.Now()
			received, written, err := r.window(ctx, cp, i, t, tenantKey, s, w, fetch)
			if err != nil && ctx.Err() != nil {
				err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
			}
			if engage.IsAuth(err) {
				stop(err)
			}
			mu.Lock()
			defer mu.Unlock()
			wlog := log.With("window_start", w.From.String(), "window_end", w.To.String(), "duration", time.Since(start).Round(time.Millisecond))
			if err != nil {
				res.WindowsFailed++
				if res.Err == nil {
					res.Err = fmt.Errorf("window %s..%s: %w", w.From, w.To.AddDays(-1), err)
				}
				if !engage.IsAuth(err) {
					wlog.Warn("window failed", "error", err)
				}
				return
			}
			res.WindowsOK++
			res.RowsReceived += int64(received)
			res.RowsWritten += written
			wlog.Debug("window loaded", "rows", received, "written", written)
		})
	}
	if res.WindowsOK+res.WindowsFailed < len(windows) && res.Err == nil {
		res.Err = fmt.Errorf("stopped after %d of %d windows: %w", res.WindowsOK, len(windows), context.Cause(ctx))
	}
	if res.Err != nil && engage.IsAuth(context.Cause(ctx)) && !engage.IsAuth(res.Err) {
		res.Err = context.Cause(ctx)
	}
	res.CursorAfter, _ = r.Store.Cursor(context.WithoutCancel(ctx), t.ID, s.Name)
	if err := r.Store.FinishStream(res); err != nil {
		log.Error("cannot record stream result", "error", err)
	}
	log.Info("stream finished", "windows", res.WindowsOK, "failed", res.WindowsFailed,
		"rows", res.RowsReceived, "written", res.RowsWritten, "duration", time.Since(begin).Round(time.Millisecond))
	return res
}

// window fetches, transforms and commits one window.
func (r *Runner) window(ctx context.Context, cp *checkpoint, i int, t Tenant, tenantKey int, s catalog.Stream, w extract.Window, fetch fetcher) (received int, written int64, err error) {
	fetchedAt := time.Now()
	f, err := fetch(ctx, r, t, s, w)
	if err != nil {
		return 0, 0, err
	}
	err = cp.commit(i, func(advanceTo time.Time) error {
		written, err = r.Store.CommitWindow(ctx, load.WindowCommit{
			TenantKey: tenantKey, TenantID: t.ID, Stream: s.Name,
			Start: w.Start, End: w.End, Raw: f.raw, FetchedAt: fetchedAt,
			Batch: f.batch, AdvanceTo: advanceTo,
		})
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("load: %w", err)
	}
	return f.received, written, nil
}

// checkpoint tracks which windows of a stream have committed, so the cursor
// only moves over a contiguous run of finished windows even though windows
// finish in any order.
type checkpoint struct {
	mu      sync.Mutex
	windows []extract.Window
	done    []bool
	next    int // first window not committed yet
	now     time.Time
}

func newCheckpoint(ws []extract.Window, now time.Time) *checkpoint {
	return &checkpoint{windows: ws, done: make([]bool, len(ws)), now: now}
}

// commit runs fn, the window's transaction, with the watermark it must set:
// the end of the contiguous run this window completes (never past now), or
// zero when an earlier window is still missing. Commits of one stream are
// serialised, so the watermark fn writes is always the right one.
func (c *checkpoint) commit(i int, fn func(advanceTo time.Time) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var advance time.Time
	next := c.next
	if i == c.next {
		next++
		for next < len(c.windows) && c.done[next] {
			next++
		}
		advance = c.windows[next-1].End
		if advance.After(c.now) {
			advance = c.now
		}
	}
	if err := fn(advance); err != nil {
		return err
	}
	c.done[i] = true
	c.next = next
	return nil
}
