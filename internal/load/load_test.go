package load_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/testdb"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// testdbNew is testdb.New for tests and benchmarks alike.
func testdbNew(tb testing.TB) string { return testdb.New(tb) }

func newStore(t *testing.T) *load.Store {
	t.Helper()
	s, err := load.Open(context.Background(), testdb.Migrated(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if err := s.MigrateUp(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s
}

var (
	d1 = civil.Date{Year: 2026, Month: 3, Day: 28}
	d2 = civil.Date{Year: 2026, Month: 3, Day: 29} // Vienna springs forward
	d3 = civil.Date{Year: 2026, Month: 3, Day: 30}
)

func reportBatch(rows ...transform.ReportRow) load.ReportBatch {
	return load.ReportBatch{Report: "agent", Metric: "ONLINE_TIME", GroupBy: "AGENT", Unit: "seconds",
		Aggregation: "sum", From: d1, To: d3, Rows: rows}
}

type factRow struct{ xmin, value string }

func facts(t *testing.T, s *load.Store) map[string]factRow {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(),
		`SELECT date_key::text || '/' || group_value, xmin::text, value::text FROM engage.fact_report_metric`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]factRow{}
	for rows.Next() {
		var k string
		var r factRow
		rows.Scan(&k, &r.xmin, &r.value)
		out[k] = r
	}
	return out
}

func commit(t *testing.T, s *load.Store, tenantKey int, b load.Batch, advance time.Time) int64 {
	t.Helper()
	n, err := s.CommitWindow(context.Background(), load.WindowCommit{
		TenantKey: tenantKey, TenantID: "t1", Stream: "agent_online_time_by_agent",
		Start: d1.Start(time.UTC), End: d3.Start(time.UTC), Raws: []load.Raw{load.Payload{Stream: "test", Start: d1.Start(time.UTC), End: d3.Start(time.UTC), FetchedAt: time.Now(), Body: []byte(`{"results":{}}`)}}, Batch: b, AdvanceTo: advance,
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestReportWindowReplaceWritesOnlyWhatChanged(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	s := newStore(t)
	tk, err := s.EnsureTenant(context.Background(), "t1", "Europe/Vienna")
	if err != nil {
		t.Fatal(err)
	}
	if n := commit(t, s, tk, reportBatch(
		transform.ReportRow{Date: d1, GroupValue: "a@x", Value: "100"},
		transform.ReportRow{Date: d1, GroupValue: "b@x", Value: "200"},
		transform.ReportRow{Date: d2, GroupValue: "a@x", Value: "300"},
	), time.Time{}); n != 3 {
		t.Errorf("first load wrote %d rows, want 3", n)
	}
	before := facts(t, s)

	// b@x vanished on d1, a@x changed on d2, a@x on d1 is unchanged.
	n := commit(t, s, tk, reportBatch(
		transform.ReportRow{Date: d1, GroupValue: "a@x", Value: "100.0"},
		transform.ReportRow{Date: d2, GroupValue: "a@x", Value: "301"},
	), time.Time{})
	if n != 2 {
		t.Errorf("replace wrote %d rows, want 2 (one delete, one update)", n)
	}
	after := facts(t, s)
	if _, ok := after["20260328/b@x"]; ok {
		t.Error("a group that vanished from the answer is still in the warehouse")
	}
	if after["20260329/a@x"].value != "301" {
		t.Errorf("changed value = %s, want 301", after["20260329/a@x"].value)
	}
	if after["20260328/a@x"] != before["20260328/a@x"] {
		t.Errorf("unchanged row was rewritten: %v -> %v", before["20260328/a@x"], after["20260328/a@x"])
	}
}

func TestCursorNeverMovesBackwards(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	s := newStore(t)
	tk, _ := s.EnsureTenant(context.Background(), "t1", "UTC")
	late := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	commit(t, s, tk, reportBatch(), late)
	commit(t, s, tk, reportBatch(), late.Add(-48*time.Hour))
	got, err := s.Cursor(context.Background(), "t1", "agent_online_time_by_agent")
	if err != nil || !got.Equal(late) {
		t.Errorf("cursor = %v (%v), want %v", got, err, late)
	}
}

func TestFailedWindowLeavesNothing(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	s := newStore(t)
	ctx := context.Background()
	tk, _ := s.EnsureTenant(ctx, "t1", "UTC")
	// A value the numeric column refuses makes the merge fail after the
	// staging COPY: nothing of the window may remain, raw payload and cursor included.
	_, err := s.CommitWindow(ctx, load.WindowCommit{
		TenantKey: tk, TenantID: "t1", Stream: "agent_online_time_by_agent",
		Start: d1.Start(time.UTC), End: d3.Start(time.UTC), Raws: []load.Raw{load.Payload{Stream: "test", Start: d1.Start(time.UTC), End: d3.Start(time.UTC), FetchedAt: time.Now(), Body: []byte(`{}`)}},
		Batch: reportBatch(
			transform.ReportRow{Date: d1, GroupValue: "a@x", Value: "1"},
			transform.ReportRow{Date: d2, GroupValue: "a@x", Value: "not-a-number"}),
		AdvanceTo: d3.Start(time.UTC),
	})
	if err == nil {
		t.Fatal("a bad row was accepted")
	}
	var facts, raws, cursors int
	s.Pool().QueryRow(ctx, `SELECT (SELECT count(*) FROM engage.fact_report_metric), (SELECT count(*) FROM raw.payload), (SELECT count(*) FROM etl.cursor)`).Scan(&facts, &raws, &cursors)
	if facts+raws+cursors != 0 {
		t.Errorf("half-written window: %d facts, %d raw payloads, %d cursors", facts, raws, cursors)
	}
}

func TestAgentTimesUpsertAndInferAgents(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	s := newStore(t)
	ctx := context.Background()
	tk, _ := s.EnsureTenant(ctx, "t1", "UTC")
	start := d2.Start(time.UTC).Add(8 * time.Hour)
	row := transform.AgentTimeRow{UserID: "a@x", Kind: "online", Start: start, End: start.Add(time.Hour), Seconds: "3600", Date: d2}
	b := load.AgentTimeBatch(d1, d3, []transform.AgentTimeRow{row, row}) // duplicates collapse
	if n := commit(t, s, tk, b, time.Time{}); n != 1 {
		t.Errorf("wrote %d rows, want 1", n)
	}
	row.End, row.Seconds = start.Add(2*time.Hour), "7200" // the range grew
	if n := commit(t, s, tk, load.AgentTimeBatch(d1, d3, []transform.AgentTimeRow{row}), time.Time{}); n != 1 {
		t.Errorf("update wrote %d rows, want 1", n)
	}
	var seconds, email string
	err := s.Pool().QueryRow(ctx, `SELECT seconds::text, agent_email FROM bi.agent_time`).Scan(&seconds, &email)
	if err != nil || seconds != "7200" || email != "a@x" {
		t.Errorf("bi.agent_time = %s %s (%v)", seconds, email, err)
	}
}

func TestMigrationsGoDownAndUpAgain(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	s := newStore(t)
	m, err := s.NewMigrator()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if v, dirty, err := m.Version(); err != nil || dirty || v != load.LatestVersion() {
		t.Fatalf("version = %d dirty=%v err=%v, want %d", v, dirty, err, load.LatestVersion())
	}
	if err := m.Down(0); err != nil {
		t.Fatal(err)
	}
	var n int
	s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM information_schema.schemata WHERE schema_name IN ('engage','etl','raw','bi')`).Scan(&n)
	if n != 0 {
		t.Errorf("%d warehouse schemas left after migrate down", n)
	}
	if err := m.Up(); err != nil {
		t.Fatal(err)
	}
}

func TestRedactDSN(t *testing.T) {
	for _, dsn := range []string{
		"postgres://user:s3cret@db:5432/x?sslmode=disable",
		"postgres://user@db/x?password=s3cret",
		"host=db user=u password=s3cret dbname=x",
		"host=db password='s3 cret' dbname=x",
	} {
		if got := load.RedactDSN(dsn); strings.Contains(got, "s3") {
			t.Errorf("RedactDSN(%q) = %q still holds the password", dsn, got)
		}
	}
}

func TestDaysOutsideTheCalendarAreAdded(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	s := newStore(t)
	ctx := context.Background()
	tk, _ := s.EnsureTenant(ctx, "t1", "UTC")
	old := civil.Date{Year: 1999, Month: 12, Day: 30}
	start := old.Start(time.UTC).Add(9 * time.Hour)
	rows := []transform.AgentTimeRow{{UserID: "a@x", Kind: "online", Start: start, End: start.Add(time.Hour), Seconds: "3600", Date: old}}
	if _, err := s.CommitWindow(ctx, load.WindowCommit{TenantKey: tk, TenantID: "t1", Stream: "agent_times_online",
		Start: old.Start(time.UTC), End: old.AddDays(2).Start(time.UTC), Raws: []load.Raw{load.Payload{Stream: "test", Start: d1.Start(time.UTC), End: d3.Start(time.UTC), FetchedAt: time.Now(), Body: []byte(`[]`)}},
		Batch: load.AgentTimeBatch(old, old.AddDays(2), rows)}); err != nil {
		t.Fatalf("a day before 2000: %v", err)
	}
	var name string
	if err := s.Pool().QueryRow(ctx, `SELECT day_name FROM engage.dim_date WHERE date_key = 19991230`).Scan(&name); err != nil || name != "Thursday" {
		t.Errorf("dim_date 1999-12-30: %q %v", name, err)
	}
}
