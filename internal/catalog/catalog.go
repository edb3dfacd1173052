// Package catalog declares every stream engage-etl loads, as data.
//
// A stream is one request shape (endpoint, method, body template, metric,
// groupBy) plus how to window it and where its rows go. The agent report is
// declared in agent.go, the other report families in reports.go, the detail
// reports, lists and activity logs in details.go; All lists them explicitly. The
// parts of the Engage contract that are ASSUMED (paths, metric names, bodies)
// live only here, and a user overrides them from the config file with
// Override, without a rebuild.
//
// The catalog holds no loops over the network, no retries and no SQL: the
// pipeline reads a Stream and does the work.
package catalog

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
)

// Kind names a kind of stream: internal/kinds declares, once per kind, how
// its answers are fetched, decoded, transformed, loaded and rebuilt.
type Kind string

const (
	// KindReport is a bucketed report: one metric, one groupBy, values per local day.
	KindReport Kind = "report"
	// KindAgentTimes is a detail array of agent online or logged-in ranges.
	KindAgentTimes         Kind = "agent_times"
	KindConversations      Kind = "conversations"
	KindConversationAgents Kind = "conversation_agents"
	// KindMessages lists a window's conversations (IDsPath), then fetches
	// each conversation's messages (Path) in parallel.
	KindMessages Kind = "messages"
	KindVisits   Kind = "visits"
	KindCobrowse Kind = "cobrowse"
	// KindRealtime is a snapshot of realtime figures, taken at each sync.
	KindRealtime  Kind = "realtime"
	KindUsers     Kind = "users"
	KindTeams     Kind = "teams"
	KindCustomers Kind = "customers"
	KindRoles     Kind = "roles"
	KindRules     Kind = "rules"
	// KindOpeningHours and KindSLARules are plain arrays (not paged), each
	// a state as a whole: the hours and targets business time counts in.
	KindOpeningHours Kind = "opening_hours"
	KindSLARules     Kind = "sla_rules"
	// KindActivity pages an activity log newest first back to the cursor.
	KindActivity Kind = "activity"
)

// Unit of a report metric.
type Unit string

const (
	Seconds     Unit = "seconds"
	Count       Unit = "count"
	MeanSeconds Unit = "mean_seconds"
)

// Aggregation says how values of a unit combine across days or groups.
func (u Unit) Aggregation() string {
	if u == MeanSeconds {
		return "mean"
	}
	return "sum"
}

// Body templates. A JSON string that is exactly "$dateFilter" becomes the
// dialect's date filter of the window (see Dialect), "$from" and "$to" the
// window's bounds as the dialect encodes them, "$metric" and "$groupBy" the
// stream's metric and groupBy; an object member whose value is "$groupBy" is
// dropped when the stream has no groupBy.
const (
	ReportBody     = `{"metrics":[{"metricName":"$metric","groupBy":"$groupBy"}],"dateFilter":"$dateFilter"}`
	DateFilterBody = `"$dateFilter"`
)

// Stream is one declared extraction.
type Stream struct {
	Name   string // unique, e.g. agent_online_time_by_agent
	Kind   Kind
	Method string
	Path   string // below the API base URL
	Body   string // request template, see ReportBody

	// Report streams.
	Report  string // report family, e.g. agent or session/metrics
	Metric  string
	GroupBy string // "" when the report is not grouped
	Unit    Unit

	// Agent time streams: "online" or "logged_in".
	TimeKind string
	// Activity streams: the log (call, livechat, status, liveview).
	Log string
	// Message streams: the conversation list whose ids are fetched.
	IDsMethod, IDsPath string
	// Paged lists and logs: elements per page; 0 takes the dialect's.
	PageSize int

	WindowDays int // local days per request
	// MaxElements is the most elements the API puts in one unpaged detail
	// answer (kinds.Def.Capped); an answer this long is taken for cut and
	// its window fetched again in halves. 0: not known, found out when two
	// answers stop at the same length.
	MaxElements int
	// SplitDownTo is the shortest piece a cut window is split into; a piece
	// that short still at the cap fails the window. 0: DefaultSplitDownTo.
	SplitDownTo time.Duration
	Lookback    time.Duration // re-read before the cursor on every sync
	Group       string        // schedule group
	// Phase orders streams within a tenant: dimensions load before the
	// facts that look them up.
	Phase int
	// After names streams of the same phase this one starts after, when
	// they are loaded in the same run: a fact keyed by another.
	After    []string
	Disabled bool // left out by Apply (config: enabled: false)
	// Reopens: a report whose buckets count conversations by the day they
	// started, so an old day's figure changes when a conversation of it
	// closes late; a sync reads the days with open conversations again
	// (see kinds.Def.Reopens).
	Reopens bool
}

// DefaultSplitDownTo is the shortest piece a cut detail window is split
// into unless streams.<name>.split_down_to says otherwise: a quarter of an
// hour holds more than a cap of 100 only on a very busy tenant.
const DefaultSplitDownTo = 15 * time.Minute

// Report declares a bucketed report family: every metric with every allowed
// groupBy ("" for ungrouped) becomes a stream.
type Report struct {
	Name     string
	Path     string
	Metrics  []Metric
	GroupBys []string
	// ByConversationStart: its buckets count conversations by the day
	// they started (Stream.Reopens).
	ByConversationStart bool
}

// Metric is a report metric and its unit.
type Metric struct {
	Name string
	Unit Unit
}

// Phases, in the order a tenant's streams load. Agent versions are derived
// from roles, teams and users together, so those load one after another;
// facts look dimensions up, so they follow (facts keyed by other facts say
// so with Stream.After).
const (
	PhaseRoles = iota
	PhaseTeams
	PhaseDimensions
	PhaseFacts
)

// Defaults shared by the families.
const (
	reportWindowDays = 92 // a report answer is small (days × groups): a year in four requests; shorter where the API refuses (pipeline's shorter.go)
	reportLookback   = 48 * time.Hour
	timesWindowDays  = 31 // a few ranges per agent and day: a month of a hundred agents is some thousands
	timesLookback    = 24 * time.Hour
	chatLookback     = 72 * time.Hour
	activityLookback = time.Hour
)

// Streams expands the report into one stream per metric and groupBy.
func (r Report) Streams() []Stream {
	var out []Stream
	for _, m := range r.Metrics {
		for _, g := range r.GroupBys {
			name := strings.ReplaceAll(r.Name, "/", "_") + "_" + strings.ToLower(m.Name)
			if g != "" {
				name += "_by_" + strings.ToLower(g)
			}
			out = append(out, Stream{
				Name: name, Kind: KindReport, Method: "POST", Path: r.Path, Body: ReportBody,
				Report: r.Name, Metric: m.Name, GroupBy: g, Unit: m.Unit,
				WindowDays: reportWindowDays, Lookback: reportLookback, Group: "reports", Phase: PhaseFacts,
				Reopens: r.ByConversationStart,
			})
		}
	}
	return out
}

// All returns every declared stream, in a stable order.
func All() []Stream {
	var out []Stream
	for _, family := range [][]Stream{
		agentStreams(),
		chatReport.Streams(),
		sessionReport.Streams(),
		sessionMetricsReport.Streams(),
		visitReport.Streams(),
		cobrowseReport.Streams(),
		conferenceReport.Streams(),
		ruleReport.Streams(),
		messageReport.Streams(),
		detailStreams(),
		listStreams(),
		activityStreams(),
	} {
		out = append(out, family...)
	}
	return out
}

// Select returns the streams whose names match any of the patterns (path.Match
// globs such as agent_*). No pattern selects all. A pattern matching nothing
// is an error, so a typo is not a silent no-op.
func Select(streams []Stream, patterns []string) ([]Stream, error) {
	if len(patterns) == 0 {
		return streams, nil
	}
	var out []Stream
	for _, p := range patterns {
		if _, err := path.Match(p, ""); err != nil {
			return nil, fmt.Errorf("stream pattern %q: %w", p, err)
		}
		matched := false
		for _, s := range streams {
			if ok, _ := path.Match(p, s.Name); ok {
				matched = true
				if !slices.ContainsFunc(out, func(o Stream) bool { return o.Name == s.Name }) {
					out = append(out, s)
				}
			}
		}
		if !matched {
			return nil, &KeyError{Key: "--streams", Problem: fmt.Sprintf("no stream matches %q", p), Fix: suggest(p, streamNames(streams), "run 'engage-etl streams' for the list")}
		}
	}
	return out, nil
}
