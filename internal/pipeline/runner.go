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
	"errors"
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
	OnProgress       func(Progress)     // called after every window; may be nil
	OnStream         func(StreamResult) // called when a stream finishes; may be nil
	Instance         string             // this process's name in etl.run
	Drain            context.Context    // when done, start no new window or stream; in-flight ones finish
	Store            *load.Store
	Log              *slog.Logger
	Now              func() time.Time
	WindowParallel   int  // windows in flight per stream
	StreamParallel   int  // streams in flight per tenant
	MessageParallel  int  // conversations whose messages are fetched at once, per window
	StoreMessageText bool // keep chat text (personal data) in fact_message

	lockSlotsOnce sync.Once
	lockSlots     chan struct{} // bounds streams holding a lock connection
}

// StreamResult is the outcome of one tenant and stream.
type StreamResult struct {
	load.StreamRun
	// Locked means another process was loading this tenant's stream, so this
	// run left it alone. It is not a failure.
	Locked bool
}

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

// Progress is how far a run has come, reported after every window.
type Progress struct {
	WindowsTotal int // windows to run (skipped ones excluded)
	WindowsDone  int // committed
	WindowsFail  int
	Skipped      int // finished by an earlier backfill
	Rows         int64
	Started      time.Time
}

func (r *Runner) run(ctx context.Context, mode string, tenants []Tenant, streams []catalog.Stream, planFn planner) (Result, error) {
	runID, err := r.Store.StartRun(ctx, mode, r.Instance)
	if err != nil {
		return Result{}, fmt.Errorf("record run: %w", err)
	}
	res := Result{RunID: runID, TenantErrors: map[string]error{}}

	// Plan everything first: progress then knows the total.
	jobs := map[string][]*job{}
	prog := &progress{Progress: Progress{Started: time.Now()}, report: r.OnProgress}
	for _, t := range tenants {
		tenantKey, err := r.Store.EnsureTenant(ctx, t.ID, t.Timezone)
		if err != nil {
			r.Store.FinishRun(context.WithoutCancel(ctx), runID, false)
			return res, err
		}
		for _, s := range streams {
			j := &job{tenant: t, tenantKey: tenantKey, stream: s, planFn: planFn}
			if j.cursor, j.err = r.Store.Cursor(ctx, t.ID, s.Name); j.err == nil {
				j.plan, j.err = planFn(ctx, t, s, j.cursor)
			}
			if j.plan.done == nil {
				j.plan.done = make([]bool, len(j.plan.windows))
			}
			prog.WindowsTotal += len(j.plan.windows) - j.plan.skipped
			prog.Skipped += j.plan.skipped
			jobs[t.ID] = append(jobs[t.ID], j)
		}
	}
	prog.emit()

	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results, tenantErr := r.tenant(ctx, runID, jobs[t.ID], prog)
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

func (r *Runner) tenant(ctx context.Context, runID int64, jobs []*job, prog *progress) ([]StreamResult, error) {
	// A refused token cancels the tenant's context with the auth error as cause.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	// Phases run one after the other, so dimensions are loaded before the
	// facts that look them up; streams of one phase run in parallel.
	streams := make([]catalog.Stream, len(jobs))
	for i, j := range jobs {
		streams[i] = j.stream
	}
	results := make([]StreamResult, len(jobs))
	for _, phase := range phases(streams) {
		var g errgroup.Group
		g.SetLimit(max(r.StreamParallel, 1))
		for _, i := range phase {
			g.Go(func() error {
				results[i] = r.lockedStream(ctx, stop, runID, jobs[i], prog)
				if r.OnStream != nil && !results[i].Locked {
					r.OnStream(results[i])
				}
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

// lockedStream runs a stream under its advisory lock, or skips it when
// another process holds the lock. At most half the pool's connections hold
// locks at once, so windows always find a connection to commit on.
func (r *Runner) lockedStream(ctx context.Context, stop context.CancelCauseFunc, runID int64, j *job, prog *progress) StreamResult {
	res := StreamResult{StreamRun: load.StreamRun{RunID: runID, TenantID: j.tenant.ID, Stream: j.stream.Name}}
	if r.draining() {
		res.Err = ErrDraining
		return res
	}
	r.lockSlotsOnce.Do(func() { r.lockSlots = make(chan struct{}, max(1, r.Store.MaxConns()/2)) })
	select {
	case r.lockSlots <- struct{}{}:
		defer func() { <-r.lockSlots }()
	case <-ctx.Done():
		res.Err = context.Cause(ctx)
		return res
	}
	lock, ok, err := r.Store.TryLockStream(ctx, j.tenant.ID, j.stream.Name)
	if err != nil {
		res.Err = err
		return res
	}
	if !ok {
		r.Log.Debug("stream locked by another process", "tenant", j.tenant.ID, "stream", j.stream.Name)
		res.Locked = true
		// Dimensions feed each other (agent versions need roles and teams)
		// and the facts: before this process moves on to a later phase, the
		// other one must have finished loading this dimension.
		if j.stream.Phase < catalog.PhaseFacts {
			if err := r.Store.WaitStreamUnlocked(ctx, j.tenant.ID, j.stream.Name); err != nil {
				res.Err = err
			}
		}
		return res
	}
	defer lock.Release(ctx)
	if j.err == nil {
		r.replan(ctx, j, prog)
	}
	return r.stream(ctx, stop, runID, j, prog)
}

// ErrDraining marks work not started because the process is shutting down.
var ErrDraining = errors.New("not started: shutting down")

func (r *Runner) draining() bool { return r.Drain != nil && r.Drain.Err() != nil }

// stream runs one tenant's stream: the loop every stream shares.
func (r *Runner) stream(ctx context.Context, stop context.CancelCauseFunc, runID int64, j *job, prog *progress) StreamResult {
	t, s, p := j.tenant, j.stream, j.plan
	log := r.Log.With("tenant", t.ID, "stream", s.Name)
	begin := time.Now()
	res := StreamResult{StreamRun: load.StreamRun{RunID: runID, TenantID: t.ID, Stream: s.Name, CursorBefore: j.cursor,
		WindowsTotal: len(p.windows), WindowsSkip: p.skipped}}
	if j.err != nil {
		res.Err = fmt.Errorf("plan: %w", j.err)
		return res
	}
	if err := r.Store.StartStream(ctx, res.StreamRun); err != nil {
		res.Err = fmt.Errorf("record stream: %w", err)
		return res
	}
	fetch := fetchers[s.Kind]
	if fetch == nil {
		res.Err = fmt.Errorf("stream kind %q has no fetcher", s.Kind)
	}

	cp := newCheckpoint(p.windows, p.done, r.Now())
	var todo []int
	for i := range p.windows {
		if !p.done[i] {
			todo = append(todo, i)
		}
	}
	var mu sync.Mutex // guards res
	if res.Err == nil {
		// Windows stop launching when the run is cancelled or the process
		// drains; a window already running keeps ctx and commits or rolls back.
		launch, cancelLaunch := context.WithCancel(ctx)
		defer cancelLaunch()
		if r.Drain != nil {
			stopLaunch := context.AfterFunc(r.Drain, cancelLaunch)
			defer stopLaunch()
		}
		extract.Each(launch, len(todo), r.WindowParallel, func(_ context.Context, k int) {
			i := todo[k]
			w := p.windows[i]
			start := time.Now()
			received, written, err := r.window(ctx, cp, i, j, w, fetch, runID)
			if err != nil && ctx.Err() != nil {
				err = fmt.Errorf("%w: %w", err, context.Cause(ctx))
			}
			if engage.IsAuth(err) {
				stop(err)
			}
			prog.window(err == nil, received)
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
	if res.WindowsOK+res.WindowsFailed < len(todo) && res.Err == nil {
		cause := context.Cause(ctx)
		if cause == nil && r.draining() {
			cause = ErrDraining
		}
		res.Err = fmt.Errorf("stopped after %d of %d windows: %w", res.WindowsOK, len(todo), cause)
	}
	if res.Err != nil && engage.IsAuth(context.Cause(ctx)) && !engage.IsAuth(res.Err) {
		res.Err = context.Cause(ctx)
	}
	res.CursorAfter, _ = r.Store.Cursor(context.WithoutCancel(ctx), t.ID, s.Name)
	if err := r.Store.FinishStream(res.StreamRun); err != nil {
		log.Error("cannot record stream result", "error", err)
	}
	log.Info("stream finished", "windows", res.WindowsOK, "failed", res.WindowsFailed, "skipped", res.WindowsSkip,
		"rows", res.RowsReceived, "written", res.RowsWritten, "duration", time.Since(begin).Round(time.Millisecond))
	return res
}

// window fetches, transforms and commits one window.
func (r *Runner) window(ctx context.Context, cp *checkpoint, i int, j *job, w extract.Window, fetch fetcher, runID int64) (received int, written int64, err error) {
	fetchedAt := time.Now()
	f, err := fetch(ctx, r, j, w)
	if err != nil {
		return 0, 0, err
	}
	err = cp.commit(i, func(advanceTo time.Time) error {
		c := load.WindowCommit{
			TenantKey: j.tenantKey, TenantID: j.tenant.ID, Stream: j.stream.Name,
			Start: w.Start, End: w.End, Raw: f.raw, FetchedAt: fetchedAt, Batch: f.batch, Rows: f.received,
		}
		if j.plan.advance {
			c.AdvanceTo = advanceTo
		}
		if j.plan.backfill {
			c.BackfillRun = runID
		}
		written, err = r.Store.CommitWindow(ctx, c)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("load: %w", err)
	}
	return f.received, written, nil
}
