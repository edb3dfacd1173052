package engagesim

import (
	"sync"
	"time"
)

// clock is the simulated time: it starts at start and advances rate simulated
// seconds per real second (0: it stands still, so answers never change).
type clock struct {
	mu     sync.Mutex
	start  time.Time
	real   time.Time
	rate   float64
	offset time.Duration // added by advance
}

func newClock(start time.Time, rate float64) *clock {
	return &clock{start: start, real: time.Now(), rate: rate}
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.start.Add(c.offset)
	if c.rate == 0 {
		return t
	}
	elapsed := time.Duration(float64(time.Since(c.real)) * c.rate)
	return t.Add(elapsed).Truncate(time.Millisecond)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}
