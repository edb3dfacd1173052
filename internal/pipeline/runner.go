// Package pipeline runs streams: for each tenant and stream it reads the
// cursor, plans windows on local days, fetches them in parallel within the
// tenant's pacing, turns each answer into rows, and commits each window
// (rows, raw answer and cursor advance) in one transaction, under the
// stream's lock; a window whose answer can be large (an activity log, a
// busy day's messages) commits in chunks, the cursor with the last. The
// loop is written once here; what differs per stream is data: its catalog
// entry (internal/catalog) and its kind's definition (internal/kinds),
// which decodes its answers, whether fetched, pushed as webhooks
// (ApplyWebhook) or read back from schema raw (Rebuild). Every write takes
// the same commit path (load.Store.CommitWindow) under the stream locks a
// sync takes. See docs/architecture.md.
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
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
)

// Tenant is what the runner needs of a configured tenant.
type Tenant struct {
	ID       string
	Timezone string
	Location *time.Location
	Start    civil.Date // first day when a stream has no cursor
	Client   *engage.Client
	Dialect  *catalog.Dialect // how its API spells the contract; nil: CONTRACT.md's
	// RequestsPerSecond is its pace (the estimate's time); 0: unpaced.
	RequestsPerSecond float64
}

func (t Tenant) dialect() catalog.Dialect {
	if t.Dialect == nil {
		return catalog.Contract()
	}
	return *t.Dialect
}

func (t Tenant) api() extract.API {
	return extract.API{Client: t.Client, Dialect: t.Dialect, Location: t.Location}
}

// Config is what a runner is built with.
type Config struct {
	Store      *load.Store
	Log        *slog.Logger
	Now        func() time.Time
	Instance   string             // this process's name in etl.run
	OnProgress func(Progress)     // called after every window; may be nil
	OnStream   func(StreamResult) // called when a stream finishes; may be nil
	OnEstimate func(Estimate)     // called before a long load starts, with what it will ask; may be nil
	// EstimateFirst: a long load first counts what it will ask (estimate.go: a
	// few probes a tenant), keeps it with the run and hands it to
	// OnEstimate. The CLI's sync and backfill do; a daemon does not (every
	// daemon of a fleet would probe every new tenant).
	EstimateFirst    bool
	WindowParallel   int           // windows in flight per stream
	StreamParallel   int           // streams in flight per tenant
	MessageParallel  int           // conversations whose messages are fetched at once, per window
	StoreMessageText bool          // keep chat text (personal data) in fact_message
	WindowTimeout    time.Duration // bounds one window's fetch, throttling and retries included; 0: none
	ChunkBytes       int           // bounds a chunk of a paged window (activity logs); 0: 4 MiB
	// ListRefresh: Sync leaves alone a list (users, teams, customers, roles,
	// rules: a state as a whole) whose last load succeeded less than this
	// long ago by Now. 0 reads every list at every sync.
	ListRefresh time.Duration
	// OpenHorizon: Sync reads again, beyond the lookback, the days up to
	// this long ago that hold open conversations (kinds.Def.Reopens); 0
	// reads only the lookback.
	OpenHorizon time.Duration
	// RecentDays: a long load (a first sync, a backfill) loads these last
	// local days of every stream before older history (rounds.go); 0:
	// DefaultRecentDays.
	RecentDays int
	// Drain, once closed, lets no new window or stream start; windows in
	// flight finish and commit. Nil never drains.
	Drain <-chan struct{}
	// StreamsInFlight bounds the streams this process runs at once, over
	// all tenants; 0: DefaultStreamsInFlight.
	StreamsInFlight int
	// DetailWindowElements: a long load's detail windows hold at most
	// about this many elements, by their report's counts (counts.go); 0:
	// DefaultDetailWindowElements.
	DetailWindowElements int
	// MessageHistoryDays: a first sync fetches the messages of at most
	// these last local days (a request per conversation); 0: as far back
	// as the other streams.
	MessageHistoryDays int
	// Catalog is every configured stream, where reconcile finds the report
	// that counts a detail stream's rows when the run (one schedule group)
	// does not include it; nil: the run's streams.
	Catalog []catalog.Stream
}

// Runner runs streams against one warehouse. Build it with New; its Config
// does not change afterwards.
type Runner struct {
	Config
	slots   chan struct{}         // streams in flight in this process
	history chan struct{}         // of them, streams in a long load's older history (rounds.go)
	limits  *memo[map[string]int] // per tenant: etl.window_limit (shorter.go)
	counts  *memo[dayCounts]      // per tenant, report and range (counts.go)
}

// DefaultStreamsInFlight bounds the streams a process runs at once, over
// all its tenants (a stream's windows hold their answers until they commit).
const DefaultStreamsInFlight = 64

// New builds a runner. At most StreamsInFlight streams run at once, and at
// most half of them load older history, so a tenant's recent days and any
// tenant's incremental runs never wait behind another's year of backlog.
func New(c Config) *Runner {
	n := c.StreamsInFlight
	if n <= 0 {
		n = DefaultStreamsInFlight
	}
	return &Runner{Config: c, slots: make(chan struct{}, n), history: make(chan struct{}, max(1, n/2)),
		limits: newMemo[map[string]int](countsTTL), counts: newMemo[dayCounts](countsTTL)}
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
	Skipped      int // finished by an earlier backfill, or a list loaded recently (ListRefresh)
	Rows         int64
	Started      time.Time
	// Estimated is the requests a long load's estimate says it will send
	// (0: not estimated); Requests, those sent so far.
	Estimated, Requests int64
}

// ETA is how long the rest takes: the requests the estimate says are left
// at the pace the run has kept so far; ok is false without an estimate or
// before any request.
func (p Progress) ETA(now time.Time) (eta time.Duration, ok bool) {
	elapsed := now.Sub(p.Started)
	if p.Estimated <= 0 || p.Requests <= 0 || elapsed <= 0 {
		return 0, false
	}
	left := max(0, p.Estimated-p.Requests)
	return time.Duration(float64(left) / (float64(p.Requests) / elapsed.Seconds()) * float64(time.Second)), true
}

func (r *Runner) run(ctx context.Context, mode string, tenants []Tenant, streams []catalog.Stream, planFn planner) (Result, error) {
	runID, err := r.Store.StartRun(ctx, mode, r.Instance)
	if err != nil {
		return Result{}, fmt.Errorf("record run: %w", err)
	}
	res := Result{RunID: runID, TenantErrors: map[string]error{}}

	// Plan everything first, so progress knows the total. A stream is
	// planned again under its lock if its cursor moved meanwhile.
	prog := &progress{Progress: Progress{Started: time.Now()}, report: r.OnProgress}
	jobs, asked, err := r.planAll(ctx, runID, mode, tenants, streams, planFn)
	if err != nil {
		r.Store.FinishRun(context.WithoutCancel(ctx), runID, false)
		return res, err
	}
	for _, t := range tenants {
		for _, j := range jobs[t.ID] {
			prog.planned(j.plan)
		}
	}
	// A long load (a backfill, a first sync) says first what it will ask
	// and how long that takes at the tenants' pace, and keeps it with the
	// run; progress counts its requests against it.
	if r.EstimateFirst && long(jobs) {
		est := r.estimate(ctx, mode, tenants, jobs, asked)
		r.Log.Info("estimate", "requests", est.Requests, "probes", est.Probes, "seconds", est.Seconds)
		if err := r.Store.SetRunEstimate(ctx, runID, est); err != nil {
			r.Log.Warn("cannot keep the estimate in the run history", "error", err)
		}
		if r.OnEstimate != nil && est.Counted() {
			r.OnEstimate(est)
		}
		prog.estimated(est)
	}
	ctx = engage.CountingRequests(ctx, &prog.requests)
	prog.emit()

	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, t := range tenants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results, tenantErr := r.tenant(ctx, runID, jobs[t.ID], streams, prog)
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
	// A process that died while this run went on left its runs running:
	// they are marked abandoned now, not only when the next run starts
	// (after a fleet's load, that may be the next hourly tick).
	if _, err := r.Store.ReapAbandoned(context.WithoutCancel(ctx)); err != nil {
		r.Log.Warn("cannot mark the runs of dead processes abandoned", "error", err)
	}
	r.analyze(ctx)
	return res, nil
}

// analyze takes the statistics of the tables a run changed a lot (after a
// backfill: all of them), so that the next run's queries, and the BI
// tools', are planned with them (load.Store.AnalyzeChanged says why). A
// failure only costs plans: it is logged. A stopped run leaves it to the
// next.
func (r *Runner) analyze(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	started := time.Now()
	tables, err := r.Store.AnalyzeChanged(ctx)
	if err != nil {
		r.Log.Warn("cannot take the statistics of the tables the run changed", "error", err)
	}
	if len(tables) > 0 {
		r.Log.Info("statistics taken", "tables", len(tables), "duration", time.Since(started).Round(time.Millisecond))
	}
}

// planAll plans every tenant's streams, each from its cursor, and returns
// the requests each tenant's planning asked (the counts of a long load).
// Tenants plan side by side, each at its own pace.
func (r *Runner) planAll(ctx context.Context, runID int64, mode string, tenants []Tenant, streams []catalog.Stream, planFn planner) (map[string][]*job, map[string]int64, error) {
	jobs, asked := map[string][]*job{}, map[string]int64{}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(tenantsPlannedAtOnce)
	for _, t := range tenants {
		g.Go(func() error {
			tenantKey, err := r.Store.EnsureTenant(gctx, t.ID, t.Timezone)
			if err != nil {
				return err
			}
			cursors, err := r.Store.Cursors(gctx, t.ID)
			if err != nil {
				return err
			}
			var n atomic.Int64
			tctx := engage.CountingRequests(gctx, &n)
			var js []*job
			for _, s := range streams {
				j := &job{runID: runID, mode: mode, planned: time.Now(), tenant: t, tenantKey: tenantKey, stream: s, planFn: planFn, cursor: cursors[s.Name]}
				j.plan, j.err = planFn(tctx, t, s, j.cursor)
				js = append(js, j)
			}
			mu.Lock()
			jobs[t.ID], asked[t.ID] = js, n.Load()
			mu.Unlock()
			return nil
		})
	}
	return jobs, asked, g.Wait()
}

// tenantsPlannedAtOnce bounds the tenants planned (and estimated) side by
// side: a fleet's first syncs ask each tenant's counts at its own pace.
const tenantsPlannedAtOnce = 32

// long reports whether any job is a long load.
func long(jobs map[string][]*job) bool {
	for _, js := range jobs {
		for _, j := range js {
			if j.plan.long {
				return true
			}
		}
	}
	return false
}

func (r *Runner) tenant(ctx context.Context, runID int64, jobs []*job, all []catalog.Stream, prog *progress) ([]StreamResult, error) {
	// A refused token cancels the tenant's context with the auth error as cause.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)

	// Rounds run one after the other (rounds.go: a long load's recent days
	// first); within one, phases run in order, so dimensions are loaded
	// before the facts that look them up, and streams of a phase run in
	// parallel.
	results := make([]StreamResult, len(jobs))
	for _, j := range jobs {
		j.rounds = j.roundsOf()
	}
	for _, round := range roundsOfAll(jobs) {
		var in []int // the jobs of this round
		for i, j := range jobs {
			if slices.Contains(j.rounds, round) {
				in = append(in, i)
			}
		}
		r.runRound(ctx, stop, runID, jobs, in, round, results, prog)
	}
	for i, j := range jobs {
		if j.open { // a later round did not run (shutting down, or another process took it)
			if err := r.Store.FinishStream(results[i].StreamRun); err != nil {
				results[i].Err = errors.Join(results[i].Err, fmt.Errorf("record stream result: %w", err))
			}
			j.open = false
		}
		if r.OnStream != nil && !results[i].Locked {
			r.OnStream(results[i])
		}
	}
	if cause := context.Cause(ctx); engage.IsAuth(cause) {
		return results, cause
	}
	if r.Catalog != nil {
		all = r.Catalog
	}
	if ctx.Err() == nil {
		r.reconcile(ctx, jobs, results, all)
	}
	if len(jobs) > 0 && jobs[0].tenant.Client != nil {
		if skew, ok := jobs[0].tenant.Client.ClockSkew(); ok {
			clock := load.APIClock{TenantID: jobs[0].tenant.ID, Skew: skew, ObservedAt: time.Now()}
			if err := r.Store.SaveAPIClock(context.WithoutCancel(ctx), clock); err != nil {
				r.Log.Warn("cannot keep the API's clock skew", "tenant", clock.TenantID, "error", err)
			}
		}
	}
	return results, nil
}

// runRound runs one round of a tenant's jobs (those of indexes in), phase
// by phase, and keeps each job's result in results: the latest round's,
// which carries the earlier ones' figures, unless another process held
// the stream this time.
func (r *Runner) runRound(ctx context.Context, stop context.CancelCauseFunc, runID int64, jobs []*job, in []int, round int, results []StreamResult, prog *progress) {
	streams := make([]catalog.Stream, len(in))
	for k, i := range in {
		streams[k] = jobs[i].stream
	}
	var mu sync.Mutex
	lockedNow := make([]bool, len(jobs)) // held by another process this round
	for _, phase := range phases(streams) {
		// A stream starts after the streams it names in After, when they
		// are in this round; phases puts it after them, so it never holds a
		// slot that one of them waits for.
		done := map[string]chan struct{}{}
		for _, k := range phase {
			done[streams[k].Name] = make(chan struct{})
		}
		var g errgroup.Group
		g.SetLimit(max(r.StreamParallel, 1))
		for _, k := range phase {
			g.Go(func() error {
				defer close(done[streams[k].Name])
				i := in[k]
				for _, name := range streams[k].After {
					if ch, ok := done[name]; ok {
						select {
						case <-ch:
						case <-ctx.Done():
						}
					}
				}
				// One that another process was loading is waited for,
				// as that process loads it (a fleet of daemons).
				for _, name := range streams[k].After {
					a := slices.IndexFunc(in, func(x int) bool { return jobs[x].stream.Name == name })
					mu.Lock()
					locked := a >= 0 && lockedNow[in[a]]
					mu.Unlock()
					if locked {
						if err := r.Store.WaitStreamUnlocked(ctx, jobs[i].tenant.ID, name); err != nil {
							results[i] = StreamResult{StreamRun: load.StreamRun{RunID: runID, TenantID: jobs[i].tenant.ID, Stream: jobs[i].stream.Name, Err: err}}
							return nil
						}
					}
				}
				res := r.lockedStream(ctx, stop, runID, jobs[i], round, prog)
				mu.Lock()
				lockedNow[i] = res.Locked
				mu.Unlock()
				jobs[i].missed = jobs[i].missed || res.Locked
				switch {
				case !res.Locked || jobs[i].sofar == nil:
					results[i] = res
				default: // earlier rounds ran here, the rest is another process's
					results[i] = *jobs[i].sofar
					results[i].Locked = true
				}
				return nil
			})
		}
		_ = g.Wait()
	}
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
		phase := byPhase[p]
		// At most StreamParallel streams run at once: the long ones start
		// first, and the many short ones fill the time beside them, rather
		// than a long one starting last and running alone at the end. A
		// stream that waits for others (After) starts after all that do
		// not, and after those it waits for.
		depth := afterDepths(streams, phase)
		sort.SliceStable(phase, func(a, b int) bool {
			sa, sb := streams[phase[a]], streams[phase[b]]
			if depth[sa.Name] != depth[sb.Name] {
				return depth[sa.Name] < depth[sb.Name]
			}
			return kinds.Of(sa.Kind).Cost > kinds.Of(sb.Kind).Cost
		})
		out = append(out, phase)
	}
	return out
}

// afterDepths gives each stream of a phase how many streams of the phase
// it waits for one after another (After): 0 for one that waits for none.
func afterDepths(streams []catalog.Stream, phase []int) map[string]int {
	byName := map[string]catalog.Stream{}
	for _, i := range phase {
		byName[streams[i].Name] = streams[i]
	}
	depth := map[string]int{}
	var of func(name string, seen int) int
	of = func(name string, seen int) int {
		if d, ok := depth[name]; ok || seen > len(phase) { // a cycle: catalog tests refuse it
			return d
		}
		d := 0
		for _, after := range byName[name].After {
			if _, ok := byName[after]; ok {
				d = max(d, of(after, seen+1)+1)
			}
		}
		depth[name] = d
		return d
	}
	for name := range byName {
		of(name, 0)
	}
	return depth
}
