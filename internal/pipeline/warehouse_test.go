package pipeline_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/kinds"
)

func twoTenants(c *engagesim.Config) { c.Tenants = engagesim.DefaultTenants(2) }

// warehouseTruth is what the warehouse holds for a stream over local days
// [from, to): rows and the total of the stream's main value, the same
// figures the simulator's ground truth gives.
func warehouseTruth(t *testing.T, f *fixture, tenant string, s catalog.Stream, from, to civil.Date) (int, float64) {
	t.Helper()
	days := `f.date_key >= $2 AND f.date_key < $3`
	args := []any{tenant, from.Key(), to.Key()}
	var q string
	switch s.Kind {
	case catalog.KindReport:
		q = `SELECT count(*), COALESCE(sum(f.value), 0) FROM engage.fact_report_metric f
JOIN engage.dim_metric m USING (metric_key) JOIN engage.dim_tenant tn ON tn.tenant_key = f.tenant_key
WHERE tn.tenant_id = $1 AND ` + days + ` AND m.report = $4 AND m.metric = $5 AND f.group_by = $6`
		args = append(args, s.Report, s.Metric, s.GroupBy)
	case catalog.KindAgentTimes:
		q = `SELECT count(*), COALESCE(sum(seconds), 0) FROM engage.fact_agent_time f WHERE %s AND f.kind = $4`
		args = append(args, s.TimeKind)
	case catalog.KindConversations:
		q = `SELECT count(*), COALESCE(sum(message_count), 0) FROM engage.fact_conversation f WHERE %s`
	case catalog.KindConversationAgents:
		q = `SELECT count(*), COALESCE(sum(message_count), 0) FROM engage.fact_conversation_agent f WHERE %s`
	case catalog.KindMessages:
		q = `SELECT count(*), count(*) FROM engage.fact_message m
JOIN engage.fact_conversation f ON f.tenant_key = m.tenant_key AND f.conversation_id = m.conversation_id WHERE %s`
	case catalog.KindVisits:
		q = `SELECT count(*), COALESCE(sum(seconds), 0) FROM engage.fact_visit f WHERE %s`
	case catalog.KindCobrowse:
		q = `SELECT count(*), COALESCE(sum(seconds), 0) FROM engage.fact_cobrowse_session f WHERE %s`
	case catalog.KindActivity:
		q = `SELECT count(*), count(*) FROM engage.fact_activity_event f WHERE %s AND f.log = $4`
		args = append(args, s.Log)
	case catalog.KindUsers:
		q = `SELECT count(*), count(*) FROM engage.dim_agent f WHERE %s AND f.is_current AND NOT f.inferred`
	case catalog.KindTeams:
		q = `SELECT (SELECT count(*) FROM engage.dim_team f WHERE %[1]s),
       (SELECT count(*) FROM engage.bridge_team_member b JOIN engage.dim_agent f USING (agent_key) WHERE %[1]s AND f.is_current)`
	case catalog.KindCustomers:
		q = `SELECT count(*), count(*) FROM engage.dim_customer f WHERE %s`
	case catalog.KindRoles:
		q = `SELECT count(*), count(*) FROM engage.dim_role f WHERE %s`
	case catalog.KindRules:
		q = `SELECT count(*), count(*) FROM engage.dim_rule f WHERE %s`
	case catalog.KindOpeningHours:
		q = `SELECT count(*), count(*) FROM engage.dim_opening_hours f WHERE %s AND f.listed`
	case catalog.KindSLARules:
		q = `SELECT count(*), count(*) FROM engage.dim_sla_rule f WHERE %s AND f.listed`
	default:
		t.Fatalf("no warehouse truth for kind %s", s.Kind)
	}
	if s.Kind != catalog.KindReport {
		tenantOnly := `f.tenant_key = (SELECT tenant_key FROM engage.dim_tenant WHERE tenant_id = $1)`
		switch kinds.Of(s.Kind).Planning {
		case kinds.PlanSnapshot:
			q = strings.ReplaceAll(fmt.Sprintf(q, tenantOnly), "$2", "$1") // lists are not dated
			args = args[:1]
		case kinds.PlanSince:
			q = fmt.Sprintf(q, tenantOnly+` AND `+days)
		default:
			q = fmt.Sprintf(q, tenantOnly+` AND `+days)
		}
	}
	var rows int
	var total float64
	if err := f.store.Pool().QueryRow(context.Background(), q, args...).Scan(&rows, &total); err != nil {
		t.Fatalf("%s: %v", s.Name, err)
	}
	return rows, total
}

// TestEveryStreamReconcilesWithGroundTruth loads 14 days of two tenants in
// different time zones and compares every stream with the simulator's
// ground truth, computed outside the API.
func TestEveryStreamReconcilesWithGroundTruth(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{}, twoTenants)
	if res := f.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	checked := 0
	for _, tn := range f.tenants {
		from, to := tn.Start, civil.Of(simNow, tn.Location).AddDays(1)
		for _, s := range catalog.All() {
			if s.Kind == catalog.KindRealtime {
				continue // a snapshot of now has no history to reconcile; see below
			}
			truth, err := f.sim.Truth(tn.ID, s.Name, from, to)
			if err != nil {
				t.Fatalf("%s/%s: %v", tn.ID, s.Name, err)
			}
			rows, total := warehouseTruth(t, f, tn.ID, s, from, to)
			want, _ := strconv.ParseFloat(truth.Total, 64)
			if rows != truth.Rows || math.Abs(total-want) > 1e-6 {
				t.Errorf("%s/%s: warehouse has %d rows totalling %v, the simulator %d totalling %v", tn.ID, s.Name, rows, total, truth.Rows, want)
			}
			if truth.Rows == 0 && s.Kind != catalog.KindActivity {
				t.Errorf("%s/%s: the simulator has no data, so the comparison proves nothing", tn.ID, s.Name)
			}
			checked++
		}
	}
	var snapshots int
	f.store.Pool().QueryRow(context.Background(), `SELECT count(*) FROM engage.fact_realtime_snapshot`).Scan(&snapshots)
	if snapshots != 8 {
		t.Errorf("%d realtime figures, want 4 per tenant", snapshots)
	}
	var raws int
	f.store.Pool().QueryRow(context.Background(), `SELECT count(DISTINCT stream) FROM raw.payload`).Scan(&raws)
	if raws != len(catalog.All()) {
		t.Errorf("raw payloads kept for %d streams, want all %d", raws, len(catalog.All()))
	}
	t.Logf("reconciled %d tenant streams", checked)
}

func TestEveryTableAndColumnHasACommentAndNoFactKeyIsNull(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{})
	if res := f.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	ctx := context.Background()
	rows, err := f.store.Pool().Query(ctx, `
SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname IN ('engage', 'bi') AND c.relkind IN ('r', 'v') AND obj_description(c.oid, 'pg_class') IS NULL
UNION ALL
SELECT n.nspname || '.' || c.relname || '.' || a.attname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid
WHERE n.nspname IN ('engage', 'bi') AND c.relkind IN ('r', 'v') AND a.attnum > 0 AND NOT a.attisdropped
  AND col_description(c.oid, a.attnum) IS NULL`)
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for rows.Next() {
		var n string
		rows.Scan(&n)
		missing = append(missing, n)
	}
	rows.Close()
	if len(missing) > 0 {
		t.Errorf("no COMMENT ON: %s", strings.Join(missing, ", "))
	}

	// Every foreign key column of every fact: declared NOT NULL, and no NULLs.
	fks, err := f.store.Pool().Query(ctx, `
SELECT c.relname, a.attname, a.attnotnull
FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (k.conkey)
WHERE k.contype = 'f' AND n.nspname = 'engage' AND c.relname LIKE 'fact_%'`)
	if err != nil {
		t.Fatal(err)
	}
	type fk struct {
		table, column string
		notNull       bool
	}
	var keys []fk
	for fks.Next() {
		var k fk
		fks.Scan(&k.table, &k.column, &k.notNull)
		keys = append(keys, k)
	}
	fks.Close()
	if len(keys) < 25 {
		t.Fatalf("only %d fact foreign keys found", len(keys))
	}
	for _, k := range keys {
		var nulls, total int
		f.store.Pool().QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FILTER (WHERE %s IS NULL), count(*) FROM engage.%s`, k.column, k.table)).Scan(&nulls, &total)
		if !k.notNull || nulls > 0 {
			t.Errorf("engage.%s.%s: NOT NULL=%v, %d NULLs", k.table, k.column, k.notNull, nulls)
		}
		if total == 0 {
			t.Errorf("engage.%s is empty: the check proves nothing", k.table)
		}
	}
}

func TestReaderRoleReadsBIAndNothingElse(t *testing.T) {
	f := newFixture(t, engagesim.Faults{})
	if res := f.sync(t, catalog.All()); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	ctx := context.Background()
	b := make([]byte, 4)
	rand.Read(b)
	login := "metabase_" + hex.EncodeToString(b)
	var reader string // the reader role is per warehouse database (migration 0006)
	if err := f.store.Pool().QueryRow(ctx, "SELECT quote_ident(etl.reader_role())").Scan(&reader); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.Pool().Exec(ctx, "CREATE ROLE "+login+" LOGIN IN ROLE "+reader); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.store.Pool().Exec(context.Background(), "DROP ROLE IF EXISTS "+login) })

	cfg := f.store.Pool().Config().ConnConfig.Copy()
	cfg.User = login
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, view := range []string{"report_metric", "agent_time", "conversations", "messages", "activity", "agents",
		"visits", "cobrowse_sessions", "agent_day", "conversations_by_channel"} {
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM bi."+view).Scan(&n); err != nil || n == 0 {
			t.Errorf("reader: bi.%s: %d rows, %v", view, n, err)
		}
	}
	for _, stmt := range []string{
		"SELECT * FROM etl.cursor",
		"SELECT * FROM etl.run",
		"SELECT * FROM raw.payload",
		"INSERT INTO engage.dim_tenant (tenant_id, timezone) VALUES ('x', 'UTC')",
		"UPDATE engage.fact_conversation SET status = 'DONE'",
		"DELETE FROM engage.fact_message",
		"CREATE TABLE engage.x (i int)",
		"CREATE TABLE bi.x (i int)",
		"CREATE TABLE public.x (i int)",
		"CREATE VIEW bi.y AS SELECT 1",
	} {
		if _, err := conn.Exec(ctx, stmt); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("reader: %q: err = %v, want permission denied", stmt, err)
		}
	}
}

// TestTeamChangeIsCountedUnderTheTeamAtTheTime: ben moves from Support to
// Billing at noon (Vienna) of the simulated day. Syncs before and after the
// change give ben two versions, and his online ranges count under the team he
// was in when each started.
func TestTeamChangeIsCountedUnderTheTeamAtTheTime(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	// Two days of history: the simulator moves agents 1 and 4 to the next team
	// at noon of the middle generated day, which is then "today".
	morning := time.Date(2026, 11, 3, 7, 0, 0, 0, time.UTC) // 08:00 in Vienna, a Tuesday
	f := newFixture(t, engagesim.Faults{}, func(c *engagesim.Config) {
		c.Days, c.Now = 2, morning
		c.Tenants = []engagesim.TenantConfig{{ID: "acme", Token: "tok", Timezone: tz}}
	})
	streams, err := catalog.Select(catalog.All(), []string{"roles", "teams", "users", "agent_times_online", "conversations"})
	if err != nil {
		t.Fatal(err)
	}
	change := time.Date(2026, 11, 3, 11, 0, 0, 0, time.UTC) // 12:00 in Vienna
	for _, step := range []time.Duration{0, 5 * time.Hour, 8 * time.Hour} {
		f.sim.Advance(step)
		if res := f.sync(t, streams); !res.OK() {
			t.Fatalf("sync failed:\n%s", failures(res))
		}
	}
	observed := morning.Add(5 * time.Hour) // the sync after the change
	ctx := context.Background()
	bothSides := 0
	for _, agent := range []string{"ben@acme.example", "elena@acme.example"} {
		var versions int
		var teams string
		f.store.Pool().QueryRow(ctx, `SELECT count(*), string_agg(array_to_string(team_names, '+'), ' -> ' ORDER BY valid_from NULLS FIRST)
FROM bi.agents WHERE email = $1`, agent).Scan(&versions, &teams)
		if versions != 2 {
			t.Errorf("%s: %d versions (%s), want 2", agent, versions, teams)
			continue
		}
		rows, err := f.store.Pool().Query(ctx, `
SELECT f.started_at, t.name FROM engage.fact_agent_time f
JOIN engage.bridge_team_member b ON b.agent_key = f.agent_key JOIN engage.dim_team t ON t.team_key = b.team_key
WHERE f.user_id = $1 AND f.started_at >= '2026-11-03' ORDER BY 1`, agent)
		if err != nil {
			t.Fatal(err)
		}
		before, after := map[string]int{}, map[string]int{}
		for rows.Next() {
			var at time.Time
			var team string
			rows.Scan(&at, &team)
			switch {
			case at.Before(change):
				before[team]++
			case !at.Before(observed):
				after[team]++
			}
		}
		rows.Close()
		old, new, _ := strings.Cut(teams, " -> ")
		if len(before) > 1 || len(after) > 1 || (len(before) == 1 && before[old] == 0) || (len(after) == 1 && after[new] == 0) {
			t.Errorf("%s (%s): ranges before the change by team %v, after it %v", agent, teams, before, after)
		}
		if before[old] > 0 && after[new] > 0 {
			bothSides++
		}
	}
	if bothSides == 0 {
		t.Error("no moved agent worked both before and after the change: the test proves nothing")
	}
}

func TestMessageTextIsStoredOnlyWhenAskedFor(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	for _, store := range []bool{false, true} {
		f := newFixture(t, engagesim.Faults{}, func(c *engagesim.Config) { c.Days = 2 })
		f.runner.StoreMessageText = store
		if res := f.sync(t, []catalog.Stream{stream(t, "messages")}); !res.OK() {
			t.Fatalf("sync failed:\n%s", failures(res))
		}
		var total, withText, withLength int
		f.store.Pool().QueryRow(context.Background(), `SELECT count(*), count(message_text), count(*) FILTER (WHERE text_length > 0) FROM engage.fact_message`).Scan(&total, &withText, &withLength)
		if total == 0 || withLength == 0 {
			t.Fatalf("store=%v: %d messages, %d with a length", store, total, withLength)
		}
		if store && withText != total || !store && withText != 0 {
			t.Errorf("store_message_text=%v: %d of %d messages have their text", store, withText, total)
		}
	}
}
