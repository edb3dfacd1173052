package pipeline

import (
	"errors"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/extract"
)

func TestCheckpointAdvancesOnlyOverContiguousWindows(t *testing.T) {
	ws := extract.Plan(civil.Date{Year: 2026, Month: 1, Day: 1}, civil.Date{Year: 2026, Month: 1, Day: 5}, 1, time.UTC)
	now := ws[3].Start.Add(6 * time.Hour) // inside the last window
	cp := newCheckpoint(ws, make([]bool, len(ws)), now)
	var got []time.Time
	commit := func(i int, fail bool) {
		err := cp.commit(i, func(advance time.Time) (time.Time, error) {
			if fail {
				return time.Time{}, errors.New("rollback")
			}
			got = append(got, advance)
			return advance, nil
		})
		if (err != nil) != fail {
			t.Fatalf("window %d: err = %v", i, err)
		}
	}
	commit(1, false) // window 0 missing: no advance
	commit(0, true)  // window 0 rolls back: still no advance, and not done
	commit(0, false) // now 0 and 1 are contiguous
	commit(3, false) // window 2 missing
	commit(2, false) // 2 and 3 done: advance to the end of 3, capped at now
	want := []time.Time{{}, ws[1].End, {}, now}
	if len(got) != len(want) {
		t.Fatalf("got %d commits, want %d", len(got), len(want))
	}
	for i := range want {
		if !got[i].Equal(want[i]) {
			t.Errorf("commit %d advanced to %v, want %v", i, got[i], want[i])
		}
	}
}

func TestCheckpointCountsSkippedWindowsAsDone(t *testing.T) {
	ws := extract.Plan(civil.Date{Year: 2026, Month: 1, Day: 1}, civil.Date{Year: 2026, Month: 1, Day: 5}, 1, time.UTC)
	// A resumed backfill finished windows 0 and 2 before it was killed.
	cp := newCheckpoint(ws, []bool{true, false, true, false}, ws[3].End.Add(time.Hour))
	var got []time.Time
	for _, i := range []int{1, 3} {
		cp.commit(i, func(advance time.Time) (time.Time, error) { got = append(got, advance); return advance, nil })
	}
	if !got[0].Equal(ws[2].End) || !got[1].Equal(ws[3].End) {
		t.Errorf("advances = %v, want the ends of windows 2 and 3", got)
	}
}
