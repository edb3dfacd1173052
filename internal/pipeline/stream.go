package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
)

// ErrDraining marks work not started because the process is shutting down.
var ErrDraining = errors.New("not started: shutting down")

// lockedStream runs a round of a stream under its advisory lock, or skips
// it when another process holds the lock.
func (r *Runner) lockedStream(ctx context.Context, stop context.CancelCauseFunc, runID int64, j *job, round int, prog *progress) StreamResult {
	res := StreamResult{StreamRun: load.StreamRun{RunID: runID, TenantID: j.tenant.ID, Stream: j.stream.Name}}
	if j.sofar != nil { // a later round: what the earlier ones did stays the result
		res = *j.sofar
	}
	if r.draining() {
		res.Err = errors.Join(res.Err, ErrDraining)
		return res
	}
	// A slot first, then the lock: a stream waiting for a slot leaves the
	// lock to another process that has one. Older history takes a slot of
	// its own pool too (see New).
	if round >= roundHistory {
		if !take(ctx, r.history) {
			res.Err = errors.Join(res.Err, context.Cause(ctx))
			return res
		}
		defer func() { <-r.history }()
	}
	if !take(ctx, r.slots) {
		res.Err = errors.Join(res.Err, context.Cause(ctx))
		return res
	}
	defer func() { <-r.slots }()
	lock, ok, err := r.Store.TryLockStream(ctx, j.tenant.ID, j.stream.Name)
	if err != nil {
		res.Err = errors.Join(res.Err, err)
		return res
	}
	if !ok {
		r.Log.Debug("stream locked by another process", "tenant", j.tenant.ID, "stream", j.stream.Name)
		res.Locked = true
		// Dimensions feed each other (agent versions need roles and teams)
		// and the facts: before this process moves on to a later phase, the
		// other one must have finished loading this dimension.
		if j.stream.Phase < catalog.PhaseFacts {
			res.Err = errors.Join(res.Err, r.Store.WaitStreamUnlocked(ctx, j.tenant.ID, j.stream.Name))
		}
		return res
	}
	defer lock.Release(ctx)
	j.lock = lock
	if err := r.replan(ctx, j, prog); err != nil {
		res.Err = errors.Join(res.Err, err)
		return res
	}
	if j.plan.long && j.plan.resumable && j.err == nil {
		// Windows another daemon finished since this run planned (it
		// loaded the stream in an earlier round) are done.
		if err := r.skipFinished(ctx, j.tenant, j.stream, &j.plan, func(_, at time.Time) bool { return at.After(j.planned) }); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("read finished windows: %w", err))
			return res
		}
	}
	return r.stream(ctx, stop, runID, j, round, prog)
}

// replan reads the stream's cursor, now that this process holds its lock,
// and plans the stream again if another process moved the cursor since it
// was planned, so the work is not done twice. A list planned as up to date
// is planned again in any case: another process may have failed to load it
// since, without moving the cursor.
func (r *Runner) replan(ctx context.Context, j *job, prog *progress) error {
	if j.err != nil {
		return nil // stream reports the planning error
	}
	cursor, err := r.Store.Cursor(ctx, j.tenant.ID, j.stream.Name)
	if err != nil {
		return fmt.Errorf("read cursor: %w", err)
	}
	if cursor.Equal(j.cursor) && !j.plan.fresh {
		return nil
	}
	p, err := j.planFn(ctx, j.tenant, j.stream, cursor)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	// A sync of a stream another process brought up to about the moment
	// this run planned it (the daemons of a fleet tick alike) would only
	// read its lookback again: it is done. (Its cursor tells, not its run
	// history: a run of a long load shared with others ends ok while
	// others still hold windows of it.)
	if j.mode == "sync" && cursor.After(j.planned.Add(-freshCursor)) {
		p.done, p.skipped = make([]bool, len(p.windows)), len(p.windows)
		for i := range p.done {
			p.done[i] = true
		}
		r.Log.Debug("stream loaded by another process since this run planned it", "tenant", j.tenant.ID, "stream", j.stream.Name)
	}
	prog.replanned(len(j.plan.windows)-j.plan.skipped, len(p.windows)-p.skipped)
	j.cursor, j.plan, j.run = cursor, p, nil
	return nil
}

// freshCursor: a cursor this close to the moment a sync planned the
// stream means another process has just loaded it.
const freshCursor = time.Minute

// stream runs a round of one tenant's stream (all of it, but in a long
// load): the loop every stream shares. Its result carries the earlier
// rounds' figures; its error joins every error met: failed windows, the
// stop, and the run history.
func (r *Runner) stream(ctx context.Context, stop context.CancelCauseFunc, runID int64, j *job, round int, prog *progress) StreamResult {
	t, s, p := j.tenant, j.stream, j.plan
	log := r.Log.With("tenant", t.ID, "stream", s.Name)
	begin := time.Now()
	res := StreamResult{StreamRun: load.StreamRun{RunID: runID, TenantID: t.ID, Stream: s.Name, CursorBefore: j.cursor,
		CursorAfter: j.cursor, WindowsTotal: len(p.windows), WindowsSkip: p.skipped}}
	var errs []error
	if j.sofar != nil { // an earlier round's
		res = *j.sofar
		res.WindowsTotal, res.WindowsSkip = len(p.windows), p.skipped
		if res.Err != nil {
			errs = append(errs, res.Err)
		}
	}
	defer func() { j.sofar, j.cursor = &res, res.CursorAfter }()
	if j.err != nil {
		res.Err = fmt.Errorf("plan: %w", j.err)
		return res
	}
	if err := r.Store.StartStream(ctx, res.StreamRun); err != nil {
		res.Err = fmt.Errorf("record stream: %w", err)
		return res
	}
	j.open = true
	if j.run == nil {
		j.run = &streamRun{job: j, def: kinds.Of(s.Kind), caps: newCapWatch(s, p.split), cp: newCheckpoint(p.windows, p.done, r.Now()), log: log, prog: prog, stop: stop}
	}
	sr := j.run
	todo := p.todo(round, j.missed)
	j.missed = false
	ctx = engage.CountingRequests(ctx, &sr.requests)
	outcomes := r.launch(ctx, sr, todo)
	// Windows that committed before the API's cap was found out (capped.go)
	// are fetched again, in pieces; one failing now fails as a window.
	for again := sr.caps.takeAgain(); len(again) > 0 && ctx.Err() == nil; again = sr.caps.takeAgain() {
		for _, o := range r.launch(ctx, sr, again) {
			res.RowsWritten += o.written
			if o.err != nil {
				res.WindowsOK--
				outcomes = append(outcomes, o)
			}
		}
	}
	for _, o := range outcomes {
		if o.err != nil {
			res.WindowsFailed++
			errs = append(errs, fmt.Errorf("window %s..%s: %w", o.window.From, o.window.To.AddDays(-1), o.err))
			continue
		}
		res.WindowsOK++
		res.RowsReceived += int64(o.received)
		res.RowsWritten += o.written
		res.Warnings = addWarnings(res.Warnings, o.warnings)
	}
	for _, w := range res.Warnings {
		log.Warn("mapped field never seen", "warning", w)
	}
	if n := len(todo) - len(outcomes); n > 0 {
		errs = append(errs, fmt.Errorf("stopped with %d of %d windows not started: %w", n, len(todo), r.stopCause(ctx)))
	}
	if cause := context.Cause(ctx); engage.IsAuth(cause) && len(errs) > 0 && !engage.IsAuth(errors.Join(errs...)) {
		errs = append([]error{cause}, errs...) // the tenant's token was refused by another stream
	}
	if p.advance && p.resumable && !sr.def.APIClock && ctx.Err() == nil { // an APIClock cursor moves only with the API's events
		if err := r.advanceOverOthers(ctx, sr); err != nil {
			errs = append(errs, err)
		}
	}
	res.Err = firstAndCount(errs)
	res.Requests = sr.requests.Load()
	if p.advance {
		res.CursorAfter = laterOf(j.cursor, sr.cp.advanced())
	}
	// Between the rounds of a long load its row stays running: another
	// process must not take the stream for finished (FinishedSince).
	if last := j.rounds == nil || round == j.rounds[len(j.rounds)-1]; last || res.Err != nil || ctx.Err() != nil || r.draining() {
		if err := r.Store.FinishStream(res.StreamRun); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("record stream result: %w", err))
		}
		j.open = false
	}
	log.Info("stream finished", "round", round, "windows", res.WindowsOK, "failed", res.WindowsFailed, "skipped", res.WindowsSkip,
		"rows", res.RowsReceived, "written", res.RowsWritten, "duration", time.Since(begin).Round(time.Millisecond))
	return res
}

// launch runs the windows todo (indexes into the plan), WindowParallel at a
// time, and returns the outcome of each that started. Windows stop
// launching when the run is cancelled or the process drains; a window
// already running keeps ctx and commits or rolls back.
func (r *Runner) launch(ctx context.Context, sr *streamRun, todo []int) []outcome {
	launch, cancelLaunch := context.WithCancel(ctx)
	defer cancelLaunch()
	if r.Drain != nil {
		go func() {
			select {
			case <-r.Drain:
				cancelLaunch()
			case <-launch.Done():
			}
		}()
	}
	var mu sync.Mutex
	var out []outcome
	extract.Each(launch, len(todo), r.WindowParallel, func(_ context.Context, k int) {
		start := time.Now()
		o := r.windowRetried(ctx, sr, todo[k])
		if o.err != nil && ctx.Err() != nil {
			o.err = fmt.Errorf("%w: %w", o.err, context.Cause(ctx))
		}
		if engage.IsAuth(o.err) {
			sr.stop(o.err)
		}
		sr.prog.window(o.err == nil, o.received)
		wlog := sr.log.With("window_start", o.window.From.String(), "window_end", o.window.To.String(), "duration", time.Since(start).Round(time.Millisecond))
		switch {
		case o.err == nil:
			wlog.Debug("window loaded", "rows", o.received, "written", o.written)
		case !engage.IsAuth(o.err):
			wlog.Warn("window failed", "error", o.err)
		}
		mu.Lock()
		out = append(out, o)
		mu.Unlock()
	})
	return out
}

// advanceOverOthers moves the cursor over the windows that are done but
// that no commit here moved it over: windows of a long load that another
// process committed (each process's checkpoint knows only its own
// commits). It commits the cursor alone, under the stream's lock.
func (r *Runner) advanceOverOthers(ctx context.Context, sr *streamRun) error {
	if sr.plan.long {
		if err := r.skipFinished(ctx, sr.tenant, sr.stream, &sr.plan, func(_, at time.Time) bool { return at.After(sr.planned) }); err != nil {
			return fmt.Errorf("read finished windows: %w", err)
		}
	}
	to := sr.cp.reached()
	if to.IsZero() || !to.After(laterOf(sr.cursor, sr.cp.advanced())) {
		return nil
	}
	if _, err := r.Store.CommitWindow(ctx, load.WindowCommit{TenantKey: sr.tenantKey, TenantID: sr.tenant.ID, Stream: sr.stream.Name,
		AdvanceTo: to, Lock: sr.lock}); err != nil {
		return fmt.Errorf("move the cursor over windows another process loaded: %w", err)
	}
	sr.cp.moved(to)
	return nil
}

// take takes a slot of a pool, or fails when ctx ends first.
func take(ctx context.Context, pool chan struct{}) bool {
	select {
	case pool <- struct{}{}:
		return true
	case <-ctx.Done():
		return false
	}
}

func (r *Runner) draining() bool {
	select {
	case <-r.Drain:
		return true
	default:
		return false
	}
}

// stopCause says why windows were left unstarted.
func (r *Runner) stopCause(ctx context.Context) error {
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	if r.draining() {
		return ErrDraining
	}
	return errors.New("unknown cause")
}

// firstAndCount returns every error, printed as the first one and how many
// more there were (each is logged as it happens), so a failed stream stays
// one line on stderr; errors.Is and errors.As see them all.
func firstAndCount(errs []error) error {
	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return streamErrors(errs)
}

type streamErrors []error

func (e streamErrors) Error() string {
	return fmt.Sprintf("%v (and %d more errors; see the log)", e[0], len(e)-1)
}

func (e streamErrors) Unwrap() []error { return e }

func laterOf(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// addWarnings adds the warnings not yet in have, keeping them sorted.
func addWarnings(have, more []string) []string {
	for _, w := range more {
		if !slices.Contains(have, w) {
			have = append(have, w)
		}
	}
	slices.Sort(have)
	return have
}

// windowAttempts bounds how often a window is tried: the client already
// retries each request, and the store each transaction, but a window is many
// requests, and faults compound over them.
const windowAttempts = 3

// windowRetried runs a window again, after a pause, while it fails in a way
// that may pass (see retryable): the API's faults outlasting the client's
// retries, or the warehouse restarting.
func (r *Runner) windowRetried(ctx context.Context, sr *streamRun, i int) outcome {
	for attempt := 1; ; attempt++ {
		o := r.window(ctx, sr, i)
		if o.err == nil || attempt == windowAttempts || !retryable(o.err) || ctx.Err() != nil || r.draining() {
			return o
		}
		pause := time.Duration(attempt) * time.Second
		sr.log.Warn("window failed; trying it again", "window_start", o.window.From.String(), "attempt", attempt, "pause", pause, "error", o.err)
		select {
		case <-ctx.Done():
			return o
		case <-time.After(pause):
		}
	}
}

// retryable reports whether a failed window may pass when fetched again.
func retryable(err error) bool {
	return !engage.IsAuth(err) && (engage.Retryable(err) || load.Transient(err))
}
