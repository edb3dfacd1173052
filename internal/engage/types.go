package engage

import "time"

// ReportResponse is the answer of a bucketed report (CONTRACT.md §3): local day
// "yyyy/MM/dd" -> group value (or the metric name when ungrouped) -> value.
type ReportResponse struct {
	Results map[string]map[string]Decimal `json:"results"`
}

// TimeRange is one interval of an agent time report.
type TimeRange struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// AgentTimes is one element of /report/agent/times/online and /loggedin.
type AgentTimes struct {
	UserID     string      `json:"userId"`
	TimeRanges []TimeRange `json:"timeRanges"`
	SumMinutes int64       `json:"sumMinutes"`
}
