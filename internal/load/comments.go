package load

import (
	"context"
	"fmt"
)

// BIComments returns the COMMENT ON texts of the views of schema bi and of
// their columns (what `engage-etl metabase` pushes): view -> text, and
// [view, column] -> text. Uncommented ones are left out.
func (s *Store) BIComments(ctx context.Context) (map[string]string, map[[2]string]string, error) {
	rows, err := s.pool.Query(ctx, `
SELECT c.relname, COALESCE(obj_description(c.oid, 'pg_class'), ''), COALESCE(a.attname, ''), COALESCE(col_description(c.oid, a.attnum), '')
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = 'bi' AND c.relkind IN ('v', 'm')
ORDER BY 1, a.attnum`)
	if err != nil {
		return nil, nil, fmt.Errorf("read the bi views' comments: %w", err)
	}
	defer rows.Close()
	views, columns := map[string]string{}, map[[2]string]string{}
	for rows.Next() {
		var view, viewText, column, columnText string
		if err := rows.Scan(&view, &viewText, &column, &columnText); err != nil {
			return nil, nil, err
		}
		if viewText != "" {
			views[view] = viewText
		}
		if column != "" && columnText != "" {
			columns[[2]string{view, column}] = columnText
		}
	}
	return views, columns, rows.Err()
}
