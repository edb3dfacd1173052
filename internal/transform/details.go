package transform

import (
	"encoding/json"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// ConversationRow is fact_conversation's grain: one conversation.
type ConversationRow struct {
	ID, CustomerID, TeamID, Channel, Status string
	Start                                   time.Time
	End                                     *time.Time
	UserIDs                                 []string
	FirstAgent                              string // the first of UserIDs, "" when there is none
	MessageCount, CustomerMessageCount      int
	AgentMessageCount                       int
	FirstResponseMs, AvgResponseMs          *int64
	DurationMs                              int64
	Date                                    civil.Date
}

// Conversation maps one element of /report/chat/conversations.
func Conversation(loc *time.Location, e engage.Conversation) (ConversationRow, error) {
	if e.ConversationID == "" || e.Start.IsZero() {
		return ConversationRow{}, fmt.Errorf("conversation without id or start")
	}
	if e.End != nil && e.End.Before(e.Start) {
		return ConversationRow{}, fmt.Errorf("conversation %s ends before it starts", e.ConversationID)
	}
	r := ConversationRow{
		ID: e.ConversationID, CustomerID: e.CustomerID, TeamID: e.TeamID, Channel: e.Channel, Status: e.Status,
		Start: e.Start.UTC(), End: utcPtr(e.End), UserIDs: nonNil(e.UserIDs),
		MessageCount: e.MessageCount, CustomerMessageCount: e.CustomerMessageCount, AgentMessageCount: e.AgentMessageCount,
		FirstResponseMs: e.FirstResponseTimeMs, AvgResponseMs: e.AvgResponseTimeMs, DurationMs: e.DurationMs,
		Date: civil.Of(e.Start, loc),
	}
	if len(e.UserIDs) > 0 {
		r.FirstAgent = e.UserIDs[0]
	}
	return r, nil
}

// ConversationAgentRow is fact_conversation_agent's grain: an agent in a conversation.
type ConversationAgentRow struct {
	ConversationID, UserID         string
	MessageCount                   int
	FirstResponseMs, AvgResponseMs *int64
}

// ConversationAgent maps one element of /report/chat/agents.
func ConversationAgent(e engage.ConversationAgent) (ConversationAgentRow, error) {
	if e.ConversationID == "" || e.UserID == "" {
		return ConversationAgentRow{}, fmt.Errorf("chat agent row without conversationId or userId")
	}
	return ConversationAgentRow{
		ConversationID: e.ConversationID, UserID: e.UserID, MessageCount: e.MessageCount,
		FirstResponseMs: e.FirstResponseTimeMs, AvgResponseMs: e.AvgResponseTimeMs,
	}, nil
}

// MessageRow is fact_message's grain: one message. Text is nil unless the
// operator chose to store message text (it is personal data).
type MessageRow struct {
	ID, ConversationID, CustomerID string
	UserID                         *string
	FromCustomer                   bool
	Type                           string
	Text                           *string
	TextLength                     int
	HasURL                         bool
	SentAt                         time.Time
	Date                           civil.Date
}

// Message maps one message; storeText keeps the text itself.
func Message(loc *time.Location, storeText bool, e engage.Message) (MessageRow, error) {
	if e.ID == "" || e.Timestamp.IsZero() {
		return MessageRow{}, fmt.Errorf("message without id or timestamp")
	}
	r := MessageRow{
		ID: e.ID, ConversationID: e.ConversationID, CustomerID: e.CustomerID, UserID: e.UserID,
		FromCustomer: e.FromCustomer, Type: e.Type, TextLength: utf8.RuneCountInString(e.Message),
		HasURL: e.URL != nil && *e.URL != "", SentAt: e.Timestamp.UTC(), Date: civil.Of(e.Timestamp, loc),
	}
	if storeText {
		text := e.Message
		r.Text = &text
	}
	return r, nil
}

// VisitRow is fact_visit's grain: one page view.
type VisitRow struct {
	ID, SessionID, VisitorID, URL, Path string
	Start, End                          time.Time
	Seconds                             string
	Date                                civil.Date
}

// Visit maps one element of /report/visit/table.
func Visit(loc *time.Location, e engage.Visit) (VisitRow, error) {
	if e.VisitID == "" || e.Start.IsZero() || e.End.Before(e.Start) {
		return VisitRow{}, fmt.Errorf("visit %q without id, or ending before it starts", e.VisitID)
	}
	return VisitRow{
		ID: e.VisitID, SessionID: e.SessionID, VisitorID: e.VisitorID, URL: e.URL, Path: e.Path,
		Start: e.Start.UTC(), End: e.End.UTC(), Seconds: string(e.DurationSeconds), Date: civil.Of(e.Start, loc),
	}, nil
}

// CobrowseRow is fact_cobrowse_session's grain.
type CobrowseRow struct {
	SessionID, UserID, CustomerID string
	Start, End                    time.Time
	Seconds                       string
	Date                          civil.Date
}

// Cobrowse maps one element of /report/cobrowse/table.
func Cobrowse(loc *time.Location, e engage.CobrowseSession) (CobrowseRow, error) {
	if e.SessionID == "" || e.Start.IsZero() || e.End.Before(e.Start) {
		return CobrowseRow{}, fmt.Errorf("co-browse session %q without id, or ending before it starts", e.SessionID)
	}
	return CobrowseRow{
		SessionID: e.SessionID, UserID: e.UserID, CustomerID: e.CustomerID,
		Start: e.Start.UTC(), End: e.End.UTC(), Seconds: string(e.DurationSeconds), Date: civil.Of(e.Start, loc),
	}, nil
}

// RealtimeRow is one figure of a realtime snapshot.
type RealtimeRow struct {
	Metric string
	Value  string
}

// Realtime flattens a realtime answer, sorted by metric.
func Realtime(resp engage.RealtimeResponse) []RealtimeRow {
	rows := make([]RealtimeRow, 0, len(resp.Results))
	for m, v := range resp.Results {
		rows = append(rows, RealtimeRow{Metric: m, Value: string(v)})
	}
	sortBy(rows, func(r RealtimeRow) string { return r.Metric })
	return rows
}

// ActivityRow is fact_activity_event's grain: one event of one log.
type ActivityRow struct {
	ID, Log, Type string
	UserID        *string
	CustomerID    *string
	At            time.Time
	Date          civil.Date
	Data          []byte
}

// Activity maps one event of the given log. Missing or null data becomes {};
// data that is not a JSON object is an error. data.customerId, when it is a
// non-empty string, names the customer.
func Activity(log string, loc *time.Location, e engage.ActivityEvent) (ActivityRow, error) {
	if e.ID == "" {
		return ActivityRow{}, fmt.Errorf("%s activity event without id", log)
	}
	r := ActivityRow{ID: e.ID, Log: log, Type: e.Type, UserID: e.UserID, At: e.Timestamp.UTC(), Date: civil.Of(e.Timestamp, loc), Data: e.Data}
	if len(r.Data) == 0 || string(r.Data) == "null" {
		r.Data = []byte("{}")
	}
	var data map[string]any
	if err := json.Unmarshal(r.Data, &data); err != nil {
		return r, fmt.Errorf("event %s: data is not an object: %w", e.ID, err)
	}
	if c, ok := data["customerId"].(string); ok && c != "" {
		r.CustomerID = &c
	}
	return r, nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
