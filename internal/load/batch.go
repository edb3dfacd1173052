package load

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// Batch is a window's transformed rows, ready to merge inside the window's
// transaction. Four kinds implement it: table batches (facts and type 1
// dimensions, upserted by natural key; see table), userBatch (agent
// versions), ReportBatch (window replace) and statusBatch (webhook statuses).
// Every one passes the conformance test in batch_test.go.
type Batch interface {
	// merge writes the rows and returns how many warehouse rows it inserted,
	// updated or deleted. Merging the same batch twice writes nothing the
	// second time.
	merge(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error)
	// days is the range of local days the rows may reference, so dim_date has
	// them; zero when the batch references no day.
	days() (first, last civil.Date)
}

// field is one staged column, named next to the value it takes from a row.
type field[R any] struct {
	name, typ string
	value     func(R) any
}

// table loads rows of type R into one table by natural key: its upsert says
// how, its fields say which value of a row goes in which staged column.
type table[R any] struct {
	upsert
	fields []field[R]         // the staged columns, in COPY order
	day    func(R) civil.Date // the local day a row references; nil when none
	// after runs in the same transaction after the merge (e.g. agent versions).
	after afterStep
}

// afterStep is work a batch does in its transaction after its merge: rows
// derived from the merged ones. It returns the rows it wrote that count as
// the batch's own.
type afterStep func(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error)

func (t *table[R]) columns() []column {
	cols := make([]column, len(t.fields))
	for i, f := range t.fields {
		cols[i] = column{f.name, f.typ}
	}
	return cols
}

// batch is rows of the local days [first, last], widened to the days the
// rows reference.
func (t *table[R]) batch(first, last civil.Date, rows []R) tableBatch {
	if t.day != nil {
		for _, r := range rows {
			first, last = span(first, last, t.day(r))
		}
	}
	b := tableBatch{spec: &t.upsert, columns: t.columns(), n: len(rows), first: first, last: last, after: t.after,
		row: func(i int) []any {
			vals := make([]any, len(t.fields))
			for j, f := range t.fields {
				vals[j] = f.value(rows[i])
			}
			return vals
		}}
	if t.day != nil {
		b.dayAt = func(i int) civil.Date { return t.day(rows[i]) }
	}
	return b
}

// tableBatch is a Batch for one upsert. Rows become COPY values only while
// they are copied, so a batch holds its rows once.
type tableBatch struct {
	spec        *upsert
	columns     []column
	n           int
	row         func(i int) []any
	dayAt       func(i int) civil.Date // nil when rows name no day
	first, last civil.Date
	after       afterStep
}

func (b tableBatch) days() (civil.Date, civil.Date) { return b.first, b.last }

func (b tableBatch) merge(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, error) {
	n, err := b.spec.merge(ctx, tx, tenantKey, b.columns, b.n, b.row)
	if err != nil || b.after == nil {
		return n, err
	}
	m, err := b.after(ctx, tx, tenantKey)
	return n + m, err
}

// span widens [first, last] to hold d.
func span(first, last, d civil.Date) (civil.Date, civil.Date) {
	if first.IsZero() || d.Before(first) {
		first = d
	}
	if last.IsZero() || d.After(last) {
		last = d
	}
	return first, last
}

// stage COPYs n rows into a temporary table that is emptied at commit. The
// table lives as long as the connection: creating and dropping one in every
// transaction cost the server more than the COPY (catalog rows for the table
// and each column, a file, cache invalidations; about 6 ms a commit). A
// transaction stages each table once (the merges read all of it), and one
// that fails takes its rows, or the table it created, with it.
func stage(ctx context.Context, tx pgx.Tx, table string, columns []column, n int, row func(i int) []any) error {
	var ddl, names []string
	for _, c := range columns {
		ddl = append(ddl, c.name+" "+c.typ)
		names = append(names, c.name)
	}
	if _, err := tx.Exec(ctx, "CREATE TEMP TABLE IF NOT EXISTS "+table+" ("+strings.Join(ddl, ", ")+") ON COMMIT DELETE ROWS"); err != nil {
		return fmt.Errorf("create %s: %w", table, err)
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, pgx.CopyFromSlice(n, func(i int) ([]any, error) {
		return row(i), nil
	})); err != nil {
		return fmt.Errorf("copy into %s: %w", table, err)
	}
	return nil
}

// OnlyDays restricts a batch to the rows of the local days keep accepts: a
// rebuild replays an answer only for the days no later answer replaced. A
// report replaces only those days. Rows that name no day (an agent's part in
// a conversation) are all kept.
func OnlyDays(b Batch, keep func(civil.Date) bool) Batch {
	switch b := b.(type) {
	case tableBatch:
		if b.dayAt == nil {
			return b
		}
		var idx []int
		for i := 0; i < b.n; i++ {
			if keep(b.dayAt(i)) {
				idx = append(idx, i)
			}
		}
		row, dayAt := b.row, b.dayAt
		b.n = len(idx)
		b.row = func(i int) []any { return row(idx[i]) }
		b.dayAt = func(i int) civil.Date { return dayAt(idx[i]) }
		return b
	case ReportBatch:
		var rows []transform.ReportRow
		for _, r := range b.Rows {
			if keep(r.Date) {
				rows = append(rows, r)
			}
		}
		b.Rows, b.only = rows, keep
		return b
	}
	return b
}
