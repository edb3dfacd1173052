package pipeline

import (
	"sync"
	"sync/atomic"
)

// progress counts windows across every stream of a run and hands a copy to
// the report function after each one.
type progress struct {
	mu sync.Mutex
	Progress
	report   func(Progress)
	requests atomic.Int64 // sent by the run (engage.CountingRequests)
}

// estimated sets what the estimate says the run will ask.
func (p *progress) estimated(e Estimate) {
	p.mu.Lock()
	p.Estimated = int64(e.Requests)
	p.mu.Unlock()
}

func (p *progress) window(ok bool, rows int) {
	p.mu.Lock()
	if ok {
		p.WindowsDone++
		p.Rows += int64(rows)
	} else {
		p.WindowsFail++
	}
	p.mu.Unlock()
	p.emit()
}

func (p *progress) emit() {
	if p.report == nil {
		return
	}
	p.mu.Lock()
	snapshot := p.Progress
	p.mu.Unlock()
	snapshot.Requests = p.requests.Load()
	p.report(snapshot)
}

// replanned corrects the total when a stream's plan changed from before to after windows.
func (p *progress) replanned(before, after int) {
	p.mu.Lock()
	p.WindowsTotal += after - before
	p.mu.Unlock()
}

// planned counts a stream's plan into the total.
func (p *progress) planned(pl plan) {
	p.mu.Lock()
	p.WindowsTotal += len(pl.windows) - pl.skipped
	p.Skipped += pl.skipped
	p.mu.Unlock()
}
