package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
)

// A window too long for the API. Report APIs bound the range one request
// may ask and say so only with a 400, and a long window's answer may grow
// past what one request should carry. fetchShorter fetches a window whole;
// refused as too long (a 400 for more than one local day), it asks its
// halves, each again while refused, down to one day, where the API's own
// error stands (it refuses the request, whatever its range). The pieces
// join as the window's rows (kinds.Def.Join, or a Capped kind's arrays),
// each piece's answer kept under its own days. The longest piece the API
// accepted is remembered (etl.window_limit), so that later plans ask no
// longer; so is half a window whose answer passed sync.chunk_bytes.

// fetchShorter fetches w with fetch, in pieces when the API refuses it as
// too long; join makes the window's answer of the pieces.
func (r *Runner) fetchShorter(ctx context.Context, sr *streamRun, w extract.Window, fetch pieceFetch, join func([]fetched) (fetched, error)) (fetched, error) {
	f, err := fetch(ctx, w)
	days := w.From.DaysUntil(w.To)
	if err == nil {
		if size, limit := answerBytes(f.raws), r.chunkBytes(); days > 1 && size > limit {
			r.noteLimit(ctx, sr, max(1, days/2), fmt.Sprintf("an answer of %d bytes for %d days, more than sync.chunk_bytes (%d)", size, days, limit))
		}
		return f, nil
	}
	if !tooLong(err) || days < 2 {
		return f, err
	}
	pieces, longest, perr := r.shorterPieces(ctx, sr, w, fetch)
	if perr != nil {
		return fetched{}, perr
	}
	if longest > 0 {
		r.noteLimit(ctx, sr, longest, fmt.Sprintf("the API refused %d days in one request (%v)", days, err))
	}
	sr.log.Info("the API refused the window as too long: fetched in pieces", "window_start", w.From.String(), "days", days,
		"pieces", len(pieces), "longest_accepted", longest)
	return join(pieces)
}

// shorterPieces fetches the halves of w, each again in halves while the
// API refuses it as too long; longest is the most days a piece asked that
// the API answered.
func (r *Runner) shorterPieces(ctx context.Context, sr *streamRun, w extract.Window, fetch pieceFetch) (out []fetched, longest int, err error) {
	a, b, ok := extract.Halves(w, sr.tenant.Location, 24*time.Hour, true)
	if !ok {
		return nil, 0, fmt.Errorf("the API refused %s..%s as too long and it cannot be halved", w.From, w.To.AddDays(-1))
	}
	for _, p := range []extract.Window{a, b} {
		f, err := fetch(ctx, p)
		if err != nil {
			if !tooLong(err) || p.From.DaysUntil(p.To) < 2 {
				return nil, 0, err
			}
			more, l, err := r.shorterPieces(ctx, sr, p, fetch)
			if err != nil {
				return nil, 0, err
			}
			out, longest = append(out, more...), max(longest, l)
			continue
		}
		out, longest = append(out, f), max(longest, p.From.DaysUntil(p.To))
	}
	return out, longest, nil
}

// joinDecoded joins pieces by the kind's Join.
func joinDecoded(def kinds.Def) func([]fetched) (fetched, error) {
	return func(pieces []fetched) (fetched, error) {
		parts := make([]kinds.Decoded, len(pieces))
		var raws []load.Raw
		for i, p := range pieces {
			parts[i] = p.Decoded
			raws = append(raws, p.raws...)
		}
		return fetched{Decoded: def.Join(parts), raws: raws}, nil
	}
}

// tooLong reports whether err is the API refusing the request (400), which
// for a window of several days may be its range.
func tooLong(err error) bool {
	var apiErr *engage.APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest
}

func answerBytes(raws []load.Raw) int {
	n := 0
	for _, raw := range raws {
		if p, ok := raw.(load.Payload); ok {
			n += len(p.Body)
		}
	}
	return n
}

func (r *Runner) chunkBytes() int {
	if r.ChunkBytes > 0 {
		return r.ChunkBytes
	}
	return defaultChunkBytes
}

// noteLimit remembers the most days a request of the stream may ask.
func (r *Runner) noteLimit(ctx context.Context, sr *streamRun, days int, reason string) {
	if days >= max(sr.stream.WindowDays, maxWindowDays) {
		return // no shorter than any window is asked
	}
	if err := r.Store.NoteWindowLimit(context.WithoutCancel(ctx), sr.tenant.ID, sr.stream.Name, days, reason); err != nil {
		sr.log.Warn("cannot remember the window limit", "days", days, "error", err)
		return
	}
	r.limits.forget(sr.tenant.ID)
	sr.log.Warn("the stream's requests ask fewer days from now on", "days", days, "reason", reason, "table", "etl.window_limit")
}

// windowLimit is the most days a request of a tenant's stream may ask,
// as the API taught (etl.window_limit); 0: no limit learned.
func (r *Runner) windowLimit(ctx context.Context, t Tenant, s catalog.Stream) (int, error) {
	limits, err := r.limits.get(ctx, t.ID, func(ctx context.Context) (map[string]int, error) {
		return r.Store.WindowLimits(ctx, t.ID)
	})
	if err != nil {
		return 0, fmt.Errorf("read the window limits: %w", err)
	}
	return limits[s.Name], nil
}

// windowDays is the most days a request of a tenant's stream asks: its
// window_days, or less where the API taught so.
func (r *Runner) windowDays(ctx context.Context, t Tenant, s catalog.Stream) (int, error) {
	limit, err := r.windowLimit(ctx, t, s)
	if err != nil || limit == 0 {
		return s.WindowDays, err
	}
	return min(s.WindowDays, limit), nil
}

// memo keeps a value per tenant for a while: what each stream's planning
// asks of the warehouse or the API once per run rather than per stream.
type memo[V any] struct {
	ttl time.Duration
	mu  sync.Mutex
	at  map[string]memoEntry[V]
}

type memoEntry[V any] struct {
	v  V
	at time.Time
}

func newMemo[V any](ttl time.Duration) *memo[V] {
	return &memo[V]{ttl: ttl, at: map[string]memoEntry[V]{}}
}

// get returns key's value, made by fn when missing or older than the ttl.
// Two callers may both make it: the value is the same.
func (m *memo[V]) get(ctx context.Context, key string, fn func(context.Context) (V, error)) (V, error) {
	m.mu.Lock()
	e, ok := m.at[key]
	m.mu.Unlock()
	if ok && time.Since(e.at) < m.ttl {
		return e.v, nil
	}
	v, err := fn(ctx)
	if err != nil {
		return v, err
	}
	m.mu.Lock()
	m.at[key] = memoEntry[V]{v: v, at: time.Now()}
	m.mu.Unlock()
	return v, nil
}

func (m *memo[V]) forget(key string) {
	m.mu.Lock()
	delete(m.at, key)
	m.mu.Unlock()
}
