package extract

import (
	"context"

	"golang.org/x/sync/errgroup"
)

// Each runs fn for 0..n-1, at most limit at a time, and waits for all. A
// failing window does not stop the others (its error is fn's to record):
// windows are independent, and the cursor logic decides what a gap means.
// It stops starting new windows once ctx is done.
func Each(ctx context.Context, n, limit int, fn func(ctx context.Context, i int)) {
	var g errgroup.Group
	g.SetLimit(max(limit, 1))
	for i := 0; i < n; i++ {
		if ctx.Err() != nil {
			break
		}
		g.Go(func() error {
			fn(ctx, i)
			return nil
		})
	}
	_ = g.Wait() // fn reports its own errors
}
