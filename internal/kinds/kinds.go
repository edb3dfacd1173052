// Package kinds declares each kind of stream once. A Def says everything
// the rest of the code asks of a kind: the shape of its answers and how
// they decode into rows (its transform and the batch of its table), how its
// windows are planned, how long it takes (its cost rank), how a window is
// fetched and committed (whole, in chunks, or per conversation), which kept
// answers a rebuild replays and in which lane, what a check names when the
// API refuses its request, whether verify compares its buckets, which
// reports count what its rows are (Reconciles, reconcile.go), whether an API
// may cut its answers at a cap (Capped), whether its rows change while a
// conversation is open (Reopens), whose clock moves its cursor (APIClock),
// and when a first load reaches it (FirstLoad).
//
// The runner (internal/pipeline) asks Of(kind) and never switches on a
// kind. Adding a kind is one file here with its Def, one entry in defs, its
// catalog streams, its transform, table and migration, and their tests.
//
// Decoding is pure: an answer's body and its Source (dialect, zone, stream,
// window) give the same rows every time, whether the body was just fetched,
// pushed as a webhook or read back from schema raw.
package kinds

import (
	"fmt"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
)

// Def is a kind of stream.
type Def struct {
	Kind catalog.Kind
	// Shape is how the API answers it: in one body or page by page, and
	// the element kind its answers hold (catalog.Elements).
	Shape    extract.Shape
	Planning Planning
	Fetch    Fetch
	// Cost ranks how long a stream of the kind takes to load, longest
	// first, so a phase starts its long streams first.
	Cost   int
	Replay Replay
	// ReplaysWebhooks: a rebuild of the kind replays the webhook
	// deliveries with its answers, in the order they came (they change its
	// rows).
	ReplaysWebhooks bool
	Lane            Lane
	// RequestKeys are the config keys that shape its requests, named when
	// the API answers 400; "": the stream's own path, body, metric and
	// group_by.
	RequestKeys string
	// Moment: an answer is a figure of its moment (realtime). It has no
	// history to backfill, is never up to date, and each answer is kept
	// under its minute rather than replacing the day's previous one.
	Moment bool
	// Bucketed: its answers are bucketed report values, which verify asks
	// again and compares with the warehouse.
	Bucketed bool
	// Reopens: its rows change while their conversation is open (status,
	// end, counts, messages), so a sync also reads again the days before
	// its lookback that still hold open conversations, back to
	// sync.open_horizon (pipeline's Sync), until they close.
	Reopens bool
	// APIClock: its cursor advances to the newest event time its answers
	// held, the API's clock, never to the window's end, ours: an event the
	// API records late, or a server whose clock is behind, is still read
	// by the next window, which starts a lookback before that time.
	APIClock bool
	// Reconciles are the bucketed reports that count what its rows are
	// (reconcile.go): checked per day after each sync, kept in
	// etl.reconciliation, and a day that disagrees after the lookback
	// fails the stream's run.
	Reconciles []Reconciliation
	// Counts is the pair whose report counts what a window of the kind
	// asks, when not the first of Reconciles (see Counter).
	Counts Reconciliation
	// Capped: its answer is a bare array with no paging, which an API may
	// cut at a limit of its own without saying so (CONTRACT.md §4). An
	// answer as long as the stream's max_elements, or, with none set, as
	// long as another window's answer (two answers stopping at the same
	// length), is taken for cut: the window is fetched again in halves of
	// time until no piece is (see pipeline's fetchWhole).
	Capped bool
	// FirstLoad says when a first sync or a backfill loads its windows
	// (pipeline's rounds): figures for a dashboard of the recent days
	// first, then the detail rows of those days, then older history newest
	// first; a kind of one request per conversation comes after all that.
	FirstLoad FirstLoad
	// Join makes one window's rows of the rows of its pieces, when the API
	// refuses the window as too long (a 400) and it is asked again in
	// halves (pipeline's shorter.go). Each piece is a window of its own to
	// the raw store and a rebuild. nil: a Capped kind's pieces join as one
	// array (its answer is a bare array); any other kind's 400 fails.
	Join func(parts []Decoded) Decoded
	// Decode turns one answer into rows: a window's (a body, or its pages
	// as one JSON array), or, for FetchPerConversation, one conversation's.
	Decode func(src Source, body []byte) (Decoded, error)
}

// Counter is the reconciliation pair whose report counts, per local day,
// what a window of the kind holds: the elements of its answers (the chat
// report's conversations for the conversation list), or, for
// FetchPerConversation, the conversations it asks one request each
// (Counts). A long load sizes its detail windows by it, and the estimate
// counts requests by it. ok is false for a kind no report counts (or whose
// report counts seconds, not elements).
func (d Def) Counter() (pair Reconciliation, ok bool) {
	if d.Counts.Report != "" {
		return d.Counts, true
	}
	for _, p := range d.Reconciles {
		if !p.Spans {
			return p, true
		}
	}
	return Reconciliation{}, false
}

// Planning says how a stream's work is cut into windows.
type Planning int

const (
	// PlanDays: windows of whole local days, from the cursor (minus lookback) through today.
	PlanDays Planning = iota
	// PlanSnapshot: one window, the state at the moment of the sync (lists, realtime).
	PlanSnapshot
	// PlanSince: one window from the cursor (minus lookback) to now (activity logs).
	PlanSince
)

// FirstLoad ranks a kind within a long load (a first sync, a backfill).
type FirstLoad int

const (
	// FirstSummary: reports, lists and figures of a moment, a few requests
	// for the recent days; a kind says nothing else unless it is a detail.
	FirstSummary FirstLoad = iota
	// FirstDetail: detail rows (one per conversation, visit, event), after
	// the summaries of the recent days.
	FirstDetail
	// FirstLast: a request per conversation, after every other stream's
	// history.
	FirstLast
)

// Fetch says how a window is fetched and committed.
type Fetch int

const (
	// FetchWhole: the window's answer (one body, or a list's pages) is
	// decoded whole and commits with the cursor advance.
	FetchWhole Fetch = iota
	// FetchChunked: the window's pages commit in chunks of bounded size as
	// they arrive, the cursor advance with the last (an activity log over
	// a long range).
	FetchChunked
	// FetchPerConversation: the window's conversation list, then each
	// conversation's answer (messages).
	FetchPerConversation
)

// Replay says which kept answers of a stream a rebuild replays.
type Replay int

const (
	// ReplayWindows: each window's answers, skipping those a later answer
	// of the stream replaced whole.
	ReplayWindows Replay = iota
	// ReplayLatest: the latest answer only: a list that is a state as a whole.
	ReplayLatest
	// ReplayEvery: every answer, each a record of its own (every user list
	// rebuilds the agents' history; every realtime snapshot and activity
	// chunk holds rows no other has).
	ReplayEvery
	// ReplayConversations: the conversations' own answers (messages).
	ReplayConversations
)

// Lane is a rebuild's committer. Answers commit in the order they came
// within a lane, while the lanes, which write different tables, commit side
// by side. Dimensions stay in one lane in their order (agent versions
// follow roles and teams).
type Lane int

const (
	// LaneConversations: conversations, their messages and the webhooks
	// that change both, so they replay in the order they came.
	LaneConversations Lane = iota
	// LaneActivity: the activity logs.
	LaneActivity
	// LaneOther: every other stream.
	LaneOther
	// Lanes counts the lanes.
	Lanes
)

// Source is what an answer's rows depend on besides its body.
type Source struct {
	Dialect   catalog.Dialect
	Location  *time.Location
	Stream    catalog.Stream
	Window    extract.Window
	StoreText bool // keep message text
}

// Decoded is an answer turned into rows.
type Decoded struct {
	Batch    load.Batch
	Rows     int
	Elements int       // the answer's array elements (Capped kinds); an element may make several rows
	Newest   time.Time // APIClock kinds: the newest event time of the answer; zero when it held none
	Warnings []string  // optional fields no element had (see decode.Remapper.Missing)
	Out      any       // the rows as transform made them ([]transform.XRow), for the decoders' fuzz test
}

// defs lists every kind, one file each.
var defs = []Def{
	report, realtime, activity, agentTimes, conversations, conversationAgents, messages, visits, cobrowse,
	users, teams, roles, customers, rules, openingHours, slaRules,
}

// Of returns the definition of a kind. Every kind the catalog declares has
// one (a test checks it); an unknown kind is a programming error.
func Of(k catalog.Kind) Def {
	for _, d := range defs {
		if d.Kind == k {
			return d
		}
	}
	panic(fmt.Sprintf("kinds: no definition of kind %q", k))
}

// All returns every kind's definition.
func All() []Def { return append([]Def(nil), defs...) }

// Decode turns one answer of the source's stream into rows.
func Decode(src Source, body []byte) (Decoded, error) {
	return Of(src.Stream.Kind).Decode(src, body)
}
