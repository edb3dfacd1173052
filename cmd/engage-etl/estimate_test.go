package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/testdb"
)

// TestEstimateSaysWhatABackfillWillAskBeforeItStarts: engage-etl estimate
// prints the requests per stream group and the time at the tenant's pace;
// a backfill prints the same figures before it starts, and the status of
// its streams then shows how many it asked.
func TestEstimateSaysWhatABackfillWillAskBeforeItStarts(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	env := map[string]string{
		"DATABASE_URL": testdb.Migrated(t), "ENGAGE_BASE_URL": startSim(t), "ENGAGE_API_TOKEN": "right-token",
		"ENGAGE_TIMEZONE": "Europe/Vienna", "ENGAGE_TENANT_ID": "acme", "ENGAGE_REQUESTS_PER_SECOND": "1000",
	}
	from := time.Now().AddDate(0, 0, -4).Format("2006-01-02")
	to := time.Now().AddDate(0, 0, 1).Format("2006-01-02")
	r := cli(t, env, "estimate", "--from", from, "--to", to, "--streams", "chat_*,conversations,messages")
	if r.code != exitOK {
		t.Fatalf("estimate: %+v", r)
	}
	total := regexp.MustCompile(`Estimate of the backfill: (\d+) requests`).FindStringSubmatch(r.stdout)
	if total == nil || !regexp.MustCompile(`(?m)^\s+messages\s+1\s+5\s+\d+`).MatchString(r.stdout) ||
		!regexp.MustCompile(`(?m)^\s+reports\s+\d+\s+\d+\s+\d+`).MatchString(r.stdout) || !strings.Contains(r.stdout, "1000 requests/s") {
		t.Fatalf("estimate's table: %s", r.stdout)
	}
	want, _ := strconv.Atoi(total[1])
	b := cli(t, env, "backfill", "--from", from, "--to", to, "--streams", "chat_*,conversations,messages")
	if b.code != exitOK || !strings.Contains(b.stderr, "Estimate of the backfill: "+total[1]+" requests") {
		t.Fatalf("the backfill did not say the same estimate first: %+v", b)
	}
	asked := count(t, env["DATABASE_URL"], `SELECT sum(requests)::int FROM etl.run_stream`)
	if asked < want*85/100 || asked > want*115/100 {
		t.Errorf("estimated %d requests, the backfill asked %d", want, asked)
	}
	if n := count(t, env["DATABASE_URL"], `SELECT count(*) FROM etl.run WHERE (estimate->>'requests')::int = `+total[1]); n != 1 {
		t.Errorf("%d runs keep the estimate in their history, want the backfill", n)
	}
}
