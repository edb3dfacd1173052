package load

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/testdb"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// TestLookupsAnswerAsTheFunctions pins the merges' lookups to what the
// schema's functions engage.customer_key, team_key and agent_key_at answer
// (the merges called them per row before they joined): an id no member
// has, of another tenant, empty or NULL gets the Unknown member 0; an agent
// gets the version valid at the row's instant, the latest valid_from first
// where versions overlap. Every table with lookups merges rows without
// inferring members first, so unknown ids stay unknown; each merged key is
// compared with the function's answer for the same staged row (the old
// expression, the oracle) and with the key the case expects.
func TestLookupsAnswerAsTheFunctions(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	ctx := context.Background()
	s, err := Open(ctx, testdb.Migrated(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}
	tk, err := s.EnsureTenant(ctx, "t1", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	other, err := s.EnsureTenant(ctx, "t2", "UTC")
	if err != nil {
		t.Fatal(err)
	}
	day := civil.Date{Year: 2026, Month: 3, Day: 28}
	at := func(h int) time.Time { return day.Start(time.UTC).Add(time.Duration(h) * time.Hour) }
	// v@x has overlapping versions (101 until 12:00, 102 since 10:00); w@x
	// plain ones (103 until 10:00, 104 since). An agent with the id '' exists
	// (105): the functions match it like any other id.
	const (
		v1, v2, w1, w2, blank = 101, 102, 103, 104, 105
		cu1, team1            = 201, 301
	)
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO engage.dim_agent (agent_key, tenant_key, user_id, valid_from, valid_to, is_current) VALUES
    (101, $1, 'v@x', '-infinity', $3, false), (102, $1, 'v@x', $2, NULL, true),
    (103, $1, 'w@x', '-infinity', $2, false), (104, $1, 'w@x', $2, NULL, true),
    (105, $1, '', '-infinity', NULL, true), (106, $4, 'o@x', '-infinity', NULL, true)`, []any{tk, at(10), at(12), other}},
		{`INSERT INTO engage.dim_customer (customer_key, tenant_key, customer_id) VALUES (201, $1, 'cu1'), (202, $2, 'cu2')`, []any{tk, other}},
		{`INSERT INTO engage.dim_team (team_key, tenant_key, team_id) VALUES (301, $1, 't1'), (302, $2, 't2')`, []any{tk, other}},
	} {
		if _, err := s.Pool().Exec(ctx, q.sql, q.args...); err != nil {
			t.Fatal(err)
		}
	}
	str := func(s string) *string { return &s }
	dk := day.Key()

	tx, err := s.Pool().Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	cases := []struct {
		name   string
		spec   *upsert
		merge  func() tableBatch
		oracle map[string]string  // target column: its expression before lookups were joins
		want   map[string][]int64 // staged key: the oracle columns' values, in column order
	}{
		{
			name: "conversations", spec: &conversations.upsert,
			merge: func() tableBatch {
				return conversations.batch(day, day, []transform.ConversationRow{
					{ID: "c1", CustomerID: "cu1", TeamID: "t1", FirstAgent: "v@x", Start: at(11), Date: day, Channel: "CHAT", Status: "DONE", UserIDs: []string{}},
					{ID: "c2", CustomerID: "", TeamID: "", FirstAgent: "", Start: at(9), Date: day, Channel: "CHAT", Status: "DONE", UserIDs: []string{}},
					{ID: "c3", CustomerID: "nobody", TeamID: "t2", FirstAgent: "w@x", Start: at(9), Date: day, Channel: "CHAT", Status: "DONE", UserIDs: []string{}},
					{ID: "c4", CustomerID: "cu2", TeamID: "t9", FirstAgent: "o@x", Start: at(13), Date: day, Channel: "CHAT", Status: "DONE", UserIDs: []string{}},
				})
			},
			oracle: map[string]string{
				"customer_key": "engage.customer_key($1, s.customer_id)",
				"team_key":     "engage.team_key($1, s.team_id)",
				"agent_key":    "CASE WHEN s.first_agent = '' THEN 0 ELSE engage.agent_key_at($1, s.first_agent, s.started_at) END",
			},
			want: map[string][]int64{"c1": {201, 301, v2}, "c2": {0, 0, 0}, "c3": {0, 0, w1}, "c4": {0, 0, 0}},
		},
		{
			name: "conversation agents", spec: &conversationAgents.upsert,
			merge: func() tableBatch {
				return conversationAgents.batch(day, day, []transform.ConversationAgentRow{
					{ConversationID: "c1", UserID: "v@x"}, {ConversationID: "c1", UserID: "w@x"},
					{ConversationID: "c9", UserID: "v@x"}, {ConversationID: "c9", UserID: "w@x"},
					{ConversationID: "c9", UserID: "nobody"},
				})
			},
			oracle: map[string]string{
				"agent_key": "engage.agent_key_at($1, s.user_id, COALESCE((SELECT c.started_at FROM engage.fact_conversation c WHERE c.tenant_key = $1 AND c.conversation_id = s.conversation_id), '-infinity'))",
				"date_key":  "COALESCE((SELECT c.date_key FROM engage.fact_conversation c WHERE c.tenant_key = $1 AND c.conversation_id = s.conversation_id), 0)",
			},
			want: map[string][]int64{"c1/v@x": {v2, int64(dk)}, "c1/w@x": {w2, int64(dk)},
				"c9/v@x": {v1, 0}, "c9/w@x": {w1, 0}, "c9/nobody": {0, 0}},
		},
		{
			name: "messages", spec: &messages.upsert,
			merge: func() tableBatch {
				return messages.batch(day, day, []transform.MessageRow{
					{ID: "m1", CustomerID: "cu1", UserID: str("v@x"), Type: "MESSAGE", SentAt: at(9), Date: day},
					{ID: "m2", CustomerID: "cu2", UserID: str("v@x"), Type: "MESSAGE", SentAt: at(11), Date: day},
					{ID: "m3", CustomerID: "nobody", UserID: str("v@x"), Type: "MESSAGE", SentAt: at(13), Date: day},
					{ID: "m4", CustomerID: "", UserID: str("w@x"), Type: "MESSAGE", SentAt: at(9), Date: day},
					{ID: "m5", CustomerID: "cu1", UserID: str("w@x"), Type: "MESSAGE", SentAt: at(11), Date: day},
					{ID: "m6", CustomerID: "cu1", UserID: nil, Type: "MESSAGE", SentAt: at(11), Date: day},
					{ID: "m7", CustomerID: "cu1", UserID: str(""), Type: "MESSAGE", SentAt: at(11), Date: day},
					{ID: "m8", CustomerID: "cu1", UserID: str("o@x"), Type: "MESSAGE", SentAt: at(11), Date: day},
				})
			},
			oracle: map[string]string{
				"customer_key": "engage.customer_key($1, s.customer_id)",
				"agent_key":    "CASE WHEN s.user_id IS NULL THEN 0 ELSE engage.agent_key_at($1, s.user_id, s.sent_at) END",
			},
			want: map[string][]int64{"m1": {cu1, v1}, "m2": {0, v2}, "m3": {0, v2}, "m4": {0, w1},
				"m5": {cu1, w2}, "m6": {cu1, 0}, "m7": {cu1, blank}, "m8": {cu1, 0}},
		},
		{
			name: "activity", spec: &activityEvents.upsert,
			merge: func() tableBatch {
				return activityEvents.batch(day, day, []transform.ActivityRow{
					{ID: "e1", Log: "call", Type: "X", UserID: str("v@x"), CustomerID: nil, At: at(11), Date: day, Data: []byte(`{}`)},
					{ID: "e2", Log: "call", Type: "X", UserID: nil, CustomerID: str(""), At: at(11), Date: day, Data: []byte(`{}`)},
					{ID: "e3", Log: "call", Type: "X", UserID: str("w@x"), CustomerID: str("cu1"), At: at(9), Date: day, Data: []byte(`{}`)},
					{ID: "e4", Log: "call", Type: "X", UserID: str("nobody"), CustomerID: str("nobody"), At: at(9), Date: day, Data: []byte(`{}`)},
					{ID: "e5", Log: "call", Type: "X", UserID: str("o@x"), CustomerID: str("cu2"), At: at(9), Date: day, Data: []byte(`{}`)},
				})
			},
			oracle: map[string]string{
				"agent_key":    "CASE WHEN s.user_id IS NULL THEN 0 ELSE engage.agent_key_at($1, s.user_id, s.occurred_at) END",
				"customer_key": "CASE WHEN s.customer_id IS NULL THEN 0 ELSE engage.customer_key($1, s.customer_id) END",
			},
			want: map[string][]int64{"e1": {v2, 0}, "e2": {0, 0}, "e3": {w1, cu1}, "e4": {0, 0}, "e5": {0, 0}},
		},
		{
			name: "agent times", spec: &agentTimes.upsert,
			merge: func() tableBatch {
				return agentTimes.batch(day, day, []transform.AgentTimeRow{
					{UserID: "v@x", Kind: "online", Start: at(9), End: at(10), Seconds: "3600", Date: day},
					{UserID: "v@x", Kind: "online", Start: at(10), End: at(11), Seconds: "3600", Date: day},
					{UserID: "w@x", Kind: "online", Start: at(10), End: at(11), Seconds: "3600", Date: day},
					{UserID: "nobody", Kind: "online", Start: at(10), End: at(11), Seconds: "3600", Date: day},
				})
			},
			oracle: map[string]string{"agent_key": "engage.agent_key_at($1, s.user_id, s.started_at)"},
			want: map[string][]int64{
				"online/v@x/" + at(9).Format(pgTime): {v1}, "online/v@x/" + at(10).Format(pgTime): {v2},
				"online/w@x/" + at(10).Format(pgTime): {w2}, "online/nobody/" + at(10).Format(pgTime): {0},
			},
		},
		{
			name: "co-browse", spec: &cobrowseSessions.upsert,
			merge: func() tableBatch {
				return cobrowseSessions.batch(day, day, []transform.CobrowseRow{
					{SessionID: "s1", UserID: "v@x", CustomerID: "cu1", Start: at(11), End: at(12), Seconds: "1", Date: day},
					{SessionID: "s2", UserID: "", CustomerID: "", Start: at(9), End: at(10), Seconds: "1", Date: day},
					{SessionID: "s3", UserID: "nobody", CustomerID: "cu2", Start: at(9), End: at(10), Seconds: "1", Date: day},
				})
			},
			oracle: map[string]string{
				"agent_key":    "engage.agent_key_at($1, s.user_id, s.started_at)",
				"customer_key": "engage.customer_key($1, s.customer_id)",
			},
			want: map[string][]int64{"s1": {v2, cu1}, "s2": {blank, 0}, "s3": {0, 0}},
		},
	}
	for _, tc := range cases {
		// Without inference, so that unknown ids stay unknown.
		u := *tc.spec
		u.infer = nil
		b := tc.merge()
		if _, err := u.merge(ctx, tx, tk, b.columns, b.n, b.row); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		got := mergedKeys(ctx, t, tx, tk, &u, tc.oracle)
		if len(got) != len(tc.want) {
			t.Errorf("%s: %d rows merged, want %d", tc.name, len(got), len(tc.want))
		}
		for key, want := range tc.want {
			row, ok := got[key]
			if !ok {
				t.Errorf("%s %s: not merged", tc.name, key)
				continue
			}
			for i, c := range oracleColumns(u, tc.oracle) {
				if row[c].merged != row[c].function {
					t.Errorf("%s %s: %s = %d, the function answers %d", tc.name, key, c, row[c].merged, row[c].function)
				}
				if row[c].merged != want[i] {
					t.Errorf("%s %s: %s = %d, want %d", tc.name, key, c, row[c].merged, want[i])
				}
			}
		}
	}
}

// pgTime is how concat_ws prints a timestamptz in UTC.
const pgTime = "2006-01-02 15:04:05-07"

// oracleColumns is the oracle's columns in target order.
func oracleColumns(u upsert, oracle map[string]string) []string {
	var cols []string
	for _, c := range u.target {
		if _, ok := oracle[c]; ok {
			cols = append(cols, c)
		}
	}
	return cols
}

type mergedKey struct{ merged, function int64 }

// mergedKeys reads, for each staged row, the merged value of each oracle
// column and the oracle's value computed from the staged row, by staged key
// (its columns joined by "/").
func mergedKeys(ctx context.Context, t *testing.T, tx pgx.Tx, tenantKey int, u *upsert, oracle map[string]string) map[string]map[string]mergedKey {
	t.Helper()
	if _, err := tx.Exec(ctx, "SET LOCAL timezone = 'UTC'"); err != nil {
		t.Fatal(err)
	}
	cols := oracleColumns(*u, oracle)
	var sel, on []string
	for _, c := range cols {
		sel = append(sel, "f."+c+"::bigint", "("+oracle[c]+")::bigint")
	}
	for _, k := range u.key {
		on = append(on, fmt.Sprintf("f.%[1]s = s.%[1]s", k))
	}
	q := fmt.Sprintf("SELECT concat_ws('/', s.%s), %s FROM %s s JOIN %s f ON f.tenant_key = $1 AND %s",
		strings.Join(u.key, ", s."), strings.Join(sel, ", "), u.stageTable(), u.table, strings.Join(on, " AND "))
	rows, err := tx.Query(ctx, q, tenantKey)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	out := map[string]map[string]mergedKey{}
	for rows.Next() {
		var key string
		vals := make([]int64, 2*len(cols))
		dest := []any{&key}
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		if err := rows.Scan(dest...); err != nil {
			t.Fatal(err)
		}
		out[key] = map[string]mergedKey{}
		for i, c := range cols {
			out[key][c] = mergedKey{vals[2*i], vals[2*i+1]}
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
