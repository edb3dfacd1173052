package pipeline

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
)

// The API gives several things twice: a detail stream's rows and a bucketed
// report that counts them (kinds.Def.Reconciles). After a tenant's streams
// ran, reconcile compares the two for the days both have loaded and have
// ended, from what the warehouse holds (no request), keeps each day's check
// in etl.reconciliation, and fails the detail stream's run for a day that
// still disagrees once its lookback has passed: a green run never hides
// rows the API itself counts.

// ReconcileError is a day on which a detail stream and its report disagree
// after the detail stream's lookback.
type ReconcileError struct {
	Pair, DetailStream, ReportStream string
	Check                            load.DayCheck
}

func (e *ReconcileError) Error() string {
	c := e.Check
	group := ""
	if c.WorstGroup != "" {
		group = fmt.Sprintf(", most in group %s (%g vs %g)", c.WorstGroup, c.DetailOf, c.ReportOf)
	}
	cause := fmt.Sprintf("the detail answers miss rows the report counts: an API that cuts them at a cap (set streams.%s.max_elements), or a window that failed", e.DetailStream)
	if c.Detail > c.Report {
		cause = fmt.Sprintf("the detail rows count more than the report: the report's days are in another zone (the tenant's timezone), or %s counts otherwise (its metric or group_by)", e.ReportStream)
	}
	return fmt.Sprintf("%s: on %s the warehouse holds %g where %s says %g%s; likely cause: %s",
		e.Pair, c.Day, c.Detail, e.ReportStream, c.Report, group, cause)
}

// reconcile checks a tenant's pairs of which this run loaded one side (a
// daemon loads details and reports on different schedules) against the
// other, and adds a ReconcileError to the result of the stream whose run
// found a day that disagrees after the detail stream's lookback.
func (r *Runner) reconcile(ctx context.Context, jobs []*job, results []StreamResult, all []catalog.Stream) {
	// Each pair once: found by the detail stream's run when it ran (its
	// result fails), else by the report's.
	by := map[string]int{} // pair and detail stream -> the job that checks it
	var order []check
	for i, j := range jobs {
		if results[i].Err != nil || results[i].Locked || len(j.plan.windows) == 0 {
			continue // a failed stream is loud already; a locked one is another process's
		}
		for _, c := range pairsOf(j.stream, all) {
			key := c.pair.Name + "\x00" + c.detail.Name
			k, seen := by[key]
			switch {
			case !seen:
				order = append(order, c)
				by[key] = i
			case jobs[k].stream.Name != c.detail.Name && j.stream.Name == c.detail.Name:
				by[key] = i
			}
		}
	}
	for _, c := range order {
		i := by[c.pair.Name+"\x00"+c.detail.Name]
		off, err := r.reconcilePair(ctx, jobs[i], c)
		for _, e := range off {
			err = errors.Join(err, e)
		}
		if err == nil {
			continue
		}
		results[i].Err = errors.Join(results[i].Err, err)
		if ferr := r.Store.FinishStream(results[i].StreamRun); ferr != nil {
			results[i].Err = errors.Join(results[i].Err, ferr)
		}
	}
}

// check is a pair with its two configured streams.
type check struct {
	pair           kinds.Reconciliation
	detail, report catalog.Stream
	needs          []catalog.Stream // the configured streams of pair.Needs
}

// pairsOf returns the pairs s is one side of, with the configured stream
// of the other side; a pair whose other side is not configured is left out.
func pairsOf(s catalog.Stream, all []catalog.Stream) []check {
	var out []check
	for _, d := range all {
		if d.Name != s.Name && s.Kind != catalog.KindReport {
			continue
		}
		for _, pair := range kinds.Of(d.Kind).Reconciles {
			if pair.Stream != "" && pair.Stream != d.Name {
				continue
			}
			report, ok := reportStream(all, pair)
			if ok && (d.Name == s.Name || report.Name == s.Name) {
				c := check{pair: pair, detail: d, report: report}
				for _, n := range all {
					if slices.Contains(pair.Needs, n.Kind) {
						c.needs = append(c.needs, n)
					}
				}
				out = append(out, c)
			}
		}
	}
	return out
}

// reportStream is the configured stream of a pair's report.
func reportStream(all []catalog.Stream, pair kinds.Reconciliation) (catalog.Stream, bool) {
	for _, s := range all {
		if s.Kind == catalog.KindReport && s.Report == pair.Report && s.Metric == pair.Metric && s.GroupBy == pair.GroupBy {
			return s, true
		}
	}
	return catalog.Stream{}, false
}

// reconcilePair checks one pair over the days of j's plan (j is either
// side), keeps each day's check, and returns the days that disagree after
// the lookback.
func (r *Runner) reconcilePair(ctx context.Context, j *job, c check) ([]*ReconcileError, error) {
	pair, detail, report := c.pair, c.detail, c.report
	loc, now := j.tenant.Location, r.Now()
	ws := j.plan.windows
	from, to := ws[0].From, ws[len(ws)-1].To.AddDays(-1)
	start, end := from.AddDays(-1).Start(loc), to.AddDays(1).Start(loc)
	detailCovers, err := r.Store.Covered(ctx, j.tenant.ID, detail.Name, start, end)
	if err != nil {
		return nil, err
	}
	reportCovers, err := r.Store.Covered(ctx, j.tenant.ID, report.Name, start, end)
	if err != nil {
		return nil, err
	}
	var needCovers [][][2]time.Time
	for _, n := range c.needs {
		covers, err := r.Store.Covered(ctx, j.tenant.ID, n.Name, start, end)
		if err != nil {
			return nil, err
		}
		needCovers = append(needCovers, covers)
	}
	checks, err := r.Store.Reconcile(ctx, load.ReconcileQuery{TenantKey: j.tenantKey, From: from, To: to, Detail: pair.Detail,
		Report: pair.Report, Metric: pair.Metric, GroupBy: pair.GroupBy, Tolerance: pair.Tolerance})
	if err != nil {
		return nil, err
	}
	var kept []load.Reconciled
	var off []*ReconcileError
	for _, c := range checks {
		dayStart, dayEnd := c.Day.Start(loc), c.Day.AddDays(1).Start(loc)
		loadedFrom := dayStart
		if pair.Spans {
			loadedFrom = c.Day.AddDays(-1).Start(loc)
		}
		if dayEnd.After(now) || !covers(detailCovers, loadedFrom, dayEnd) || !covers(reportCovers, dayStart, dayEnd) ||
			slices.ContainsFunc(needCovers, func(nc [][2]time.Time) bool { return !covers(nc, dayStart, dayEnd) }) {
			continue // not over yet, or one side (or what it reads) is not loaded
		}
		status := load.ReconcileOK
		switch {
		case c.GroupsOff == 0:
		case dayEnd.Add(detail.Lookback).After(now):
			status = load.ReconcilePending // read again by the next syncs
		default:
			status = load.ReconcileMismatch
			off = append(off, &ReconcileError{Pair: pair.Name, DetailStream: detail.Name, ReportStream: report.Name, Check: c})
		}
		kept = append(kept, load.Reconciled{TenantID: j.tenant.ID, Pair: pair.Name, DetailStream: detail.Name,
			ReportStream: report.Name, Check: c, Status: status})
	}
	return off, r.Store.SaveReconciled(ctx, kept)
}

// Reconcile checks every pair of the configured streams (Catalog, else
// streams) for the tenants' local days [from, to), from what the warehouse
// holds, keeps each day's check, and returns the days that disagree after
// the lookback (verify).
func (r *Runner) Reconcile(ctx context.Context, tenants []Tenant, streams []catalog.Stream, from, to civil.Date) ([]*ReconcileError, error) {
	all := streams
	if r.Catalog != nil {
		all = r.Catalog
	}
	var off []*ReconcileError
	for _, t := range tenants {
		key, err := r.Store.EnsureTenant(ctx, t.ID, t.Timezone)
		if err != nil {
			return off, err
		}
		j := &job{tenant: t, tenantKey: key, plan: plan{windows: extract.Plan(from, to, 1, t.Location)}}
		if len(j.plan.windows) == 0 {
			continue
		}
		for _, d := range streams {
			for _, c := range pairsOf(d, all) {
				if c.detail.Name != d.Name {
					continue
				}
				got, err := r.reconcilePair(ctx, j, c)
				if err != nil {
					return off, err
				}
				off = append(off, got...)
			}
		}
	}
	return off, nil
}

// covers reports whether the merged ranges cover [start, end).
func covers(ranges [][2]time.Time, start, end time.Time) bool {
	for _, rg := range ranges {
		if !rg[0].After(start) && !rg[1].Before(end) {
			return true
		}
	}
	return false
}
