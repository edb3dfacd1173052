package transform

import (
	"fmt"
	"strconv"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// AgentTimeRow is one online or logged-in range: fact_agent_time's grain.
type AgentTimeRow struct {
	UserID     string
	Kind       string // online or logged_in
	Start, End time.Time
	Seconds    string     // End-Start in decimal seconds, truncated to the millisecond
	Date       civil.Date // tenant-local day of Start
}

// AgentTimeRows flattens one agent's ranges. Ranges arrive unsorted and keep
// their order; the loader de-duplicates by natural key.
func AgentTimeRows(kind string, loc *time.Location, e engage.AgentTimes) ([]AgentTimeRow, error) {
	if e.UserID == "" {
		return nil, fmt.Errorf("agent times entry without userId")
	}
	rows := make([]AgentTimeRow, 0, len(e.TimeRanges))
	for _, r := range e.TimeRanges {
		if r.Start.IsZero() || r.End.IsZero() {
			return nil, fmt.Errorf("agent %s: time range without start or end", e.UserID)
		}
		if r.End.Before(r.Start) {
			return nil, fmt.Errorf("agent %s: time range ends (%s) before it starts (%s)", e.UserID, r.End.Format(time.RFC3339), r.Start.Format(time.RFC3339))
		}
		ms := r.End.Sub(r.Start).Milliseconds()
		rows = append(rows, AgentTimeRow{
			UserID:  e.UserID,
			Kind:    kind,
			Start:   r.Start.UTC(),
			End:     r.End.UTC(),
			Seconds: strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64),
			Date:    civil.Of(r.Start, loc),
		})
	}
	return rows, nil
}
