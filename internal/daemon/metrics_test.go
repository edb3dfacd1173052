package daemon_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/engage-etl/engage-etl/internal/daemon"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/testdb"
)

// /metrics serves what it can while the warehouse is down: process and API
// metrics, engage_etl_warehouse_up 0 and no lag; never a failed scrape.
func TestMetricsWhileTheWarehouseIsDown(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.Migrated(t)
	store := openStore(t, dsn)
	if _, err := store.Pool().Exec(ctx, `INSERT INTO etl.cursor (tenant_id, stream, watermark) VALUES ('acme', 'conversations', now() - interval '1 hour')`); err != nil {
		t.Fatal(err)
	}
	if _, err := store.Pool().Exec(ctx, `INSERT INTO etl.reconciliation (tenant_id, pair, day, detail_stream, report_stream, detail_value, report_value, groups, groups_off, status)
VALUES ('acme', 'conversations', '2026-11-01', 'conversations', 'chat_conversations', 100, 263, 1, 1, 'mismatch'),
       ('acme', 'conversations', '2026-11-02', 'conversations', 'chat_conversations', 288, 288, 1, 0, 'ok')`); err != nil {
		t.Fatal(err)
	}
	m := daemon.NewMetrics(store)
	m.APIObserver("acme")(engage.Attempt{Status: 200})
	srv := httptest.NewServer((&daemon.Daemon{Store: store, Metrics: m}).Handler())
	defer srv.Close()
	get := func() (int, string) {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	code, body := get()
	for _, want := range []string{"engage_etl_warehouse_up 1", `engage_etl_stream_lag_seconds{stream="conversations",tenant="acme"}`,
		`engage_etl_reconciliation_days{pair="conversations",status="mismatch",tenant="acme"} 1`,
		`engage_etl_reconciliation_days{pair="conversations",status="ok",tenant="acme"} 1`} {
		if code != http.StatusOK || !strings.Contains(body, want) {
			t.Errorf("warehouse up: %d, body lacks %q", code, want)
		}
	}

	// The warehouse goes away: its database is dropped, every session of the
	// pool cut, and no new one can start. A real server, really refusing.
	u, _ := url.Parse(dsn)
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	admin, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	code, body = get()
	if code != http.StatusOK {
		t.Fatalf("scrape with the warehouse down: %d\n%s", code, body)
	}
	for _, want := range []string{"engage_etl_warehouse_up 0", `engage_etl_api_requests_total{status="200",tenant="acme"} 1`, "process_cpu_seconds_total", "go_goroutines"} {
		if !strings.Contains(body, want) {
			t.Errorf("warehouse down: the scrape lacks %q", want)
		}
	}
	if strings.Contains(body, "engage_etl_stream_lag_seconds{") {
		t.Error("warehouse down: lag series served, want them left out (unknown)")
	}
}
