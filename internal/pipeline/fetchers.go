package pipeline

import (
	"context"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// fetched is one window, extracted and transformed, ready to commit.
type fetched struct {
	raw      []byte
	batch    load.Batch
	received int
}

// fetcher extracts and transforms one window of a job's stream of its Kind.
type fetcher func(ctx context.Context, r *Runner, j *job, w extract.Window) (fetched, error)

// fetchers has one entry per catalog.Kind: the only per-kind code of the
// runner, each a line of wiring from a decoder to a transform to a batch.
var fetchers = map[catalog.Kind]fetcher{
	catalog.KindReport: fetchReport,
	catalog.KindAgentTimes: arrayOf(func(r *Runner, t Tenant, s catalog.Stream, e engage.AgentTimes) ([]transform.AgentTimeRow, error) {
		return transform.AgentTimeRows(s.TimeKind, t.Location, e)
	}, load.AgentTimeBatch),
	catalog.KindConversations: arrayOf(func(r *Runner, t Tenant, s catalog.Stream, e engage.Conversation) ([]transform.ConversationRow, error) {
		return one(transform.Conversation(t.Location, e))
	}, load.ConversationBatch),
	catalog.KindConversationAgents: arrayOf(func(r *Runner, t Tenant, s catalog.Stream, e engage.ConversationAgent) ([]transform.ConversationAgentRow, error) {
		return one(transform.ConversationAgent(e))
	}, load.ConversationAgentBatch),
	catalog.KindVisits: arrayOf(func(r *Runner, t Tenant, s catalog.Stream, e engage.Visit) ([]transform.VisitRow, error) {
		return one(transform.Visit(t.Location, e))
	}, load.VisitBatch),
	catalog.KindCobrowse: arrayOf(func(r *Runner, t Tenant, s catalog.Stream, e engage.CobrowseSession) ([]transform.CobrowseRow, error) {
		return one(transform.Cobrowse(t.Location, e))
	}, load.CobrowseBatch),
	catalog.KindMessages: fetchMessages,
	catalog.KindRealtime: fetchRealtime,
	catalog.KindActivity: fetchActivity,
	catalog.KindUsers: listOf(func(e engage.User) (transform.UserRow, error) {
		return transform.User(e.ID, e.Email, e.DisplayName, e.RoleID)
	}, func(w extract.Window, rows []transform.UserRow) load.Batch {
		return load.UserBatch(w.From, w.End, rows)
	}),
	catalog.KindTeams: listOf(func(e engage.Team) (transform.TeamRow, error) {
		return transform.Team(e.ID, e.Name, e.Members, e.Tags)
	}, func(w extract.Window, rows []transform.TeamRow) load.Batch {
		return load.TeamBatch(w.From, w.End, rows)
	}),
	catalog.KindRoles: listOf(func(e engage.Role) (transform.NamedRow, error) {
		return transform.Named("role", e.ID, e.Name, true, nil)
	}, func(w extract.Window, rows []transform.NamedRow) load.Batch {
		return load.RoleBatch(w.From, w.End, rows)
	}),
	catalog.KindCustomers: listOf(func(e engage.Customer) (transform.CustomerRow, error) {
		return transform.Customer(transform.CustomerRow{ID: e.ID, Email: e.Email, FirstName: e.FirstName, LastName: e.LastName,
			Gender: e.Gender, ExternalID: e.ExternalID, AssignedUser: e.AssignedUser})
	}, func(w extract.Window, rows []transform.CustomerRow) load.Batch {
		return load.CustomerBatch(w.From, rows)
	}),
	catalog.KindRules: arrayOf(func(r *Runner, t Tenant, s catalog.Stream, e engage.Rule) ([]transform.NamedRow, error) {
		return one(transform.Named("rule", e.ID, e.Name, e.Active, e.Types))
	}, func(from, _ civil.Date, rows []transform.NamedRow) load.Batch { return load.RuleBatch(from, rows) }),
}

func one[R any](r R, err error) ([]R, error) {
	if err != nil {
		return nil, err
	}
	return []R{r}, nil
}

// arrayOf is the fetcher of a report answered as a JSON array: each element
// becomes rows as it is decoded.
func arrayOf[E, R any](rows func(*Runner, Tenant, catalog.Stream, E) ([]R, error), batch func(from, to civil.Date, rows []R) load.Batch) fetcher {
	return func(ctx context.Context, r *Runner, j *job, w extract.Window) (fetched, error) {
		var out []R
		raw, err := extract.Array(ctx, j.tenant.Client, j.stream, w, func() { out = out[:0] }, func(e E) error {
			rs, err := rows(r, j.tenant, j.stream, e)
			out = append(out, rs...)
			return err
		})
		if err != nil {
			return fetched{}, err
		}
		return fetched{raw: raw, batch: batch(w.From, w.To, out), received: len(out)}, nil
	}
}

// listOf is the fetcher of a paged list (CONTRACT.md §5).
func listOf[E, R any](row func(E) (R, error), batch func(extract.Window, []R) load.Batch) fetcher {
	return func(ctx context.Context, r *Runner, j *job, w extract.Window) (fetched, error) {
		var out []R
		raw, err := extract.List(ctx, j.tenant.Client, j.stream, w, func() { out = out[:0] }, func(e E) error {
			x, err := row(e)
			out = append(out, x)
			return err
		})
		if err != nil {
			return fetched{}, err
		}
		return fetched{raw: raw, batch: batch(w, out), received: len(out)}, nil
	}
}

func fetchReport(ctx context.Context, r *Runner, j *job, w extract.Window) (fetched, error) {
	s := j.stream
	resp, raw, err := extract.Report(ctx, j.tenant.Client, s, w)
	if err != nil {
		return fetched{}, err
	}
	rows, err := transform.ReportRows(s.Metric, s.GroupBy, w.From, w.To, resp)
	if err != nil {
		return fetched{}, err
	}
	return fetched{
		raw: raw, received: len(rows),
		batch: load.ReportBatch{
			Report: s.Report, Metric: s.Metric, GroupBy: s.GroupBy,
			Unit: string(s.Unit), Aggregation: s.Unit.Aggregation(),
			From: w.From, To: w.To, Rows: rows,
		},
	}, nil
}

func fetchRealtime(ctx context.Context, r *Runner, j *job, w extract.Window) (fetched, error) {
	t := j.tenant
	var resp engage.RealtimeResponse
	raw, err := extract.Object(ctx, t.Client, j.stream, w, &resp)
	if err != nil {
		return fetched{}, err
	}
	rows := transform.Realtime(resp)
	return fetched{raw: raw, batch: load.RealtimeBatch(w.End, t.Location, rows), received: len(rows)}, nil
}

func fetchActivity(ctx context.Context, r *Runner, j *job, w extract.Window) (fetched, error) {
	var rows []transform.ActivityRow
	raw, err := extract.Activity(ctx, j.tenant.Client, j.stream, w, func(e engage.ActivityEvent) error {
		row, err := transform.Activity(j.stream.Log, j.tenant.Location, e)
		rows = append(rows, row)
		return err
	})
	if err != nil {
		return fetched{}, err
	}
	return fetched{raw: raw, batch: load.ActivityBatch(w.From, w.To, rows), received: len(rows)}, nil
}

// fetchMessages fetches the messages of the window's conversations. A sync
// fetches only conversations whose message count differs from the
// warehouse's (messages do not change once sent), so re-reading the lookback
// costs one list request per day; a backfill fetches them all.
func fetchMessages(ctx context.Context, r *Runner, j *job, w extract.Window) (fetched, error) {
	t := j.tenant
	need := func(refs []extract.ConversationRef) (map[string]bool, error) {
		counts := make(map[string]int, len(refs))
		for _, ref := range refs {
			counts[ref.ID] = ref.MessageCount
		}
		if j.plan.backfill {
			all := make(map[string]bool, len(refs))
			for id := range counts {
				all[id] = true
			}
			return all, nil
		}
		return r.Store.ChangedConversations(ctx, t.ID, counts)
	}
	var rows []transform.MessageRow
	var raws []load.ConversationRaw
	raw, err := extract.Messages(ctx, t.Client, j.stream, w, r.MessageParallel, need, func(id string, body []byte, msgs []engage.Message) error {
		raws = append(raws, load.ConversationRaw{ConversationID: id, Messages: len(msgs), Body: body, FetchedAt: time.Now()})
		for _, m := range msgs {
			row, err := transform.Message(t.Location, r.StoreMessageText, m)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return fetched{}, err
	}
	return fetched{raw: raw, batch: load.MessageBatch(w.From, w.To, rows, raws...), received: len(rows)}, nil
}
