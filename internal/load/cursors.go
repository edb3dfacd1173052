package load

import (
	"context"
	"time"
)

// Cursors returns the watermarks of a tenant's streams that have one.
func (s *Store) Cursors(ctx context.Context, tenantID string) (map[string]time.Time, error) {
	rows, err := s.pool.Query(ctx, `SELECT stream, watermark FROM etl.cursor WHERE tenant_id = $1`, tenantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]time.Time{}
	for rows.Next() {
		var stream string
		var w time.Time
		if err := rows.Scan(&stream, &w); err != nil {
			return nil, err
		}
		out[stream] = w
	}
	return out, rows.Err()
}
