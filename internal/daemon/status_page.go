package daemon

import (
	"context"
	_ "embed"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/config"
	"github.com/engage-etl/engage-etl/internal/load"
)

//go:embed status_page.html
var statusPageHTML string

// statusTemplate is html/template, so an error message from the API or the
// database is shown as text, never as markup.
var statusTemplate = template.Must(template.New("status").Parse(statusPageHTML))

// recentRunsShown is how many runs the status page lists.
const recentRunsShown = 20

// statusRow is one tenant stream on the status page.
type statusRow struct {
	Tenant, Stream, Group string
	Cursor, Lag, LastRun  string
	Mode, Result, Error   string
	Rows                  int64
	Late, Failed          bool
}

type runningRow struct {
	load.Running
	Since string
}

type runRow struct {
	load.RunSummary
	Started, Took string
}

type statusData struct {
	Now        string
	Refresh    int
	Rows       []statusRow
	Attention  []statusRow // failed or late, shown first
	Tenants    int
	Failed     int
	Late       int
	Runs       []runRow
	Reconciled []load.ReconcileSummary
	Running    []runningRow // which daemon holds what, now
	Mismatched int          // tenant pairs with a day that disagrees after the lookback
	LoadFailed string
}

// statusPage shows at a glance which streams are late or failing: the same
// data as `engage-etl status`, plus the recent runs, refreshed by the browser.
func (d *Daemon) statusPage(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	data, err := d.statusData(ctx, d.now())
	if err != nil {
		d.Log.Error("status page", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		// The page still renders, saying what is wrong, and keeps refreshing.
		data = &statusData{Now: time.Now().UTC().Format(timeLayout), Refresh: 30, LoadFailed: "warehouse unreachable or not migrated: see the daemon's log"}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := statusTemplate.Execute(w, data); err != nil {
		d.Log.Error("status page", "error", err)
	}
}

// now is the runner's clock, the one cursors are set by, so a lag is
// measured on the clock that made it (a simulator's, in tests and demos).
func (d *Daemon) now() time.Time {
	if d.RunnerConfig.Now != nil {
		return d.RunnerConfig.Now()
	}
	return time.Now()
}

const timeLayout = "2006-01-02 15:04:05Z"

func (d *Daemon) statusData(ctx context.Context, now time.Time) (*statusData, error) {
	statuses, err := d.Store.Status(ctx)
	if err != nil {
		return nil, err
	}
	runs, err := d.Store.RecentRuns(ctx, recentRunsShown)
	if err != nil {
		return nil, err
	}
	reconciled, err := d.Store.ReconcileSummaries(ctx)
	if err != nil {
		return nil, err
	}
	running, err := d.Store.RunningStreams(ctx)
	if err != nil {
		return nil, err
	}
	groupOf := map[string]string{}
	for _, s := range d.Streams {
		groupOf[s.Name] = s.Group
	}
	data := &statusData{Now: now.UTC().Format(timeLayout), Refresh: 30, Reconciled: reconciled}
	for _, r := range running {
		data.Running = append(data.Running, runningRow{Running: r, Since: r.StartedAt.UTC().Format(timeLayout)})
	}
	for _, r := range reconciled {
		if r.Mismatch > 0 {
			data.Mismatched++
		}
	}
	tenants := map[string]bool{}
	for _, s := range statuses {
		tenants[s.TenantID] = true
		row := statusRow{Tenant: s.TenantID, Stream: s.Stream, Group: groupOf[s.Stream], Cursor: "never loaded", Lag: "-",
			LastRun: "never", Mode: dash(s.LastMode), Result: dash(s.LastStatus), Rows: s.LastRows, Error: s.LastError,
			Failed: s.LastStatus == "failed"}
		if !s.Cursor.IsZero() {
			lag := now.Sub(s.ReadThrough())
			row.Cursor = s.Cursor.UTC().Format(timeLayout)
			row.Lag = lag.Round(time.Second).String()
			row.Late = lag > d.lateAfter(row.Group, now)
		}
		if !s.LastRunAt.IsZero() {
			row.LastRun = s.LastRunAt.UTC().Format(timeLayout)
		}
		data.Rows = append(data.Rows, row)
		if row.Failed || row.Late {
			data.Attention = append(data.Attention, row)
		}
		if row.Failed {
			data.Failed++
		}
		if row.Late {
			data.Late++
		}
	}
	data.Tenants = len(tenants)
	for _, r := range runs {
		rr := runRow{RunSummary: r, Started: r.StartedAt.UTC().Format(timeLayout), Took: "running"}
		if !r.FinishedAt.IsZero() {
			rr.Took = r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond).String()
		}
		data.Runs = append(data.Runs, rr)
	}
	return data, nil
}

// lateAfter is the lag past which a stream of group counts as late: two of
// its schedule's intervals and five minutes for the run itself, the same
// rule as deploy/prometheus/alerts.yml. A group without a schedule here (a
// stream this daemon does not run) is late after a day.
func (d *Daemon) lateAfter(group string, now time.Time) time.Duration {
	spec, ok := d.Schedules[group]
	if !ok {
		return 24 * time.Hour
	}
	sched, err := config.CronParser.Parse(spec)
	if err != nil {
		return 24 * time.Hour
	}
	next := sched.Next(now)
	return 2*sched.Next(next).Sub(next) + 5*time.Minute
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
