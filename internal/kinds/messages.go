package kinds

import (
	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// messages lists a window's conversations (the stream's IDsPath), then
// fetches each one's messages (CONTRACT.md §4), into fact_message. Its
// Decode reads one conversation's answer; a window is many.
var messages = Def{
	Kind:            catalog.KindMessages,
	FirstLoad:       FirstLast,
	Shape:           extract.Shape{Paging: extract.OneBody, Element: "messages"},
	Planning:        PlanDays,
	Fetch:           FetchPerConversation,
	Reopens:         true,
	Reconciles:      messagePairs,
	Counts:          conversationPairs[0], // a request per conversation
	Cost:            5,                    // a request per conversation
	Replay:          ReplayConversations,
	ReplaysWebhooks: true,
	Lane:            LaneConversations,
	RequestKeys:     "api.messages.conversation_param",
	Decode: func(src Source, body []byte) (Decoded, error) {
		rows, warnings, err := Messages(src, body)
		return Decoded{Batch: load.MessageBatch(src.Window.From, src.Window.To, rows), Rows: len(rows), Warnings: warnings, Out: rows}, err
	},
}

// Messages reads one conversation's messages answer.
func Messages(src Source, body []byte) ([]transform.MessageRow, []string, error) {
	m := decode.NewRemapper(src.Dialect, "messages")
	var rows []transform.MessageRow
	err := decode.Each(m, body, func(e engage.Message) error {
		row, err := transform.Message(src.Location, src.StoreText, e)
		rows = append(rows, row)
		return err
	})
	return rows, m.Missing(), err
}

// ConversationRef is a conversation of the list a messages window reads.
type ConversationRef struct {
	ID           string
	MessageCount int
}

// ConversationRefs reads the conversation list of a messages window, and
// the mapped fields no conversation had.
func ConversationRefs(d catalog.Dialect, body []byte) ([]ConversationRef, []string, error) {
	m := decode.NewRemapper(d, "conversations")
	var refs []ConversationRef
	err := decode.Each(m, body, func(c engage.Conversation) error {
		refs = append(refs, ConversationRef{ID: c.ConversationID, MessageCount: c.MessageCount})
		return nil
	})
	return refs, m.Missing(), err
}
