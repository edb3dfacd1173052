package load

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
)

// upsert declares how staged rows merge into one table by natural key: the
// merge SQL is generated once from it, so every table loads the same way.
type upsert struct {
	table   string   // target, e.g. engage.fact_visit
	key     []string // natural key columns after tenant_key; staged as is
	target  []string // other target columns, each from lookups, exprs or the staged column of that name
	lookups []lookup // joined in order: a lookup's id and at may read an earlier one's alias
	exprs   map[string]string
	// infer is SQL run after staging and before the merge ($1 = tenant
	// key). Every table infers members in one order, customers, teams, then
	// agents, so parallel windows of different streams that add the same
	// members lock them in the same order instead of deadlocking.
	infer []string
	// serializes names a lock this table's commits take per tenant, in
	// their transaction, before they read anything: tables whose merges
	// read each other's rows (a conversation's agents take its day, and the
	// conversation's commit repairs agents loaded before it) take the same
	// one, so two processes' commits never both miss the other's
	// uncommitted rows.
	serializes string
}

// serializeSQL takes a table's commit lock ($1 its name, $2 the tenant key);
// the one-key form is a lock space of its own, apart from the stream locks.
const serializeSQL = `SELECT pg_advisory_xact_lock(hashtextextended('engage-etl:commit:' || $1 || ':' || $2::integer, 0))`

// dimension is a table whose rows a staged id names within a tenant:
// (tenant_key, id) is unique, so a lookup matches at most one row; a
// versioned dimension is unique on (tenant_key, id, valid_from).
type dimension struct {
	table, key, id string // e.g. engage.dim_customer, its surrogate key, its Engage id
	versioned      bool   // type 2: rows carry valid_from and valid_to
	// grows says the table grows with the tenant's history (customers,
	// conversations: millions on a large tenant), so each staged row looks
	// its row up by index, a cost that grows with the window; the planner
	// would otherwise hash the whole table for every window's merge, which
	// made a year's backfill spend most of conversation_agents' time reading
	// fact_conversation. Agents and teams are few and hash well.
	grows bool
}

var (
	customerDim = dimension{table: "engage.dim_customer", key: "customer_key", id: "customer_id", grows: true}
	teamDim     = dimension{table: "engage.dim_team", key: "team_key", id: "team_id"}
	agentDim    = dimension{table: "engage.dim_agent", key: "agent_key", id: "user_id", versioned: true}
	// conversationDay gives a conversation's local day, and its start to
	// later lookups; the day is 0 (Unknown) until the conversation is loaded.
	conversationDay = dimension{table: "engage.fact_conversation", key: "date_key", id: "conversation_id", grows: true}
)

// lookup fills a target column with the key of the row of dim that a staged
// id names, or with the Unknown member 0 when none does: exactly what
// engage.customer_key, engage.team_key and engage.agent_key_at return, but as
// a join the planner can hash instead of a function call per row. A NULL id
// never matches.
type lookup struct {
	as       string // alias of the joined row
	column   string // the target column filled
	dim      dimension
	id       string // staged expression naming the row, e.g. s.customer_id
	at       string // versioned dimensions: the instant whose version to take
	nonEmpty bool   // an empty id names no row, even a row with id ''
}

// join is the lookup's LEFT JOIN. For a versioned dimension it joins every
// version valid at the instant; where versions overlap, the merge's ORDER BY
// (see latestFirst) puts the latest valid_from first and DISTINCT ON keeps
// it, as engage.agent_key_at does. This lets the planner hash dim_agent once,
// where a LATERAL (... ORDER BY valid_from DESC LIMIT 1) probes an index per
// row, measured slower, and is costed so high that JIT compiles the merge of
// a large window.
func (l lookup) join() string {
	on := fmt.Sprintf("%[1]s.tenant_key = $1 AND %[1]s.%[2]s = %[3]s", l.as, l.dim.id, l.id)
	if l.nonEmpty {
		on += fmt.Sprintf(" AND %s <> ''", l.id)
	}
	if l.dim.versioned {
		on += fmt.Sprintf(" AND %[1]s.valid_from <= %[2]s AND (%[1]s.valid_to IS NULL OR %[2]s < %[1]s.valid_to)", l.as, l.at)
	}
	if l.dim.grows {
		// One index probe per staged row. At most one row matches; LIMIT 1
		// also keeps the planner from flattening the subquery into a join
		// it would hash.
		return fmt.Sprintf("LEFT JOIN LATERAL (SELECT * FROM %s %s WHERE %s LIMIT 1) %s ON true", l.dim.table, l.as, on, l.as)
	}
	return fmt.Sprintf("LEFT JOIN %s %s ON %s", l.dim.table, l.as, on)
}

// latestFirst orders the versions a versioned lookup joined for one staged
// row; "" for other lookups, which join at most one row.
func (l lookup) latestFirst() string {
	if !l.dim.versioned {
		return ""
	}
	return l.as + ".valid_from DESC"
}

type column struct{ name, typ string }

func (u *upsert) stageTable() string {
	return "stage_" + u.table[strings.LastIndex(u.table, ".")+1:]
}

// sql builds INSERT ... SELECT DISTINCT ON (key) ... ORDER BY key ... ON
// CONFLICT ... DO UPDATE ... WHERE (changed) IS DISTINCT FROM (new): an
// unchanged row is not written. ORDER BY key makes parallel windows lock the
// rows they share in the same order; after the key, each versioned lookup's
// valid_from DESC makes the row DISTINCT ON keeps the one with the latest
// version each lookup matched (a row's matches are their cross product).
func (u *upsert) sql() string {
	var set, old, new []string
	for _, c := range u.target {
		set = append(set, c+" = EXCLUDED."+c)
		old = append(old, "f."+c)
		new = append(new, "EXCLUDED."+c)
	}
	return fmt.Sprintf(`%s
ON CONFLICT (tenant_key, %s) DO UPDATE SET %s, loaded_at = now()
WHERE (%s) IS DISTINCT FROM (%s)`,
		u.insertSQL(), strings.Join(u.key, ", "), strings.Join(set, ", "), strings.Join(old, ", "), strings.Join(new, ", "))
}

// insertSQL is the merge without its ON CONFLICT: the rows a merge would
// insert into a table that holds none of their keys (see Emptied).
func (u *upsert) insertSQL() string {
	cols := append(append([]string{"tenant_key"}, u.key...), u.target...)
	sel := []string{"$1::integer"}
	for _, k := range u.key {
		sel = append(sel, "s."+k)
	}
	keys := "s." + strings.Join(u.key, ", s.")
	from := []string{u.stageTable() + " s"}
	order := []string{keys}
	filled := map[string]string{}
	for _, l := range u.lookups {
		from = append(from, l.join())
		if o := l.latestFirst(); o != "" {
			order = append(order, o)
		}
		filled[l.column] = fmt.Sprintf("COALESCE(%s.%s, 0)", l.as, l.dim.key)
	}
	for _, c := range u.target {
		e, ok := filled[c]
		if !ok {
			e, ok = u.exprs[c]
		}
		if !ok {
			e = "s." + c
		}
		sel = append(sel, e)
	}
	return fmt.Sprintf(`INSERT INTO %s AS f (%s)
SELECT DISTINCT ON (%s) %s
FROM %s
ORDER BY %s`,
		u.table, strings.Join(cols, ", "), keys, strings.Join(sel, ", "), strings.Join(from, "\n"), strings.Join(order, ", "))
}

// merge stages n rows in columns, adds inferred dimension members, and
// upserts the staged rows.
func (u *upsert) merge(ctx context.Context, tx pgx.Tx, tenantKey int, columns []column, n int, row func(i int) []any) (int64, error) {
	written, _, err := u.write(ctx, tx, tenantKey, columns, n, row, false)
	return written, err
}

// write is merge; with emptied, the staged rows are first tried as a plain
// INSERT (insertStaged), and merged only when one's key is in the table:
// inserted says which.
func (u *upsert) write(ctx context.Context, tx pgx.Tx, tenantKey int, columns []column, n int, row func(i int) []any, emptied bool) (written int64, inserted bool, err error) {
	if u.serializes != "" {
		if _, err := tx.Exec(ctx, serializeSQL, u.serializes, tenantKey); err != nil {
			return 0, false, fmt.Errorf("%s: take the %s commit lock: %w", u.table, u.serializes, err)
		}
	}
	if err := stage(ctx, tx, u.stageTable(), columns, n, row); err != nil {
		return 0, false, err
	}
	for _, q := range u.infer {
		if _, err := tx.Exec(ctx, q, tenantKey); err != nil {
			return 0, false, fmt.Errorf("%s: add inferred members: %w", u.table, err)
		}
	}
	if emptied {
		written, inserted, err := u.insertStaged(ctx, tx, tenantKey)
		if err != nil || inserted {
			return written, inserted, err
		}
	}
	tag, err := tx.Exec(ctx, u.sql(), tenantKey)
	if err != nil {
		return 0, false, fmt.Errorf("merge into %s: %w", u.table, err)
	}
	return tag.RowsAffected(), false, nil
}

// inferAgents adds agents named by a staged column that dim_agent does not
// know yet, in user_id order so parallel windows lock in the same order.
func inferAgents(stageTable, col string) string {
	return fmt.Sprintf(`
INSERT INTO engage.dim_agent (tenant_key, user_id, email)
SELECT $1::integer, u, CASE WHEN u LIKE '%%@%%' THEN u END
FROM (SELECT DISTINCT %[2]s AS u FROM %[1]s WHERE %[2]s IS NOT NULL AND %[2]s <> '') x
WHERE NOT EXISTS (SELECT 1 FROM engage.dim_agent a WHERE a.tenant_key = $1 AND a.user_id = x.u)
ORDER BY u
ON CONFLICT DO NOTHING`, stageTable, col)
}

// inferMembers adds ids a staged column names to a dimension with a
// (tenant_key, idColumn) key, such as customers and teams.
func inferMembers(stageTable, col, dim, idColumn string) string {
	return fmt.Sprintf(`
INSERT INTO %[3]s (tenant_key, %[4]s)
SELECT $1::integer, u
FROM (SELECT DISTINCT %[2]s AS u FROM %[1]s WHERE %[2]s IS NOT NULL AND %[2]s <> '') x
WHERE NOT EXISTS (SELECT 1 FROM %[3]s d WHERE d.tenant_key = $1 AND d.%[4]s = x.u)
ORDER BY u
ON CONFLICT DO NOTHING`, stageTable, col, dim, idColumn)
}
