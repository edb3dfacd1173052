package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// This file is the one place where an answer becomes rows. An answer is a
// body as Engage sent it: fetched by a sync or backfill, pushed as a
// webhook, or read back from schema raw by a rebuild. Each caller hands the
// body to decode (or decodeMessages, decodeWebhook) and commits the batch
// with Store.CommitWindow; none of them decodes or transforms on its own.

// source is what an answer's rows depend on besides its body.
type source struct {
	tenant    Tenant
	stream    catalog.Stream
	window    extract.Window
	storeText bool // keep message text
}

// decoder turns the body of one window's answer into a batch and the number
// of rows it holds.
type decoder func(src source, body []byte) (load.Batch, int, error)

// decoders has one entry per catalog.Kind but messages, whose window is many
// answers (see decodeMessages).
var decoders = map[catalog.Kind]decoder{
	catalog.KindReport: func(src source, body []byte) (load.Batch, int, error) {
		b, err := decodeReport(src, body)
		return b, len(b.Rows), err
	},
	catalog.KindRealtime: decodeRealtime,
	catalog.KindActivity: decodeActivity,
	catalog.KindAgentTimes: elements(func(src source, e engage.AgentTimes) ([]transform.AgentTimeRow, error) {
		return transform.AgentTimeRows(src.stream.TimeKind, src.tenant.Location, e)
	}, dayBatch(load.AgentTimeBatch)),
	catalog.KindConversations: elements(func(src source, e engage.Conversation) ([]transform.ConversationRow, error) {
		return one(transform.Conversation(src.tenant.Location, e))
	}, dayBatch(load.ConversationBatch)),
	catalog.KindConversationAgents: elements(func(src source, e engage.ConversationAgent) ([]transform.ConversationAgentRow, error) {
		return one(transform.ConversationAgent(e))
	}, dayBatch(load.ConversationAgentBatch)),
	catalog.KindVisits: elements(func(src source, e engage.Visit) ([]transform.VisitRow, error) {
		return one(transform.Visit(src.tenant.Location, e))
	}, dayBatch(load.VisitBatch)),
	catalog.KindCobrowse: elements(func(src source, e engage.CobrowseSession) ([]transform.CobrowseRow, error) {
		return one(transform.Cobrowse(src.tenant.Location, e))
	}, dayBatch(load.CobrowseBatch)),
	catalog.KindRules: elements(func(src source, e engage.Rule) ([]transform.NamedRow, error) {
		return one(transform.Rule(e))
	}, func(src source, rows []transform.NamedRow) load.Batch { return load.RuleBatch(src.window.From, rows) }),
	catalog.KindUsers: pages(transform.User, func(src source, rows []transform.UserRow) load.Batch {
		return load.UserBatch(src.window.From, src.window.End, rows)
	}),
	catalog.KindTeams: pages(transform.Team, func(src source, rows []transform.TeamRow) load.Batch {
		return load.TeamBatch(src.window.From, src.window.End, rows)
	}),
	catalog.KindRoles: pages(transform.Role, func(src source, rows []transform.NamedRow) load.Batch {
		return load.RoleBatch(src.window.From, src.window.End, rows)
	}),
	catalog.KindCustomers: pages(transform.Customer, func(src source, rows []transform.CustomerRow) load.Batch {
		return load.CustomerBatch(src.window.From, rows)
	}),
}

// decode turns one window's answer into rows.
func decode(src source, body []byte) (load.Batch, int, error) {
	d := decoders[src.stream.Kind]
	if d == nil {
		return nil, 0, fmt.Errorf("stream kind %q has no decoder", src.stream.Kind)
	}
	return d(src, body)
}

func one[R any](r R, err error) ([]R, error) {
	if err != nil {
		return nil, err
	}
	return []R{r}, nil
}

// dayBatch adapts a batch of the local days [from, to) to a window.
func dayBatch[R any](batch func(from, to civil.Date, rows []R) load.Batch) func(source, []R) load.Batch {
	return func(src source, rows []R) load.Batch { return batch(src.window.From, src.window.To, rows) }
}

// elements decodes an answer that is a JSON array, element by element.
func elements[E, R any](rows func(source, E) ([]R, error), batch func(source, []R) load.Batch) decoder {
	return func(src source, body []byte) (load.Batch, int, error) {
		var out []R
		err := engage.DecodeArray(bytes.NewReader(body), func(e E) error {
			rs, err := rows(src, e)
			out = append(out, rs...)
			return err
		})
		if err != nil {
			return nil, 0, err
		}
		return batch(src, out), len(out), nil
	}
}

// pages decodes the pages of a list (CONTRACT.md §5), kept as one JSON
// array of page bodies.
func pages[E, R any](row func(E) (R, error), batch func(source, []R) load.Batch) decoder {
	return func(src source, body []byte) (load.Batch, int, error) {
		var out []R
		err := engage.DecodeArray(bytes.NewReader(body), func(p engage.ListPage) error {
			for i, item := range p.Results {
				var e E
				if err := json.Unmarshal(item, &e); err != nil {
					return fmt.Errorf("page %d element %d: %w", p.Page, i, err)
				}
				r, err := row(e)
				if err != nil {
					return fmt.Errorf("page %d element %d: %w", p.Page, i, err)
				}
				out = append(out, r)
			}
			return nil
		})
		if err != nil {
			return nil, 0, err
		}
		return batch(src, out), len(out), nil
	}
}

// decodeReport reads a bucketed report answer (CONTRACT.md §3).
func decodeReport(src source, body []byte) (load.ReportBatch, error) {
	s, w := src.stream, src.window
	var resp engage.ReportResponse
	if err := engage.DecodeObject(bytes.NewReader(body), &resp); err != nil {
		return load.ReportBatch{}, err
	}
	rows, err := transform.ReportRows(s.Metric, s.GroupBy, w.From, w.To, resp)
	if err != nil {
		return load.ReportBatch{}, err
	}
	return load.ReportBatch{
		Report: s.Report, Metric: s.Metric, GroupBy: s.GroupBy, Unit: string(s.Unit), Aggregation: s.Unit.Aggregation(),
		From: w.From, To: w.To, Rows: rows,
	}, nil
}

// decodeRealtime reads a realtime snapshot, taken at the window's end.
func decodeRealtime(src source, body []byte) (load.Batch, int, error) {
	var resp engage.RealtimeResponse
	if err := engage.DecodeObject(bytes.NewReader(body), &resp); err != nil {
		return nil, 0, err
	}
	rows := transform.Realtime(resp)
	return load.RealtimeBatch(src.window.End, src.tenant.Location, rows), len(rows), nil
}

// decodeActivity reads the pages of an activity log (CONTRACT.md §6), kept
// as one JSON array of page bodies: the events since the window's start,
// each once although paging may have served it twice.
func decodeActivity(src source, body []byte) (load.Batch, int, error) {
	seen := map[string]bool{}
	var rows []transform.ActivityRow
	page := 0
	err := engage.DecodeArray(bytes.NewReader(body), func(p engage.ActivityPage) error {
		defer func() { page++ }()
		for _, item := range p.Content {
			var e engage.ActivityEvent
			if err := json.Unmarshal(item, &e); err != nil {
				return fmt.Errorf("page %d: %w", page, err)
			}
			if e.ID == "" || e.Timestamp.IsZero() {
				return fmt.Errorf("page %d: event without id or timestamp", page)
			}
			if e.Timestamp.Before(src.window.Start) || seen[e.ID] {
				continue
			}
			seen[e.ID] = true
			row, err := transform.Activity(src.stream.Log, src.tenant.Location, e)
			if err != nil {
				return err
			}
			rows = append(rows, row)
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return load.ActivityBatch(src.window.From, src.window.To, rows), len(rows), nil
}

// decodeMessages reads one conversation's messages answer (CONTRACT.md §4).
// A window of the messages stream is many such answers.
func decodeMessages(src source, body []byte) ([]transform.MessageRow, error) {
	var rows []transform.MessageRow
	err := engage.DecodeArray(bytes.NewReader(body), func(m engage.Message) error {
		row, err := transform.Message(src.tenant.Location, src.storeText, m)
		rows = append(rows, row)
		return err
	})
	return rows, err
}

// errInvalidWebhook marks a webhook body that is not one Engage sends.
var errInvalidWebhook = fmt.Errorf("invalid webhook")

// decodeWebhook reads a webhook (CONTRACT.md §7): a message object is a new
// message; an object with customerId and status is a new conversation or a
// status change.
func decodeWebhook(src source, received time.Time, body []byte) (load.Batch, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalidWebhook, err)
	}
	if _, isMessage := probe["fromCustomer"]; isMessage {
		var m engage.Message
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, fmt.Errorf("%w: %w", errInvalidWebhook, err)
		}
		row, err := transform.Message(src.tenant.Location, src.storeText, m)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errInvalidWebhook, err)
		}
		return load.MessageBatch(row.Date, row.Date.AddDays(1), []transform.MessageRow{row}), nil
	}
	var e engage.ConversationEvent
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalidWebhook, err)
	}
	row, err := transform.ConversationEvent(src.tenant.Location, received, e)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalidWebhook, err)
	}
	return load.StatusBatch(row), nil
}
