package load

import (
	"context"
	"fmt"
	"time"
)

// Budget is a tenant's API request budget, shared through the warehouse by
// every process that loads the tenant: a token bucket filled at rps up to
// burst, from which each request reserves one token. A reservation that
// takes the bucket below zero waits until its token is due, so however many
// daemons ask, together they send at most rps (after a first burst). The
// database's clock times the bucket, so the processes' clocks do not matter.
// It satisfies engage.Budget.
type Budget struct {
	store    *Store
	tenantID string
	rps      float64
	burst    float64
}

// Budget returns tenantID's shared budget at rps requests a second.
func (s *Store) Budget(tenantID string, rps float64, burst int) *Budget {
	return &Budget{store: s, tenantID: tenantID, rps: rps, burst: float64(max(burst, 1))}
}

// reserveSQL takes one token ($2 rps, $3 burst) and returns what is left:
// negative when the request is reserved ahead of the pace.
const reserveSQL = `
INSERT INTO etl.api_budget AS b (tenant_id, tokens, updated_at) VALUES ($1, $3 - 1, clock_timestamp())
ON CONFLICT (tenant_id) DO UPDATE
SET tokens = LEAST($3, b.tokens + $2 * EXTRACT(EPOCH FROM clock_timestamp() - b.updated_at)) - 1,
    updated_at = clock_timestamp()
RETURNING tokens`

// Reserve takes one request from the budget and returns how long to wait
// before sending it.
func (b *Budget) Reserve(ctx context.Context) (time.Duration, error) {
	var tokens float64
	if err := b.store.pool.QueryRow(ctx, reserveSQL, b.tenantID, b.rps, b.burst).Scan(&tokens); err != nil {
		return 0, fmt.Errorf("reserve from the API budget of %s: %w", b.tenantID, err)
	}
	if tokens >= 0 {
		return 0, nil
	}
	return time.Duration(-tokens / b.rps * float64(time.Second)), nil
}
