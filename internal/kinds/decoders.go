package kinds

import (
	"fmt"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/load"
)

// The shapes of decoder the kinds share: a detail array (elements), the
// pages of a list (pages). Each kind's file says which, with its transform
// and its batch.

// elements decodes an answer that is a JSON array, element by element.
func elements[E, R any](element string, rows func(Source, E) ([]R, error), batch func(Source, []R) load.Batch) func(Source, []byte) (Decoded, error) {
	return func(src Source, body []byte) (Decoded, error) {
		m := decode.NewRemapper(src.Dialect, element)
		var out []R
		n := 0
		err := decode.Each(m, body, func(e E) error {
			n++
			rs, err := rows(src, e)
			out = append(out, rs...)
			return err
		})
		if err != nil {
			return Decoded{}, err
		}
		return Decoded{Batch: batch(src, out), Rows: len(out), Elements: n, Warnings: m.Missing(), Out: out}, nil
	}
}

// pages decodes the pages of a list (CONTRACT.md §5).
func pages[E, R any](element string, row func(E) (R, error), batch func(Source, []R) load.Batch) func(Source, []byte) (Decoded, error) {
	return func(src Source, body []byte) (Decoded, error) {
		m := decode.NewRemapper(src.Dialect, element)
		var out []R
		err := eachPage(m, body, src.Dialect.Lists.Items, func(e E) error {
			r, err := row(e)
			out = append(out, r)
			return err
		})
		if err != nil {
			return Decoded{}, err
		}
		return Decoded{Batch: batch(src, out), Rows: len(out), Warnings: m.Missing(), Out: out}, nil
	}
}

// eachPage calls fn with each element of the pages of a paged answer, kept
// as one JSON array of page bodies (see engage.Pages).
func eachPage[E any](m *decode.Remapper, body []byte, items string, fn func(E) error) error {
	return decode.Walk(body, func(page int, p []byte) error {
		elems, err := engage.PageItems(p, items)
		if err != nil {
			return fmt.Errorf("page %d: %w", page, err)
		}
		for i, raw := range elems {
			if err := decode.Element(m, raw, fn); err != nil {
				return fmt.Errorf("page %d element %d: %w", page, i, err)
			}
		}
		return nil
	})
}

// one is the single row a transform returns, as a slice.
func one[R any](r R, err error) ([]R, error) {
	if err != nil {
		return nil, err
	}
	return []R{r}, nil
}

// dayBatch adapts a batch of the local days [from, to) to a window.
func dayBatch[R any](batch func(from, to civil.Date, rows []R) load.Batch) func(Source, []R) load.Batch {
	return func(src Source, rows []R) load.Batch { return batch(src.Window.From, src.Window.To, rows) }
}

// snapshotBatch adapts a batch of a list read on a day, at a moment, to a window.
func snapshotBatch[R any](batch func(day civil.Date, at time.Time, rows []R) load.Batch) func(Source, []R) load.Batch {
	return func(src Source, rows []R) load.Batch { return batch(src.Window.From, src.Window.End, rows) }
}
