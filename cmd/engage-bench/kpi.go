package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// targetKPI bounds a KPI view's answer to a dashboard's typical query
// (issue 21): the last 90 days, grouped by day or hour.
const targetKPI = time.Second

// kpiQueries are a dashboard's questions to each KPI view of bi, over the
// last 90 days ($2) of the tenant ($1).
var kpiQueries = []struct{ view, sql string }{
	{"bi.conversation_response_times", `SELECT day, avg(first_response_business_seconds), avg(first_response_seconds) FROM bi.conversation_response_times WHERE tenant_id = $1 AND day >= $2 GROUP BY 1`},
	{"bi.response_time_buckets", `SELECT bucket_order, bucket, sum(conversations) FROM bi.response_time_buckets WHERE tenant_id = $1 AND basis = 'business' AND day >= $2 GROUP BY 1, 2`},
	{"bi.service_level", `SELECT day, sum(within_target)::numeric / NULLIF(sum(answered), 0) FROM bi.service_level WHERE tenant_id = $1 AND day >= $2 GROUP BY 1`},
	{"bi.volume_by_local_hour", `SELECT isodow, hour, sum(conversations) FROM bi.volume_by_local_hour WHERE tenant_id = $1 AND day >= $2 GROUP BY 1, 2`},
	{"bi.backlog", `SELECT day, open_conversations FROM bi.backlog WHERE tenant_id = $1 AND day >= $2`},
	{"bi.agent_utilization", `SELECT day, avg(utilization) FROM bi.agent_utilization WHERE tenant_id = $1 AND day >= $2 GROUP BY 1`},
}

type kpiTiming struct {
	view   string
	median time.Duration
	runs   []time.Duration
}

var psqlTime = regexp.MustCompile(`(?m)^Time: ([0-9.]+) ms`)

// kpis times each KPI query -runs times on the large warehouse, through
// psql (\timing: the server's answer, its rows sent to psql included).
func (b *bench) kpis(ctx context.Context) error {
	db := b.dbName("full")
	since := civil.Of(b.res.simNow, time.UTC).AddDays(-90).String()
	for _, q := range kpiQueries {
		sql := strings.NewReplacer("$1", "'"+tenantID+"'", "$2", "'"+since+"'").Replace(q.sql)
		args := []string{"-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", b.dbURL(db), "-c", `\timing on`}
		for range b.o.runs {
			args = append(args, "-c", sql)
		}
		out, err := exec.CommandContext(ctx, "psql", args...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s: %w: %s", q.view, err, out)
		}
		t := kpiTiming{view: q.view}
		for _, m := range psqlTime.FindAllStringSubmatch(string(out), -1) {
			ms, _ := strconv.ParseFloat(m[1], 64)
			t.runs = append(t.runs, time.Duration(ms*float64(time.Millisecond)))
		}
		if len(t.runs) != b.o.runs {
			return fmt.Errorf("%s: psql printed %d timings, want %d", q.view, len(t.runs), b.o.runs)
		}
		t.median = t.runs[medianIndex(t.runs, func(d time.Duration) time.Duration { return d })]
		b.res.kpis = append(b.res.kpis, t)
		b.logf("%s, last 90 days: median %s of %d runs", q.view, t.median.Round(time.Millisecond), b.o.runs)
	}
	return nil
}
