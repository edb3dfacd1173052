package engagesim

import (
	"fmt"
	"sort"
	"strings"
)

// Dialect is a wire dialect of the Engage API: the same world and the same
// routes as CONTRACT.md, spelt differently. It is pure data; WithDialect (or
// (*Server).DialectHandler) serves it by translating every request to the
// contract and every answer back. Webhooks the simulator pushes are not
// affected by a dialect.
//
// The zero Dialect, like DialectContract, is CONTRACT.md itself.
type Dialect struct {
	Name string

	// Paths rename the path below Prefix. A rule whose Dialect form ends in
	// "/" renames that start of a path; any other rule renames the whole
	// path. A dialect path that no rule renames is answered 404.
	Paths []Rename

	// ConversationParam is the query parameter naming the conversation of
	// a messages request (contract: conversationId).
	ConversationParam string

	// DateFilter is the date filter: the whole body of a detail report and
	// the dateFilter member of a bucketed report's body.
	DateFilter DateForm

	// Lists is the paging of GET /user, /team, /customer and /role
	// (CONTRACT.md §5); Activity the paging of GET /activity/{log} (§6).
	Lists, Activity Paging

	// Fields renames the keys of an answer's elements, per element kind
	// (the kinds of catalog.Elements: conversations, conversation_agents,
	// messages, agent_times, visits, cobrowse, users, teams, customers,
	// roles, rules, activity, reports, realtime). Only the element's own
	// keys are renamed; nested objects keep theirs.
	Fields map[string][]Rename

	// Numbers lists, per element kind, the values answered as JSON numbers
	// where the contract has decimal strings: dotted paths of contract keys
	// into the element, "*" standing for every key of an object. The exact
	// decimal text is kept (205, 12.5). A value that already is a number
	// stays as it is.
	Numbers map[string][]string
}

// Rename pairs the contract's spelling with the dialect's.
type Rename struct{ Contract, Dialect string }

// DateForm is a date filter whose bounds are the tenant's local days,
// YYYY-MM-DD, the To day exclusive (the contract sends epoch milliseconds).
// PeriodKey must hold Period; there is no other period.
type DateForm struct {
	PeriodKey string // contract: grouping
	Period    string // contract: CUSTOM
	FromKey   string // contract: from, epoch ms, inclusive
	ToKey     string // contract: to, epoch ms, exclusive
}

// Paging is how a paged answer is asked for and answered. The wrapper builds
// the contract's query from PageParam and SizeParam alone: every other query
// parameter (the contract's names, sort, offset) is ignored, except
// access_token and the team list's unused.
type Paging struct {
	PageParam string // query parameter of the page number
	SizeParam string // query parameter of the page size
	FirstPage int    // number of the first page (0 or 1); also the page served without PageParam
	MaxSize   int    // a larger size serves MaxSize elements; also the size without SizeParam
	NumberKey string // answer member holding the page number, counted from FirstPage
	Items     string // dotted path of the elements in the answer
	// Keep lists the members of the contract's answer that the dialect's
	// answer keeps as they are (computed with the capped size).
	Keep []string
}

// DialectContract is CONTRACT.md: WithDialect serves it by the handler itself.
var DialectContract = Dialect{Name: "contract"}

// DialectV2 differs from CONTRACT.md in many small ways, so that a client
// configured for it proves the client reads its dialect from the config. A
// request arrives in v2 form, is translated to the contract and served by
// the simulator; the answer is translated back. Error answers (401, 400, 404,
// 429, 5xx) keep the contract's error body, their path (and message) naming
// the path the client asked for; 429's Retry-After is kept; truncated bodies
// and connection resets happen as in the contract.
//
// Paths (below /rest/v1):
//
//	/reports/...   instead of /report/...    (every bucketed and detail report, realtime, messages)
//	/audit/{call|livechat|status|liveview}   instead of /activity/{...}
//	/users, /teams, /customers, /roles, /rules   instead of /user, /team, /customer, /role, /rule
//	/opening-hours, /slarules                    instead of /openinghours, /slarule
//
// Any other path below /rest/v1, the contract's paths among them, is 404 (for
// a known token: an unknown token is 401 on every path, as in the contract).
// A request without a known token goes to the contract unchanged.
//
// Messages: GET /reports/chat/messages?conversation=<id> (contract:
// conversationId, which v2 ignores).
//
// Date filter: {"period":"CUSTOM","fromDate":"YYYY-MM-DD","toDate":"YYYY-MM-DD"}
// with the tenant's local days, toDate exclusive, instead of
// {"grouping":"CUSTOM","from":<epoch ms>,"to":<epoch ms>}: the whole body of
// the detail reports (agent/times/online, agent/times/loggedin,
// chat/conversations, chat/agents, visit/table, cobrowse/table) and the
// dateFilter member of a bucketed report's body (whose other members are
// unchanged). A body that is not a JSON object, a period other than "CUSTOM",
// a missing or malformed fromDate or toDate, or fromDate not before toDate is
// 400. Other members of the filter are ignored. The realtime body is unchanged.
//
// Lists (/users, /teams, /customers, /roles): query page (1-based: page=1 is
// the first) and size instead of pageNumber (0-based) and pageSize. Size is
// capped at 25: a larger size serves 25, and so does a request without size.
// A request without page serves page 1. pageNumber, pageSize and offset are
// ignored, so a client sending the contract's names gets the first 25
// elements every time. page < 1, size < 1 or a non-integer is 400. The team
// list's unused= passes through. The answer is {"page":<n>,"items":[...]}
// (n as asked, 1-based) instead of {"page":..,"results":[...]}. /rules is an
// unpaged array, as in the contract.
//
// Activity (/audit/{log}): query p (0-based) and n instead of page and size;
// n is capped at 50 (also the size without n); a request without p serves
// page 0, and page= is ignored (so a client sending it gets page 0 forever);
// sort is ignored: newest first always. p < 0, n < 1 or a non-integer is 400.
// The answer is {"data":{"events":[...]},"number":..,"size":..,"totalPages":..,
// "totalElements":..,"last":..} (the events under the dotted path data.events;
// number, size, totalPages, totalElements and last as the contract computes
// them for the capped size; content, numberOfElements, first and empty are
// gone).
//
// Field renames in answers (contract → v2; per element kind, top-level keys
// only, nested objects such as timeRanges and data unchanged):
//
//	conversations        (/reports/chat/conversations)  conversationId→id, start→startedAt, end→endedAt
//	conversation_agents  (/reports/chat/agents)         userId→agent
//	messages             (/reports/chat/messages)       id→messageId, timestamp→sentAt
//	users                (/users)                       email→mail, displayName→name
//	customers            (/customers)                   firstName→givenName, lastName→familyName
//	agent_times          (/reports/agent/times/*)       userId→agent
//	visits               (/reports/visit/table)         visitId→id
//	activity             (/audit/*)                     timestamp→time
//
// Numbers where the contract has strings: the values of a bucketed report
// (results.<day>.<group>) and of realtime (results.<metric>) are JSON numbers
// with the same decimal text (205, not "205"; 12.345, not "12.345"); visits'
// and co-browse's durationSeconds are JSON numbers (the simulator's contract
// form already answers numbers there; v2 guarantees it).
//
// Everything else (report metric names, groupBy values, day keys yyyy/MM/dd,
// ISO times, ids, the teams, roles and rules elements) is as in the contract.
// DIALECT-V2.md says the same for readers of the config file.
var DialectV2 = Dialect{
	Name: "v2",
	Paths: []Rename{
		{Contract: "/report/", Dialect: "/reports/"},
		{Contract: "/activity/", Dialect: "/audit/"},
		{Contract: "/user", Dialect: "/users"},
		{Contract: "/team", Dialect: "/teams"},
		{Contract: "/customer", Dialect: "/customers"},
		{Contract: "/role", Dialect: "/roles"},
		{Contract: "/rule", Dialect: "/rules"},
		{Contract: "/openinghours", Dialect: "/opening-hours"},
		{Contract: "/slarule", Dialect: "/slarules"},
	},
	ConversationParam: "conversation",
	DateFilter:        DateForm{PeriodKey: "period", Period: "CUSTOM", FromKey: "fromDate", ToKey: "toDate"},
	Lists: Paging{PageParam: "page", SizeParam: "size", FirstPage: 1, MaxSize: 25,
		NumberKey: "page", Items: "items"},
	Activity: Paging{PageParam: "p", SizeParam: "n", FirstPage: 0, MaxSize: 50,
		NumberKey: "number", Items: "data.events", Keep: []string{"size", "totalPages", "totalElements", "last"}},
	Fields: map[string][]Rename{
		"conversations":       {{"conversationId", "id"}, {"start", "startedAt"}, {"end", "endedAt"}},
		"conversation_agents": {{"userId", "agent"}},
		"messages":            {{"id", "messageId"}, {"timestamp", "sentAt"}},
		"users":               {{"email", "mail"}, {"displayName", "name"}},
		"customers":           {{"firstName", "givenName"}, {"lastName", "familyName"}},
		"agent_times":         {{"userId", "agent"}},
		"visits":              {{"visitId", "id"}},
		"activity":            {{"timestamp", "time"}},
	},
	Numbers: map[string][]string{
		"reports":  {"results.*.*"},
		"realtime": {"results.*"},
		"visits":   {"durationSeconds"},
		"cobrowse": {"durationSeconds"},
	},
}

// Dialects are the dialects by name, as `engage-etl simulate --dialect` and
// Config.Dialect take them. Do not modify them: copy one and change the copy.
var Dialects = map[string]Dialect{"contract": DialectContract, "v2": DialectV2}

// DialectNames lists the names of Dialects, sorted.
func DialectNames() []string {
	out := make([]string, 0, len(Dialects))
	for name := range Dialects {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

// LookupDialect finds a dialect by name; "" is the contract.
func LookupDialect(name string) (Dialect, error) {
	if name == "" {
		return DialectContract, nil
	}
	d, ok := Dialects[name]
	if !ok {
		return Dialect{}, fmt.Errorf("unknown dialect %q: use one of %s", name, strings.Join(DialectNames(), ", "))
	}
	return d, nil
}

func (d Dialect) isContract() bool { return d.Name == "" || d.Name == DialectContract.Name }

// contractPath renames a dialect path below Prefix to the contract's.
func (d Dialect) contractPath(path string) (string, bool) {
	for _, p := range d.Paths {
		if strings.HasSuffix(p.Dialect, "/") {
			if rest, ok := strings.CutPrefix(path, p.Dialect); ok && rest != "" {
				return p.Contract + rest, true
			}
		} else if path == p.Dialect {
			return p.Contract, true
		}
	}
	return "", false
}
