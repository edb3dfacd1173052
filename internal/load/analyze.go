package load

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// AnalyzeChanged runs ANALYZE on every warehouse table (schemas engage, raw
// and etl) that changed past autovacuum's own threshold since its
// statistics were last taken (50 rows plus a tenth of the table, or any
// change to a table never analyzed), and returns the tables it analyzed.
//
// Why not leave it to autovacuum: a plan is only as good as its
// statistics. Right after a backfill the tables have none (autovacuum
// comes a minute later, or never where it is turned off), and the planner
// takes a tenant's 180,000 conversations for 800: the first syncs then
// hash whole tables where they should look up a key (an hourly sync of a
// year's warehouse took 5.7 s instead of 2.7 s). The counters are one
// query; where autovacuum already analyzed, there is nothing to do.
// SKIP_LOCKED leaves a table another ANALYZE or VACUUM holds to that one.
func (s *Store) AnalyzeChanged(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `
SELECT format('%I.%I', s.schemaname, s.relname)
FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname IN ('engage', 'raw', 'etl')
  AND s.n_mod_since_analyze > 0
  AND (c.reltuples < 0 OR s.n_mod_since_analyze > 50 + 0.1 * c.reltuples)
ORDER BY s.n_mod_since_analyze DESC`)
	if err != nil {
		return nil, fmt.Errorf("read which tables changed since their statistics: %w", err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("read which tables changed since their statistics: %w", err)
	}
	for i, t := range tables {
		if _, err := s.pool.Exec(ctx, "ANALYZE (SKIP_LOCKED) "+t); err != nil {
			return tables[:i], fmt.Errorf("analyze %s: %w", t, err)
		}
	}
	return tables, nil
}
