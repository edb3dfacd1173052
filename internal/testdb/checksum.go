package testdb

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

// Checksums fingerprints every table of schema engage and view of schema bi:
// row count and an md5 of the sorted rows. Surrogate keys, loaded_at and checked_at are
// left out (they depend on load order and time); the bi views, which
// resolve keys to natural ids, check the references instead. Two warehouses
// with equal checksums hold the same data.
func Checksums(t testing.TB, dsn string) map[string]string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, `
SELECT table_schema || '.' || table_name,
       string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
FROM information_schema.columns
WHERE table_schema IN ('engage', 'bi') AND column_name NOT IN ('loaded_at', 'checked_at')
  AND (column_name = 'date_key' OR column_name NOT LIKE '%\_key')
GROUP BY 1 ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	cols := map[string]string{}
	for rows.Next() {
		var tbl, c string
		if err := rows.Scan(&tbl, &c); err != nil {
			t.Fatal(err)
		}
		cols[tbl] = c
	}
	rows.Close()
	out := map[string]string{}
	for tbl, c := range cols {
		var sum, n string
		q := fmt.Sprintf(`SELECT COALESCE(md5(string_agg(r::text, E'\n' ORDER BY r::text)), 'empty'), count(*)::text FROM (SELECT %s FROM %s) r`, c, tbl)
		if err := conn.QueryRow(ctx, q).Scan(&sum, &n); err != nil {
			t.Fatalf("%s: %v", tbl, err)
		}
		out[tbl] = n + " rows " + sum
	}
	return out
}
