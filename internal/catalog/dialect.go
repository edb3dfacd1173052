package catalog

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Dialect is how one tenant's API spells what CONTRACT.md only assumes: the
// date filter every body carries, how lists and activity logs page, and the
// key of every field of every answer. Contract is the default; the config
// file overrides it under `api:`, globally and per tenant, so a tenant whose
// API differs is loaded by editing the config, not the code.
type Dialect struct {
	DateFilter DateFilter
	Lists      Paging // GET /user, /team, /customer, /role (CONTRACT.md §5)
	Activity   Paging // GET /activity/{log} (CONTRACT.md §6)
	// ConversationParam is the query parameter naming the conversation of
	// a messages request (CONTRACT.md §4).
	ConversationParam string
	// Fields maps, per element kind (see Elements), our field name to the
	// answer's key: a dotted path into the element.
	Fields map[string]map[string]string
}

// DateFilter is the date filter every request body refers to as "$dateFilter".
type DateFilter struct {
	// Body is a JSON template; "$from" and "$to" become the window's bounds.
	Body string
	// Encoding of the bounds: one of Encodings.
	Encoding string
}

// Encodings of a date filter's bounds.
var Encodings = map[string]string{
	"epoch_ms": "Unix epoch milliseconds (a number)",
	"epoch_s":  "Unix epoch seconds (a number)",
	"date":     "the tenant's local day, YYYY-MM-DD (to is the day after the last)",
	"datetime": "RFC 3339 with the tenant's UTC offset",
}

// Paging is how a paged answer is requested and read.
type Paging struct {
	PageParam string // query parameter of the page number
	SizeParam string // query parameter of the page size
	FirstPage int    // number of the first page: 0 or 1
	PageSize  int    // elements asked per page
	SortParam string // query parameter of the sort order
	Sort      string // value of the sort parameter; "" sends none
	Items     string // dotted path to the elements in a page; "" when a page is a bare array
}

// maxPageSize bounds page_size. A server serves at most its own maximum
// whatever is asked (Spring Data's default is 2000), and paging reads a
// page shorter than asked as a cap, not an end (engage.Pages); so asking
// more costs nothing, and asking the most takes the fewest requests.
const maxPageSize = 10000

// Contract is the dialect of CONTRACT.md. Activity logs ask pages of
// 2000, Spring Data's default max-page-size: a year of a busy tenant's
// logs is millions of events, and their pages are most of its requests.
func Contract() Dialect {
	d := Dialect{
		DateFilter: DateFilter{Body: `{"grouping":"CUSTOM","from":"$from","to":"$to"}`, Encoding: "epoch_ms"},
		Lists:      Paging{PageParam: "pageNumber", SizeParam: "pageSize", FirstPage: 0, PageSize: 100, Items: "results"},
		Activity:   Paging{PageParam: "page", SizeParam: "size", FirstPage: 0, PageSize: 2000, SortParam: "sort", Sort: "timestamp,desc", Items: "content"},
		Fields:     map[string]map[string]string{},

		ConversationParam: "conversationId",
	}
	for kind, fields := range Elements {
		d.Fields[kind] = map[string]string{}
		for _, f := range fields {
			d.Fields[kind][f.Name] = f.Key
		}
	}
	return d
}

// Field is one field of an answer's element: our name, the contract's key
// (the engage package decodes that key), the JSON type it decodes as, and
// whether an element without it cannot be loaded.
type Field struct {
	Name     string
	Key      string
	Type     FieldType
	Required bool
}

// FieldType is the JSON type a field decodes as; a value of another type
// that converts without loss (a number where a string is expected, a
// numeric string where a number is) is converted. Each type bounds its
// values (see the Max constants): an answer holding a longer string, a
// larger number or a longer list fails its window, naming the field.
type FieldType string

const (
	TString  FieldType = "string"       // ids, names, e-mails: at most MaxStringLen bytes
	TText    FieldType = "text"         // free text, URLs: at most MaxTextLen bytes
	TInt     FieldType = "integer"      // any int64
	TCount   FieldType = "count"        // 0 to MaxCount: loaded into integer columns
	TMillis  FieldType = "milliseconds" // 0 to MaxInt64: a duration
	TDecimal FieldType = "decimal"      // as decode.ParseDecimal bounds it
	TBool    FieldType = "boolean"
	TTime    FieldType = "time"    // ISO 8601 (a string), or epoch milliseconds
	TStrings FieldType = "strings" // at most MaxListLen strings of MaxStringLen bytes
	TAny     FieldType = "any"     // kept as sent (objects, arrays of objects)
)

// Bounds of field values. An id, name or e-mail address is a few dozen
// bytes, and an e-mail address is at most 254 by RFC 5321: 4 KiB fails
// only garbage. Message text and URLs are written by people and browsers
// (URLs with tracking parameters run past 4 KiB): 64 KiB. A team has at
// most a few thousand members. Counts go to PostgreSQL integer columns.
const (
	MaxStringLen = 4 << 10
	MaxTextLen   = 64 << 10
	MaxListLen   = 10000
	MaxCount     = 1<<31 - 1
)

// Elements declares, per element kind, the fields engage-etl reads. A kind
// is one element shape of CONTRACT.md; several streams can share one.
var Elements = map[string][]Field{
	"reports":  {{"results", "results", TAny, true}},
	"realtime": {{"results", "results", TAny, true}},
	"conversations": {
		{"id", "conversationId", TString, true}, {"customer_id", "customerId", TString, false},
		{"team_id", "teamId", TString, false}, {"channel", "channel", TString, false},
		{"status", "status", TString, false}, {"start", "start", TTime, true}, {"end", "end", TTime, false},
		{"user_ids", "userIds", TStrings, false}, {"message_count", "messageCount", TCount, false},
		{"customer_message_count", "customerMessageCount", TCount, false},
		{"agent_message_count", "agentMessageCount", TCount, false},
		{"first_response_ms", "firstResponseTimeMs", TMillis, false},
		{"avg_response_ms", "avgResponseTimeMs", TMillis, false}, {"duration_ms", "durationMs", TMillis, false},
	},
	"conversation_agents": {
		{"user_id", "userId", TString, true}, {"conversation_id", "conversationId", TString, true},
		{"message_count", "messageCount", TCount, false}, {"first_response_ms", "firstResponseTimeMs", TMillis, false},
		{"avg_response_ms", "avgResponseTimeMs", TMillis, false},
	},
	"messages": {
		{"id", "id", TString, true}, {"conversation_id", "conversationId", TString, false},
		{"customer_id", "customerId", TString, false}, {"user_id", "userId", TString, false},
		{"from_customer", "fromCustomer", TBool, false}, {"type", "type", TString, false},
		{"text", "message", TText, false}, {"url", "url", TText, false}, {"timestamp", "timestamp", TTime, true},
	},
	"agent_times": {
		{"user_id", "userId", TString, true}, {"time_ranges", "timeRanges", TAny, true}, {"sum_minutes", "sumMinutes", TCount, false},
	},
	"visits": {
		{"id", "visitId", TString, true}, {"session_id", "sessionId", TString, false}, {"visitor_id", "visitorId", TString, false},
		{"url", "url", TText, false}, {"path", "path", TText, false}, {"start", "start", TTime, true},
		{"end", "end", TTime, true}, {"duration_seconds", "durationSeconds", TDecimal, false},
	},
	"cobrowse": {
		{"id", "sessionId", TString, true}, {"user_id", "userId", TString, false}, {"customer_id", "customerId", TString, false},
		{"start", "start", TTime, true}, {"end", "end", TTime, true}, {"duration_seconds", "durationSeconds", TDecimal, false},
	},
	"users": {
		{"id", "id", TString, true}, {"email", "email", TString, true}, {"display_name", "displayName", TString, false},
		{"role_id", "roleId", TString, false},
	},
	"teams":     {{"id", "id", TString, true}, {"name", "name", TString, false}, {"members", "members", TStrings, false}, {"tags", "tags", TStrings, false}},
	"customers": {{"id", "id", TString, true}, {"email", "email", TString, false}, {"first_name", "firstName", TString, false}, {"last_name", "lastName", TString, false}, {"gender", "gender", TString, false}, {"external_id", "externalId", TString, false}, {"assigned_user", "assignedUser", TString, false}},
	"roles":     {{"id", "id", TString, true}, {"name", "name", TString, false}},
	"rules":     {{"id", "id", TString, true}, {"name", "name", TString, false}, {"active", "active", TBool, false}, {"types", "types", TStrings, false}},
	"opening_hours": {
		{"id", "id", TString, true}, {"name", "name", TString, false}, {"timezone_offset", "timezoneOffset", TDecimal, false},
		{"conditions", "conditions", TAny, false}, {"holidays", "holidays", TAny, false},
	},
	"sla_rules": {
		{"id", "id", TString, true}, {"name", "name", TString, false}, {"active", "active", TBool, false},
		{"conditions", "conditions", TAny, false},
		{"first_response_seconds", "trigger.firstResponseTime", TCount, false},
		{"response_seconds", "trigger.responseTime", TCount, false},
		{"watchdog_enabled", "watchdogEnabled", TBool, false},
	},
	"activity": {
		{"id", "id", TString, true}, {"type", "type", TString, false}, {"user_id", "userId", TString, false},
		{"timestamp", "timestamp", TTime, true}, {"data", "data", TAny, false},
	},
	"status_webhooks": {{"customer_id", "customerId", TString, true}, {"status", "status", TString, true}, {"last_message", "lastMessage", TAny, false}},
}

// Validate checks a dialect, naming the config key of what is wrong.
func (d Dialect) Validate(prefix string) error {
	body := d.DateFilter.Body
	if !json.Valid([]byte(body)) || !strings.Contains(body, `"$from"`) || !strings.Contains(body, `"$to"`) {
		return keyErr(prefix+"date_filter.body", "%q must be JSON holding \"$from\" and \"$to\"", body)
	}
	if _, ok := Encodings[d.DateFilter.Encoding]; !ok {
		return keyErr(prefix+"date_filter.encoding", "%q is not one of %s%s", d.DateFilter.Encoding,
			strings.Join(sortedNames(Encodings), ", "), didYouMean(d.DateFilter.Encoding, sortedNames(Encodings)))
	}
	if d.ConversationParam == "" {
		return keyErr(prefix+"messages.conversation_param", "must not be empty")
	}
	for name, p := range map[string]Paging{"lists": d.Lists, "activity": d.Activity} {
		key := prefix + name + "."
		switch {
		case p.PageParam == "" || p.SizeParam == "" || p.PageParam == p.SizeParam:
			return keyErr(key+"page_param", "it and %ssize_param must be two different query parameter names", key)
		case p.Sort != "" && (p.SortParam == "" || p.SortParam == p.PageParam || p.SortParam == p.SizeParam):
			return keyErr(key+"sort_param", "%q must be a query parameter other than the page and size ones", p.SortParam)
		case p.FirstPage != 0 && p.FirstPage != 1:
			return keyErr(key+"first_page", "%d must be 0 or 1", p.FirstPage)
		case p.PageSize < 1 || p.PageSize > maxPageSize:
			return keyErr(key+"page_size", "%d must be between 1 and %d", p.PageSize, maxPageSize)
		}
	}
	for kind, fields := range d.Fields {
		if _, ok := Elements[kind]; !ok {
			return keyErr(prefix+"fields."+kind, "no such element kind%s", didYouMean(kind, sortedNames(Elements)))
		}
		for name, key := range fields {
			if !hasField(kind, name) {
				return keyErr(prefix+"fields."+kind+"."+name, "no such field%s", didYouMean(name, fieldNames(kind)))
			}
			if key == "" || strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") || strings.Contains(key, "..") {
				return keyErr(prefix+"fields."+kind+"."+name, "%q is not a dotted path such as data.customerId", key)
			}
		}
	}
	return nil
}

// Lookup finds a field of an element kind.
func Lookup(kind, name string) (Field, bool) {
	for _, f := range Elements[kind] {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

func hasField(kind, name string) bool { _, ok := Lookup(kind, name); return ok }

func fieldNames(kind string) []string {
	var out []string
	for _, f := range Elements[kind] {
		out = append(out, f.Name)
	}
	sort.Strings(out)
	return out
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// didYouMean names the known name nearest a misspelt one, if any.
func didYouMean(name string, known []string) string {
	if n := Nearest(name, known); n != "" {
		return fmt.Sprintf(" (did you mean %q?)", n)
	}
	return ""
}

func keyErr(key, format string, args ...any) error {
	return &KeyError{Key: key, Problem: fmt.Sprintf(format, args...)}
}
