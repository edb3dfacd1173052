package pipeline

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
)

// An unpaged detail answer (kinds.Def.Capped) is a bare array, and real
// report APIs often cut such an array at a limit of their own without
// saying so: a green run would hide the rest. fetchWhole takes an answer
// for cut when it is as long as the stream's max_elements, or, with none
// configured, when it is as long as the longest answer of the stream so far
// and another answer was as long (two answers stopping at the same length).
// A window taken for cut is fetched again in halves of time
// (extract.Halves), each half again while it is at the cap, down to
// split_down_to; the pieces' answers are kept one each and their rows
// commit as the window's, in one transaction. A piece that short still at
// the cap fails the window, naming the key.

// autoCapMin is the shortest answer taken for cut without max_elements:
// short answers of the same length are common and cost little to split,
// but a cap that low is not.
const autoCapMin = 20

// capWatch follows a stream's answer lengths within a run.
type capWatch struct {
	mu         sync.Mutex
	configured int           // streams.<name>.max_elements; 0: not known
	found      int           // the cap two answers showed, when not configured
	longest    int           // the longest answer so far
	byLength   map[int][]int // windows whose answers had that length
	again      []int         // windows to fetch again in pieces (see confirm)
	split      map[int]bool  // windows fetched again: split whatever their length
}

// newCapWatch starts a stream's run with the windows split names fetched
// in pieces whatever their answer (their day fell short of its report).
func newCapWatch(s catalog.Stream, split []int) *capWatch {
	c := &capWatch{configured: s.MaxElements, byLength: map[int][]int{}, split: map[int]bool{}}
	for _, i := range split {
		c.split[i] = true
	}
	return c
}

// limit is the length at which an answer is taken for cut; 0: none known.
func (c *capWatch) limit() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.configured > 0 {
		return c.configured
	}
	return c.found
}

// suspect records that window i was answered n elements and reports
// whether that answer may have been cut.
func (c *capWatch) suspect(i, n int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.configured > 0 {
		return n >= c.configured
	}
	if c.found > 0 && n >= c.found {
		return true
	}
	if !slices.Contains(c.byLength[n], i) {
		c.byLength[n] = append(c.byLength[n], i)
	}
	c.longest = max(c.longest, n)
	return n >= autoCapMin && n == c.longest && len(c.byLength[n]) > 1
}

// confirm records that an answer of n elements to window i was cut (its
// pieces held more). The other windows answered as many committed before
// the cap was known: takeAgain hands them out to be fetched again.
func (c *capWatch) confirm(i, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.configured > 0 || (c.found > 0 && c.found <= n) {
		return
	}
	c.found = n
	for length, ws := range c.byLength {
		for _, w := range ws {
			if length >= n && w != i && !c.split[w] {
				c.again = append(c.again, w)
				c.split[w] = true
			}
		}
	}
	slices.Sort(c.again)
}

// takeAgain returns the windows to fetch again in pieces, once each.
func (c *capWatch) takeAgain() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	again := c.again
	c.again = nil
	return again
}

// splitAgain reports whether window i is fetched again to be split.
func (c *capWatch) splitAgain(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.split[i]
}

// CappedError is a window whose answer stayed at the API's cap in a piece
// as short as the stream lets it be split.
type CappedError struct {
	Stream   string
	Piece    extract.Window
	Elements int
	Found    bool // the cap was found out from the answers, not configured
	WholeDay bool // the API's date filter takes days only
}

func (e *CappedError) Error() string {
	how := fmt.Sprintf("streams.%s.max_elements", e.Stream)
	if e.Found {
		how = "two answers that stopped at the same length (set streams." + e.Stream + ".max_elements to say it)"
	}
	short := fmt.Sprintf("a piece of %s (streams.%s.split_down_to)", e.Piece.End.Sub(e.Piece.Start).Round(time.Minute), e.Stream)
	fix := fmt.Sprintf("lower streams.%s.split_down_to", e.Stream)
	if e.WholeDay {
		short, fix = "one local day, the shortest the API's date filter asks for (api.date_filter)", "ask the vendor for a higher limit"
	}
	return fmt.Sprintf("the answer for %s..%s holds %d elements, the API's cap by %s, even in %s: elements are missing; %s",
		e.Piece.Start.Format(time.RFC3339), e.Piece.End.Format(time.RFC3339), e.Elements, how, short, fix)
}

// pieceFetch fetches one piece of a window: an answer and what it decoded to.
type pieceFetch func(ctx context.Context, w extract.Window) (fetched, error)

// fetchWhole fetches window i of a Capped kind whole: once, and in pieces
// when the answer may have been cut (or when it is fetched again because it
// committed before the cap was found out).
func (r *Runner) fetchWhole(ctx context.Context, sr *streamRun, i int) (fetched, error) {
	w := sr.plan.windows[i]
	// A piece the API refuses as too long is asked in halves (shorter.go).
	whole, pieces, err := r.uncut(ctx, sr, i, w, func(ctx context.Context, p extract.Window) (fetched, error) {
		return r.fetchShorter(ctx, sr, p, func(ctx context.Context, q extract.Window) (fetched, error) {
			return r.fetchAnswer(ctx, sr, q)
		}, func(pieces []fetched) (fetched, error) { return r.joinPieces(sr, p, pieces) })
	})
	if err != nil || pieces == nil {
		return whole, err
	}
	return r.joinPieces(sr, w, pieces)
}

// uncut fetches window i with fetch, and again in pieces when its answer
// may have been cut: whole is the one answer, or pieces the answers of the
// pieces (nil when the window was not cut).
func (r *Runner) uncut(ctx context.Context, sr *streamRun, i int, w extract.Window, fetch pieceFetch) (whole fetched, pieces []fetched, err error) {
	whole, err = fetch(ctx, w)
	if err != nil {
		return whole, nil, err
	}
	suspect := sr.caps.suspect(i, whole.Elements)
	// An answer holding fewer elements than its report counted for the
	// window may be cut at a cap that no two answers showed (a long
	// load's windows are sized by those counts, so they are few). It says
	// nothing of the cap's length.
	short := false
	if expected := sr.plan.expected(w); expected > whole.Elements {
		sr.log.Info("the answer holds fewer elements than the report counts: fetched in pieces", "window_start", w.From.String(),
			"elements", whole.Elements, "counted", expected)
		short = true
	}
	if !suspect && !short && !sr.caps.splitAgain(i) {
		return whole, nil, nil
	}
	// Until the cap is known for sure, a piece as long as the whole answer
	// is taken for cut as well.
	pieces, err = r.fetchPieces(ctx, sr, w, whole.Elements, cmp.Or(sr.caps.limit(), whole.Elements), true, fetch)
	if err != nil {
		return fetched{raws: whole.raws}, nil, err
	}
	if pieces == nil { // cannot be split, and the cap is only a guess
		sr.log.Warn("the answer may be cut at the API's cap, and its window cannot be split", "window_start", w.From.String(),
			"elements", whole.Elements, "key", "streams."+sr.stream.Name+".max_elements")
		return whole, nil, nil
	}
	total := 0
	for _, p := range pieces {
		total += p.Elements
	}
	switch {
	case total > whole.Elements:
		if suspect { // a window split for its day's shortfall says nothing of the cap's length
			sr.caps.confirm(i, whole.Elements)
		}
		sr.log.Info("the answer was cut at the API's cap: fetched in pieces", "window_start", w.From.String(),
			"elements", whole.Elements, "in_pieces", total, "pieces", len(pieces))
	case sr.caps.limit() == 0:
		return whole, nil, nil // the same elements in pieces: it was not cut
	}
	return whole, pieces, nil
}

// fetchPieces fetches w, answered elements, in halves, each again in
// halves while at limit. nil, nil: the window itself (top) cannot be split
// and the cap is not known for sure.
func (r *Runner) fetchPieces(ctx context.Context, sr *streamRun, w extract.Window, elements, limit int, top bool, fetch pieceFetch) ([]fetched, error) {
	shortest := cmp.Or(sr.stream.SplitDownTo, catalog.DefaultSplitDownTo)
	wholeDays := sr.tenant.dialect().DateFilter.Encoding == "date"
	a, b, ok := extract.Halves(w, sr.tenant.Location, shortest, wholeDays)
	if !ok {
		if sr.caps.limit() == 0 && top {
			return nil, nil // a guess from two answers: only a piece as long as its whole is proof
		}
		return nil, &CappedError{Stream: sr.stream.Name, Piece: w, Elements: elements, Found: sr.stream.MaxElements == 0,
			WholeDay: wholeDays && w.From.DaysUntil(w.To) == 1}
	}
	var out []fetched
	for _, p := range []extract.Window{a, b} {
		f, err := fetch(ctx, p)
		if err != nil {
			return nil, err
		}
		// A cap known for sure cuts every answer at it; a guessed one (the
		// whole answer's length) only an answer exactly that long: a piece
		// that holds more than its cut whole is whole.
		// A guess below autoCapMin (a window split for its day's shortfall)
		// is no cap at all.
		if known := sr.caps.limit() > 0; (known && f.Elements >= limit) || (!known && f.Elements == limit && limit >= autoCapMin) {
			more, err := r.fetchPieces(ctx, sr, p, f.Elements, limit, false, fetch)
			if err != nil {
				return nil, err
			}
			out = append(out, more...)
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// joinPieces makes the rows of w from its pieces' answers: their arrays
// decode as one (every piece was decoded alone already), and each piece's
// answer is kept under its own instants, so a rebuild replays them all.
func (r *Runner) joinPieces(sr *streamRun, w extract.Window, pieces []fetched) (fetched, error) {
	var elems [][]byte
	var raws []load.Raw
	for _, p := range pieces {
		for _, raw := range p.raws {
			body := bytes.TrimSpace(raw.(load.Payload).Body) // a valid array: decoded alone
			if inner := bytes.TrimSpace(body[1 : len(body)-1]); len(inner) > 0 {
				elems = append(elems, inner)
			}
			raws = append(raws, raw)
		}
	}
	joined := append(append([]byte("["), bytes.Join(elems, []byte(","))...), ']')
	d, err := sr.def.Decode(r.source(sr.job, w), joined)
	return fetched{Decoded: d, raws: raws}, err
}
