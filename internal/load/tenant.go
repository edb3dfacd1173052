package load

import (
	"context"
	"fmt"
)

const upsertTenantSQL = `
INSERT INTO engage.dim_tenant (tenant_id, timezone) VALUES ($1, $2)
ON CONFLICT (tenant_id) DO UPDATE SET timezone = EXCLUDED.timezone
WHERE dim_tenant.timezone IS DISTINCT FROM EXCLUDED.timezone`

// EnsureTenant registers a tenant in dim_tenant (rewriting it only when its
// zone changed) and returns its key.
func (s *Store) EnsureTenant(ctx context.Context, tenantID, timezone string) (int, error) {
	var key int
	err := retry(ctx, func() error {
		if _, err := s.pool.Exec(ctx, upsertTenantSQL, tenantID, timezone); err != nil {
			return fmt.Errorf("dim_tenant %s: %w", tenantID, err)
		}
		return s.pool.QueryRow(ctx, `SELECT tenant_key FROM engage.dim_tenant WHERE tenant_id = $1`, tenantID).Scan(&key)
	})
	return key, err
}
