package pipeline

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/jsonscan"
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

func (src source) dialect() catalog.Dialect { return src.tenant.dialect() }

// decoded is an answer turned into rows.
type decoded struct {
	batch    load.Batch
	rows     int
	warnings []string // optional fields no element had (see remapper.missing)
	out      any      // the rows as transform made them ([]transform.XRow), for the decoders' fuzz test
	written  int64    // rows already committed in chunks (messages of a busy day)
}

// decoder turns the body of one window's answer into rows.
type decoder func(src source, body []byte) (decoded, error)

// decoders has one entry per catalog.Kind but messages, whose window is many
// answers (see decodeMessages).
var decoders = map[catalog.Kind]decoder{
	catalog.KindReport: func(src source, body []byte) (decoded, error) {
		b, warnings, err := decodeReport(src, body)
		return decoded{batch: b, rows: len(b.Rows), warnings: warnings, out: b.Rows}, err
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
func decode(src source, body []byte) (decoded, error) {
	d := decoders[src.stream.Kind]
	if d == nil {
		return decoded{}, fmt.Errorf("stream kind %q has no decoder", src.stream.Kind)
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

// each calls fn with each element of a JSON array, in the contract's keys.
func each[E any](m *remapper, body []byte, fn func(E) error) error {
	return walk(body, func(i int, raw []byte) error {
		if err := decodeElement(m, raw, fn); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
		return nil
	})
}

// walk calls fn with each element of the JSON array body holds: validated
// once and walked (see jsonscan). A body that is not a valid array fails
// with engage.DecodeArray's error, which says where it breaks, before any
// element is decoded.
func walk(body []byte, fn func(i int, raw []byte) error) error {
	if json.Valid(body) {
		if isArray, err := jsonscan.Array(body, fn); isArray {
			return err
		}
	}
	return engage.DecodeArray(bytes.NewReader(body), func(json.RawMessage) error { return nil })
}

// decodeElement decodes one valid JSON element and calls fn with it.
func decodeElement[E any](m *remapper, raw []byte, fn func(E) error) error {
	var e E
	if err := m.decodeInto(raw, &e); err != nil {
		return err
	}
	return fn(e)
}

// elements decodes an answer that is a JSON array, element by element.
func elements[E, R any](rows func(source, E) ([]R, error), batch func(source, []R) load.Batch) decoder {
	return func(src source, body []byte) (decoded, error) {
		m := newRemapper(src.dialect(), src.stream.Kind.ElementKind())
		var out []R
		err := each(m, body, func(e E) error {
			rs, err := rows(src, e)
			out = append(out, rs...)
			return err
		})
		if err != nil {
			return decoded{}, err
		}
		return decoded{batch: batch(src, out), rows: len(out), warnings: m.missing(), out: out}, nil
	}
}

// eachPage calls fn with each element of the pages of a paged answer, kept
// as one JSON array of page bodies (see engage.Pages).
func eachPage[E any](m *remapper, body []byte, items string, fn func(E) error) error {
	return walk(body, func(page int, p []byte) error {
		elems, err := engage.PageItems(p, items)
		if err != nil {
			return fmt.Errorf("page %d: %w", page, err)
		}
		for i, raw := range elems {
			if err := decodeElement(m, raw, fn); err != nil {
				return fmt.Errorf("page %d element %d: %w", page, i, err)
			}
		}
		return nil
	})
}

// pages decodes the pages of a list (CONTRACT.md §5).
func pages[E, R any](row func(E) (R, error), batch func(source, []R) load.Batch) decoder {
	return func(src source, body []byte) (decoded, error) {
		m := newRemapper(src.dialect(), src.stream.Kind.ElementKind())
		var out []R
		err := eachPage(m, body, src.dialect().Lists.Items, func(e E) error {
			r, err := row(e)
			out = append(out, r)
			return err
		})
		if err != nil {
			return decoded{}, err
		}
		return decoded{batch: batch(src, out), rows: len(out), warnings: m.missing(), out: out}, nil
	}
}

// object decodes an answer that is one JSON object.
func object[E any](src source, kind string, body []byte) (E, []string, error) {
	var e E
	m := newRemapper(src.dialect(), kind)
	if !json.Valid(body) {
		_, err := m.element(body) // says why
		return e, nil, err
	}
	err := decodeElement(m, body, func(v E) error { e = v; return nil })
	return e, m.missing(), err
}

// decodeReport reads a bucketed report answer (CONTRACT.md §3).
func decodeReport(src source, body []byte) (load.ReportBatch, []string, error) {
	s, w := src.stream, src.window
	resp, warnings, err := object[engage.ReportResponse](src, "reports", body)
	if err != nil {
		return load.ReportBatch{}, nil, err
	}
	rows, err := transform.ReportRows(s.Metric, s.GroupBy, w.From, w.To, resp)
	if err != nil {
		return load.ReportBatch{}, nil, err
	}
	return load.ReportBatch{
		Report: s.Report, Metric: s.Metric, GroupBy: s.GroupBy, Unit: string(s.Unit), Aggregation: s.Unit.Aggregation(),
		From: w.From, To: w.To, Rows: rows,
	}, warnings, nil
}

// decodeRealtime reads a realtime snapshot, taken at the window's end.
func decodeRealtime(src source, body []byte) (decoded, error) {
	resp, warnings, err := object[engage.RealtimeResponse](src, "realtime", body)
	if err != nil {
		return decoded{}, err
	}
	rows := transform.Realtime(resp)
	return decoded{batch: load.RealtimeBatch(src.window.End, src.tenant.Location, rows), rows: len(rows), warnings: warnings, out: rows}, nil
}

// decodeActivity reads the pages of an activity log (CONTRACT.md §6): the
// events since the window's start, each once although paging may have
// served it twice.
func decodeActivity(src source, body []byte) (decoded, error) {
	m := newRemapper(src.dialect(), "activity")
	seen := map[string]bool{}
	var rows []transform.ActivityRow
	err := eachPage(m, body, src.dialect().Activity.Items, func(e engage.ActivityEvent) error {
		if e.Timestamp.Before(src.window.Start) || seen[e.ID] {
			return nil
		}
		seen[e.ID] = true
		row, err := transform.Activity(src.stream.Log, src.tenant.Location, e)
		rows = append(rows, row)
		return err
	})
	if err != nil {
		return decoded{}, err
	}
	return decoded{batch: load.ActivityBatch(src.window.From, src.window.To, rows), rows: len(rows), warnings: m.missing(), out: rows}, nil
}

// decodeMessages reads one conversation's messages answer (CONTRACT.md §4).
// A window of the messages stream is many such answers.
func decodeMessages(src source, body []byte) ([]transform.MessageRow, []string, error) {
	m := newRemapper(src.dialect(), "messages")
	var rows []transform.MessageRow
	err := each(m, body, func(e engage.Message) error {
		row, err := transform.Message(src.tenant.Location, src.storeText, e)
		rows = append(rows, row)
		return err
	})
	return rows, m.missing(), err
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
	fromCustomer := strings.Split(src.dialect().Fields["messages"]["from_customer"], ".")
	if v, _ := lookup(probe, fromCustomer); !isNull(v) {
		m, _, err := object[engage.Message](src, "messages", body)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errInvalidWebhook, err)
		}
		row, err := transform.Message(src.tenant.Location, src.storeText, m)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errInvalidWebhook, err)
		}
		return load.MessageBatch(row.Date, row.Date.AddDays(1), []transform.MessageRow{row}), nil
	}
	e, _, err := object[engage.ConversationEvent](src, "status_webhooks", body)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalidWebhook, err)
	}
	row, err := transform.ConversationEvent(src.tenant.Location, received, e)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errInvalidWebhook, err)
	}
	return load.StatusBatch(row), nil
}
