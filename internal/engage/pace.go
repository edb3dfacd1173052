package engage

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// pacer is a tenant's pace: the configured requests per second, lowered
// when the API answers 429 (backpressure) and recovering slowly while it
// does not. Many windows share one tenant, and a burst of them meets the
// limit together: the pace is cut at most once a second, so one burst counts
// once.
type pacer struct {
	mu        sync.Mutex
	lim       *rate.Limiter
	ceiling   rate.Limit // the configured pace; rate.Inf when unpaced
	floor     rate.Limit // never slower than this
	lastCut   time.Time
	lastRaise time.Time
}

// unpacedStart is where an unpaced client (meant for a local simulator)
// starts slowing down from on its first 429, and unpacedFloor how slow it
// gets: a simulator's 429s are faults to survive, not a quota to share.
const (
	unpacedStart = 100
	unpacedFloor = 25
)

func newPacer(rps float64, burst int) *pacer {
	if rps <= 0 {
		return &pacer{lim: rate.NewLimiter(rate.Inf, 1), ceiling: rate.Inf, floor: unpacedFloor}
	}
	return &pacer{lim: rate.NewLimiter(rate.Limit(rps), max(burst, 1)), ceiling: rate.Limit(rps),
		floor: max(rate.Limit(rps)/20, 0.2)}
}

// throttled halves the pace, at most once a second, down to the floor.
func (p *pacer) throttled(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.lastCut) < time.Second {
		return
	}
	cur := p.lim.Limit()
	if cur == rate.Inf {
		cur = unpacedStart
		p.lim.SetBurstAt(now, 1)
	}
	p.lim.SetLimitAt(now, max(cur/2, p.floor))
	p.lastCut = now
}

// ok raises a lowered pace by a tenth, at most once a second and only a
// second after the last cut, back up to the configured pace.
func (p *pacer) ok(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	cur := p.lim.Limit()
	if cur >= p.ceiling || now.Sub(p.lastCut) < time.Second || now.Sub(p.lastRaise) < time.Second {
		return
	}
	next := cur*1.1 + 0.1
	if p.ceiling == rate.Inf && next >= 10*unpacedStart {
		next = rate.Inf
	}
	p.lim.SetLimitAt(now, min(next, p.ceiling))
	p.lastRaise = now
}

// current is the pace now, in requests per second (+Inf when unpaced).
func (p *pacer) current() float64 {
	return float64(p.lim.Limit())
}

// Pace is the client's pace now, in requests per second: the configured
// one, or lower while the API answers 429 (+Inf when unpaced).
func (c *Client) Pace() float64 { return c.pace.current() }
