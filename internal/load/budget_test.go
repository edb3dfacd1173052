package load_test

import (
	"context"
	"io"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/engagesim"
)

// TestThreeProcessesShareOneTenantsBudget: three clients of one API key,
// as three daemons would hold, each pacing itself at the key's limit,
// send together at most that limit when they share the warehouse's budget:
// the API answers no 429, and the requests take as long as the limit says.
func TestThreeProcessesShareOneTenantsBudget(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	const rps, each = 10, 20
	s := newStore(t)
	sim, err := engagesim.New(engagesim.Config{Seed: 1, Days: 2, Now: time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC), RateLimit: rps,
		Tenants: []engagesim.TenantConfig{{ID: "vienna", Token: "tok", Timezone: "Europe/Vienna"}}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		c, err := engage.New("tok", engage.WithBaseURL(srv.URL+engagesim.Prefix), engage.WithRate(rps, 1),
			engage.WithBudget(s.Budget("vienna", rps, 1)))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < each; k++ {
				req := engage.Request{Method: "GET", Path: "/rule"}
				if err := c.Do(context.Background(), req, func(r io.Reader) error { _, err := io.Copy(io.Discard, r); return err }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	stats := sim.Stats()
	if stats[429] != 0 || stats[200] != 3*each {
		t.Errorf("the API answered %v: want %d × 200 and no 429", stats, 3*each)
	}
	// 60 requests at 10 a second, the first at once: 5.9 s at least.
	if minimum := time.Duration(3*each-1) * time.Second / rps; took < minimum-100*time.Millisecond {
		t.Errorf("60 requests took %s, less than the shared pace allows (%s)", took, minimum)
	}
}
