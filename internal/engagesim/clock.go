package engagesim

import "time"

// clock is the simulated time: it starts at start and advances rate simulated
// seconds per real second (0: it stands still, so answers never change).
type clock struct {
	start time.Time
	real  time.Time
	rate  float64
}

func newClock(start time.Time, rate float64) *clock {
	return &clock{start: start, real: time.Now(), rate: rate}
}

func (c *clock) now() time.Time {
	if c.rate == 0 {
		return c.start
	}
	elapsed := time.Duration(float64(time.Since(c.real)) * c.rate)
	return c.start.Add(elapsed).Truncate(time.Millisecond)
}
