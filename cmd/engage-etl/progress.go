package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// progressReporter shows a run's progress: on a terminal a bar redrawn in
// place, otherwise a plain line every few seconds (for logs and CI).
type progressReporter struct {
	w        io.Writer
	terminal bool
	every    time.Duration

	mu    sync.Mutex
	last  time.Time
	seen  pipeline.Progress
	drawn pipeline.Progress // what the display shows
}

func newProgressReporter(w io.Writer, terminal bool) *progressReporter {
	every := 5 * time.Second
	if terminal {
		every = 100 * time.Millisecond
	}
	return &progressReporter{w: w, terminal: terminal, every: every}
}

// report is a pipeline.Runner.OnProgress.
func (p *progressReporter) report(pr pipeline.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen = pr
	if time.Since(p.last) < p.every && pr.WindowsDone+pr.WindowsFail < pr.WindowsTotal {
		return
	}
	p.last = time.Now()
	p.draw()
}

// done ends the display with the final figures.
func (p *progressReporter) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seen != p.drawn {
		p.draw()
	}
	if p.terminal {
		fmt.Fprintln(p.w)
	}
}

func (p *progressReporter) draw() {
	p.drawn = p.seen
	line := progressLine(p.seen, time.Since(p.seen.Started))
	if p.terminal {
		fmt.Fprintf(p.w, "\r%s\033[K", line)
		return
	}
	fmt.Fprintln(p.w, line)
}

// progressLine renders "[=====>    ] 45/120 windows  3210 rows  12.3 windows/s  ETA 6s".
func progressLine(pr pipeline.Progress, elapsed time.Duration) string {
	finished := pr.WindowsDone + pr.WindowsFail
	const width = 24
	filled := 0
	if pr.WindowsTotal > 0 {
		filled = width * finished / pr.WindowsTotal
	}
	bar := strings.Repeat("=", filled)
	if filled < width {
		bar += ">" + strings.Repeat(" ", width-filled-1)
	}
	rate := 0.0
	if elapsed > 0 {
		rate = float64(finished) / elapsed.Seconds()
	}
	eta := "?"
	if d, ok := pr.ETA(pr.Started.Add(elapsed)); ok { // requests left by the estimate, at the pace so far
		eta = d.Round(time.Second).String()
	} else if rate > 0 {
		eta = time.Duration(float64(pr.WindowsTotal-finished) / rate * float64(time.Second)).Round(time.Second).String()
	}
	s := fmt.Sprintf("[%s] %d/%d windows  %d rows  %.1f windows/s  ETA %s", bar, finished, pr.WindowsTotal, pr.Rows, rate, eta)
	if pr.Estimated > 0 {
		s += fmt.Sprintf("  %d/%d requests", pr.Requests, pr.Estimated)
	}
	if pr.WindowsFail > 0 {
		s += fmt.Sprintf("  %d failed", pr.WindowsFail)
	}
	if pr.Skipped > 0 {
		s += fmt.Sprintf("  (%d done before, skipped)", pr.Skipped)
	}
	return s
}
