package load

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// Emptied is what a rebuild found at its start: the fact tables that held
// no row of the tenant on the rebuilt days. Their batches insert their rows
// with a plain INSERT ... SELECT (the same staging, lookups and DISTINCT ON
// as the merge, without ON CONFLICT), which the server does in less time
// than an upsert; the merge's speculative insertion is what a rebuild of an
// emptied range pays over \copy.
//
// What the rebuild finds is a hint, not the guarantee: a key can come in
// several answers (a conversation's message again in a webhook, a log's
// event again in a sync's lookback, an agent's part in every window that
// read the conversation), and rows outside the range or of another stream
// of the table may be there. The guarantee is the table's unique key: the
// plain INSERT runs in a savepoint, and when it meets a key the table holds
// (unique_violation) it is rolled back and the batch merges as any other,
// so the later answer's values replace the earlier ones. A plain INSERT that
// succeeds writes exactly the rows the merge would have inserted, and the
// merge would have updated none.
type Emptied struct {
	tables map[string]bool // e.g. engage.fact_message

	mu       sync.Mutex
	inserted map[string]int64 // per stream: rows its committed batches inserted without a merge
	merged   map[string]int   // per stream: batches of emptied tables that met a key and merged
}

// emptiedTables are the fact tables a batch inserts into by natural key.
// (fact_report_metric replaces a window's groups: its batches merge.)
var emptiedTables = []*upsert{
	&agentTimes.upsert, &conversations.upsert, &conversationAgents.upsert, &messages.upsert,
	&visits.upsert, &cobrowseSessions.upsert, &activityEvents.upsert, &realtimeSnapshots.upsert,
}

// emptiedCheckTimeout bounds the check: a table without an index on its
// days is read by the tenant's rows; one that takes longer than this is
// taken as not emptied, and merges as before.
const emptiedCheckTimeout = "2s"

// EmptiedFacts finds which fact tables hold no row of the tenant on the
// local days [from, to), one EXISTS each, in one statement. A rebuild calls
// it under the locks of the streams it rebuilds, before its first commit.
func (s *Store) EmptiedFacts(ctx context.Context, tenantKey int, from, to civil.Date) (*Emptied, error) {
	e := &Emptied{tables: map[string]bool{}, inserted: map[string]int64{}, merged: map[string]int{}}
	var cols []string
	for _, u := range emptiedTables {
		cols = append(cols, fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s WHERE tenant_key = $1 AND date_key >= $2 AND date_key < $3)", u.table))
	}
	empty := make([]bool, len(emptiedTables))
	dest := make([]any, len(empty))
	for i := range empty {
		dest[i] = &empty[i]
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL statement_timeout = '"+emptiedCheckTimeout+"'"); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT "+strings.Join(cols, ",\n       "), tenantKey, from.Key(), to.Key()).Scan(dest...)
	})
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "57014" { // query_canceled: too long to tell; merge
		return e, nil
	}
	if err != nil {
		return nil, fmt.Errorf("find emptied fact tables: %w", err)
	}
	for i, u := range emptiedTables {
		if empty[i] {
			e.tables[u.table] = true
		}
	}
	return e, nil
}

// Tables lists the emptied tables.
func (e *Emptied) Tables() []string {
	if e == nil {
		return nil
	}
	var out []string
	for _, u := range emptiedTables {
		if e.tables[u.table] {
			out = append(out, u.table)
		}
	}
	return out
}

// Inserted is how many rows the stream's committed batches inserted
// without a merge, and how many of its batches of emptied tables met a key
// the table held and merged.
func (e *Emptied) Inserted(stream string) (rows int64, merged int) {
	if e == nil {
		return 0, 0
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.inserted[stream], e.merged[stream]
}

// emptiedMerge is how a commit's batch writes: inserted straight into an
// emptied table where it can be, else merged.
type emptiedMerge struct {
	inserted int64 // rows inserted without a merge
	merged   bool  // the batch met a key the emptied table held
}

func (e *Emptied) merge(ctx context.Context, tx pgx.Tx, tenantKey int, b Batch) (int64, emptiedMerge, error) {
	tb, ok := b.(tableBatch)
	if e == nil || !ok || !e.tables[tb.spec.table] {
		n, err := b.merge(ctx, tx, tenantKey)
		return n, emptiedMerge{}, err
	}
	return tb.mergeEmptied(ctx, tx, tenantKey)
}

// committed counts a committed batch's way.
func (e *Emptied) committed(stream string, m emptiedMerge) {
	if e == nil || (m.inserted == 0 && !m.merged) {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.inserted[stream] += m.inserted
	if m.merged {
		e.merged[stream]++
	}
}

func (b tableBatch) mergeEmptied(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, emptiedMerge, error) {
	n, inserted, err := b.spec.write(ctx, tx, tenantKey, b.columns, b.n, b.row, true)
	m := emptiedMerge{merged: !inserted}
	if inserted {
		m.inserted = n
	}
	if err != nil || b.after == nil {
		return n, m, err
	}
	a, err := b.after(ctx, tx, tenantKey)
	return n + a, m, err
}

// insertStaged tries the staged rows as a plain INSERT in a savepoint:
// false, and the savepoint rolled back, when one's key is in the table.
func (u *upsert) insertStaged(ctx context.Context, tx pgx.Tx, tenantKey int) (int64, bool, error) {
	if _, err := tx.Exec(ctx, "SAVEPOINT emptied"); err != nil {
		return 0, false, fmt.Errorf("insert into %s: %w", u.table, err)
	}
	tag, err := tx.Exec(ctx, u.insertSQL(), tenantKey)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.TableName == u.table[strings.LastIndex(u.table, ".")+1:] {
		if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT emptied"); err != nil {
			return 0, false, fmt.Errorf("insert into %s: %w", u.table, err)
		}
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("insert into %s: %w", u.table, err)
	}
	if _, err := tx.Exec(ctx, "RELEASE SAVEPOINT emptied"); err != nil {
		return 0, false, fmt.Errorf("insert into %s: %w", u.table, err)
	}
	return tag.RowsAffected(), true, nil
}
