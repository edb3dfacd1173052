package engage

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/engage-etl/engage-etl/internal/decode"
)

// ReportResponse is the answer of a bucketed report (CONTRACT.md §3): local day
// "yyyy/MM/dd" -> group value (or the metric name when ungrouped) -> value.
// The realtime report has the same envelope, keyed by metric name alone; see
// RealtimeResponse.
type ReportResponse struct {
	Results map[string]map[string]decode.Decimal `json:"results"`
}

// RealtimeResponse is the answer of POST /report/realtime: metric -> value.
type RealtimeResponse struct {
	Results map[string]decode.Decimal `json:"results"`
}

// UnmarshalJSON implements json.Unmarshaler, naming the value that is not
// a decimal by its path: results["2020/10/30"]["a@x.com"].
func (r *ReportResponse) UnmarshalJSON(b []byte) error {
	var raw struct {
		Results map[string]map[string]json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	r.Results = make(map[string]map[string]decode.Decimal, len(raw.Results))
	for day, groups := range raw.Results {
		if groups == nil {
			r.Results[day] = nil
			continue
		}
		r.Results[day] = make(map[string]decode.Decimal, len(groups))
		for group, v := range groups {
			var d decode.Decimal
			if err := d.UnmarshalJSON(v); err != nil {
				return fmt.Errorf("results[%s][%s]: %w", decode.Quote(day), decode.Quote(group), err)
			}
			r.Results[day][group] = d
		}
	}
	return nil
}

// UnmarshalJSON implements json.Unmarshaler, naming the value that is not
// a decimal by its path: results["CURRENT_CHATS"].
func (r *RealtimeResponse) UnmarshalJSON(b []byte) error {
	var raw struct {
		Results map[string]json.RawMessage `json:"results"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	r.Results = make(map[string]decode.Decimal, len(raw.Results))
	for metric, v := range raw.Results {
		var d decode.Decimal
		if err := d.UnmarshalJSON(v); err != nil {
			return fmt.Errorf("results[%s]: %w", decode.Quote(metric), err)
		}
		r.Results[metric] = d
	}
	return nil
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

// Conversation is one element of /report/chat/conversations.
type Conversation struct {
	ConversationID       string     `json:"conversationId"`
	CustomerID           string     `json:"customerId"`
	TeamID               string     `json:"teamId"`
	Channel              string     `json:"channel"`
	Status               string     `json:"status"`
	Start                time.Time  `json:"start"`
	End                  *time.Time `json:"end"`
	UserIDs              []string   `json:"userIds"`
	MessageCount         int        `json:"messageCount"`
	CustomerMessageCount int        `json:"customerMessageCount"`
	AgentMessageCount    int        `json:"agentMessageCount"`
	FirstResponseTimeMs  *int64     `json:"firstResponseTimeMs"`
	AvgResponseTimeMs    *int64     `json:"avgResponseTimeMs"`
	DurationMs           int64      `json:"durationMs"`
}

// ConversationAgent is one element of /report/chat/agents.
type ConversationAgent struct {
	UserID              string `json:"userId"`
	ConversationID      string `json:"conversationId"`
	MessageCount        int    `json:"messageCount"`
	FirstResponseTimeMs *int64 `json:"firstResponseTimeMs"`
	AvgResponseTimeMs   *int64 `json:"avgResponseTimeMs"`
}

// Message is one element of /report/chat/messages.
type Message struct {
	ID             string    `json:"id"`
	ConversationID string    `json:"conversationId"`
	CustomerID     string    `json:"customerId"`
	UserID         *string   `json:"userId"`
	FromCustomer   bool      `json:"fromCustomer"`
	Type           string    `json:"type"`
	Message        string    `json:"message"`
	URL            *string   `json:"url"`
	Timestamp      time.Time `json:"timestamp"`
}

// Visit is one element of /report/visit/table.
type Visit struct {
	VisitID         string         `json:"visitId"`
	SessionID       string         `json:"sessionId"`
	VisitorID       string         `json:"visitorId"`
	URL             string         `json:"url"`
	Path            string         `json:"path"`
	Start           time.Time      `json:"start"`
	End             time.Time      `json:"end"`
	DurationSeconds decode.Decimal `json:"durationSeconds"`
}

// CobrowseSession is one element of /report/cobrowse/table.
type CobrowseSession struct {
	SessionID       string         `json:"sessionId"`
	UserID          string         `json:"userId"`
	CustomerID      string         `json:"customerId"`
	Start           time.Time      `json:"start"`
	End             time.Time      `json:"end"`
	DurationSeconds decode.Decimal `json:"durationSeconds"`
}

// User is one element of GET /user.
type User struct {
	ID          string   `json:"id"`
	Email       string   `json:"email"`
	DisplayName string   `json:"displayName"`
	Description string   `json:"description"`
	RoleID      string   `json:"roleId"`
	Tags        []string `json:"tags"`
	Admin       bool     `json:"admin"`
	MCOEnabled  bool     `json:"mcoEnabled"`
	ExternalID  string   `json:"externalId"`
}

// Team is one element of GET /team.
type Team struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Members []string `json:"members"`
	Tags    []string `json:"tags"`
}

// Customer is one element of GET /customer.
type Customer struct {
	ID           string `json:"id"`
	Email        string `json:"email"`
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	Gender       string `json:"gender"`
	ExternalID   string `json:"externalId"`
	AssignedUser string `json:"assignedUser"`
}

// Role is one element of GET /role.
type Role struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Rule is one element of GET /rule.
type Rule struct {
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Active bool     `json:"active"`
	Types  []string `json:"types"`
}

// OpeningHours is one element of GET /openinghours (ASSUMED path and
// shape, docs/CONTRACT-KPI.md): weekly hours and holidays.
type OpeningHours struct {
	ID             string             `json:"id"`
	Name           string             `json:"name"`
	TimezoneOffset *json.Number       `json:"timezoneOffset"`
	Conditions     []OpeningCondition `json:"conditions"`
	Holidays       []Holiday          `json:"holidays"`
}

// OpeningCondition is a weekday's opening hours: local times "HH:MM", to
// "24:00" for midnight.
type OpeningCondition struct {
	DayOfWeek string `json:"dayOfWeek"` // MONDAY ... SUNDAY
	From      string `json:"from"`
	To        string `json:"to"`
}

// Holiday is a local day closed all day.
type Holiday struct {
	Date string `json:"date"` // YYYY-MM-DD
	Name string `json:"name"`
}

// SLARule is one element of GET /slarule (ASSUMED path and shape,
// docs/CONTRACT-KPI.md): the conversations it covers and its targets.
type SLARule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	Active               bool           `json:"active"`
	Conditions           []SLACondition `json:"conditions"`
	FirstResponseSeconds *int64         `json:"trigger.firstResponseTime"`
	ResponseSeconds      *int64         `json:"trigger.responseTime"`
	WatchdogEnabled      bool           `json:"watchdogEnabled"`
}

// SLACondition is one condition of an SLA rule: TEAM (a team id), CHANNEL
// (a channel) or OPENING_HOURS (an opening hours id).
type SLACondition struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

// ActivityEvent is one entry of an activity log.
type ActivityEvent struct {
	ID        string          `json:"id"`
	Type      string          `json:"type"`
	UserID    *string         `json:"userId"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// ConversationEvent is the body of the "new conversation" and "status
// change" webhooks (CONTRACT.md §7).
type ConversationEvent struct {
	CustomerID  string   `json:"customerId"`
	Status      string   `json:"status"`
	LastMessage *Message `json:"lastMessage"`
	URL         string   `json:"url"`
}
