package pipeline

import (
	"slices"
	"time"

	"github.com/engage-etl/engage-etl/internal/kinds"
)

// The rounds of a long load. A first sync, a catch-up after weeks away or
// a backfill can take hours at the API's pace; its tenant's windows run in
// rounds, one after the other, so what a dashboard shows first lands
// first: the recent days' reports, lists and figures of the moment, then
// the recent days' detail rows, then older history, newest first, and the
// per-conversation answers (messages, a request each) last. Within a
// round, streams run as always (phases, long ones first). An incremental
// sync has one round, roundRecentSummary, with every window in it.
const (
	roundRecentSummary = iota
	roundRecentDetail
	roundHistory
	roundLast
)

// DefaultRecentDays is how many local days a long load counts as recent.
const DefaultRecentDays = 7

// inRounds cuts a long load's windows into rounds (see roundRecentSummary)
// and has them run newest first: days from recentFrom on are recent. It
// also keeps which windows are done in p.done, which the checkpoint marks
// as they commit, so a later round knows them.
func (p *plan) inRounds(def kinds.Def, recentFrom time.Time) {
	p.long = true
	p.rounds = make([]int, len(p.windows))
	if p.done == nil {
		p.done = make([]bool, len(p.windows))
	}
	for i, w := range p.windows {
		switch {
		case def.FirstLoad == kinds.FirstLast:
			p.rounds[i] = roundLast
		case !w.End.After(recentFrom):
			p.rounds[i] = roundHistory
		case def.FirstLoad == kinds.FirstDetail:
			p.rounds[i] = roundRecentDetail
		default:
			p.rounds[i] = roundRecentSummary
		}
	}
}

// round is the round of window i.
func (p plan) round(i int) int {
	if p.rounds == nil {
		return roundRecentSummary
	}
	return p.rounds[i]
}

// todo lists the windows of a round not done yet, newest first in a long
// load (a checkpoint still moves the cursor only over a contiguous run,
// once the oldest has committed).
//
// With catchUp, the windows of earlier rounds not done yet come too: the
// stream was another process's in an earlier round, which may have left
// some undone (it died, or stopped).
func (p plan) todo(round int, catchUp bool) []int {
	var out []int
	for i := range p.windows {
		if (p.done == nil || !p.done[i]) && (p.round(i) == round || catchUp && p.round(i) < round) {
			out = append(out, i)
		}
	}
	if p.long {
		slices.SortStableFunc(out, func(a, b int) int { return p.windows[b].Start.Compare(p.windows[a].Start) })
	}
	return out
}

// roundsOf lists the rounds a job takes part in: those of its windows not
// done yet, or the first round when none is left (its run is still
// recorded, with its windows skipped, or its planning error).
func (j *job) roundsOf() []int {
	var out []int
	for i := range j.plan.windows {
		if j.plan.done == nil || !j.plan.done[i] {
			if r := j.plan.round(i); !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 {
		out = []int{roundRecentSummary}
	}
	slices.Sort(out)
	return out
}

// roundsOfAll lists the rounds any of jobs takes part in, in order.
func roundsOfAll(jobs []*job) []int {
	var out []int
	for _, j := range jobs {
		for _, r := range j.roundsOf() {
			if !slices.Contains(out, r) {
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out
}
