package pipeline

import (
	"sync"
	"time"

	"github.com/engage-etl/engage-etl/internal/extract"
)

// checkpoint tracks which windows of a stream have committed, so the cursor
// only moves over a contiguous run of finished windows even though windows
// finish in any order.
type checkpoint struct {
	mu      sync.Mutex
	windows []extract.Window
	done    []bool
	next    int // first window not committed yet
	now     time.Time
	written time.Time // the latest watermark a commit wrote
}

// newCheckpoint starts with the windows already done (skipped by a
// resumed backfill) counted as committed.
func newCheckpoint(ws []extract.Window, done []bool, now time.Time) *checkpoint {
	if done == nil {
		done = make([]bool, len(ws))
	}
	c := &checkpoint{windows: ws, done: done, now: now}
	for c.next < len(ws) && done[c.next] {
		c.next++
	}
	return c
}

// commit runs fn, the window's transaction, with the watermark it may set:
// the end of the contiguous run this window completes (never past now), or
// zero when an earlier window is still missing. fn returns the watermark it
// wrote (an activity log's is the API's newest event). Commits of one
// stream are serialised, so the watermark fn writes is always the right one.
func (c *checkpoint) commit(i int, fn func(advanceTo time.Time) (time.Time, error)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skipDone()
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
	wrote, err := fn(advance)
	if err != nil {
		return err
	}
	c.done[i] = true
	c.next = next
	if wrote.After(c.written) {
		c.written = wrote
	}
	return nil
}

// skipDone moves next over windows marked done meanwhile (by another
// process, see Runner.catchUp). Called with mu held.
func (c *checkpoint) skipDone() {
	for c.next < len(c.windows) && c.done[c.next] {
		c.next++
	}
}

// reached is the end of the contiguous run of done windows from the
// first (never past now), zero when the first is not done.
func (c *checkpoint) reached() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skipDone()
	if c.next == 0 {
		return time.Time{}
	}
	end := c.windows[c.next-1].End
	if end.After(c.now) {
		end = c.now
	}
	return end
}

// moved records a watermark written outside commit.
func (c *checkpoint) moved(to time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if to.After(c.written) {
		c.written = to
	}
}

// advanced is the latest watermark a commit wrote, zero when none did. The
// cursor itself only moves forward, so the stream's cursor is the later of
// this and the one it started from.
func (c *checkpoint) advanced() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.written
}
