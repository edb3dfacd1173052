package main

import (
	"fmt"
	"sort"
	"time"
)

// The timed steps (the large backfill, the psql \copy reload, the rebuild,
// the incremental sync) run -runs times: the report gives the median run and
// the range of the runs, and judges the targets on the medians, so that one
// run slowed down by a neighbour on a shared machine does not decide them.

// medianIndex is the index in runs of the median run by wall time: the
// middle one of an odd count; of an even count the slower of the two middle
// ones, which errs on the side of a MISS.
func medianIndex[T any](runs []T, wall func(T) time.Duration) int {
	if len(runs) == 0 {
		return -1
	}
	idx := make([]int, len(runs))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(i, j int) bool { return wall(runs[idx[i]]) < wall(runs[idx[j]]) })
	return idx[len(idx)/2]
}

// spread is the median, fastest and slowest of some runs' times.
type spread struct {
	med, lo, hi time.Duration
	n           int
}

func spreadOf[T any](runs []T, wall func(T) time.Duration) spread {
	if len(runs) == 0 {
		return spread{}
	}
	s := spread{med: wall(runs[medianIndex(runs, wall)]), lo: wall(runs[0]), hi: wall(runs[0]), n: len(runs)}
	for _, r := range runs[1:] {
		s.lo, s.hi = min(s.lo, wall(r)), max(s.hi, wall(r))
	}
	return s
}

// cell is the median and, for more than one run, the range: "12.34 s
// (11.90–13.10 s)".
func (s spread) cell() string {
	if s.n <= 1 {
		return secs(s.med)
	}
	return fmt.Sprintf("%s (%.2f–%.2f s)", secs(s.med), s.lo.Seconds(), s.hi.Seconds())
}

// rateCell is rows/s at the median and, for more than one run, at the
// slowest and the fastest: "34355 (33900–35010)".
func (s spread) rateCell(rows int64) string {
	if s.n <= 1 {
		return fmt.Sprintf("%.0f", rate(rows, s.med))
	}
	return fmt.Sprintf("%.0f (%.0f–%.0f)", rate(rows, s.med), rate(rows, s.hi), rate(rows, s.lo))
}

func backfillWall(r backfillRun) time.Duration  { return r.m.wall }
func syncWall(r syncResult) time.Duration       { return r.m.wall }
func rebuildWall(r rebuildResult) time.Duration { return r.m.wall }
func itself(d time.Duration) time.Duration      { return d }
