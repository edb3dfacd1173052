package engagesim

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// WithDialect serves dialect d in front of h, a handler of the contract (such
// as (*Server).ContractHandler()): it translates each request below Prefix to
// the contract, lets h answer it, and translates the answer back. tenants
// give each token's time zone, in which the dialect's local dates are read;
// a request without a known token goes to h unchanged (h answers 401).
// Errors the wrapper answers itself (404, 400) carry the wall-clock time;
// (*Server).DialectHandler uses the simulated clock instead. For the
// contract dialect WithDialect returns h.
func WithDialect(h http.Handler, d Dialect, tenants []TenantConfig) http.Handler {
	return newDialectHandler(h, d, tenants, time.Now)
}

// DialectHandler serves this server's world in dialect d, whatever
// Config.Dialect says.
func (s *Server) DialectHandler(d Dialect) http.Handler {
	return newDialectHandler(s.mux, d, s.cfg.Tenants, s.clock.now)
}

// ContractHandler serves this server's world as CONTRACT.md has it, whatever
// Config.Dialect says.
func (s *Server) ContractHandler() http.Handler { return s.mux }

func newDialectHandler(h http.Handler, d Dialect, tenants []TenantConfig, now func() time.Time) http.Handler {
	if d.isContract() {
		return h
	}
	x := &dialectHandler{inner: h, d: d, locs: map[string]*time.Location{}, now: now}
	for _, tc := range tenants {
		loc, err := time.LoadLocation(tc.Timezone)
		if err != nil {
			loc = time.UTC // New refuses such a tenant; a bare wrapper reads it as UTC
		}
		x.locs[tc.Token] = loc
	}
	return x
}

type dialectHandler struct {
	inner http.Handler
	d     Dialect
	locs  map[string]*time.Location // by token
	now   func() time.Time
}

// What a contract route's request and answer look like.
type (
	bodyForm   int
	queryForm  int
	answerForm int
)

const (
	bodyAsIs bodyForm = iota
	bodyDateFilter
	bodyReport
)

const (
	queryNone queryForm = iota
	queryList
	queryActivity
	queryMessages
)

const (
	answerObject   answerForm = iota // the answer is one element
	answerArray                      // an array of elements
	answerList                       // {"page":n,"results":[...]}
	answerActivity                   // a Spring Page, elements under content
)

type dialectRoute struct {
	kind   string // element kind
	body   bodyForm
	query  queryForm
	answer answerForm
}

// contractRoute describes a contract path below Prefix.
func contractRoute(path string) dialectRoute {
	switch path {
	case "/report/realtime":
		return dialectRoute{"realtime", bodyAsIs, queryNone, answerObject}
	case "/report/agent/times/online", "/report/agent/times/loggedin":
		return dialectRoute{"agent_times", bodyDateFilter, queryNone, answerArray}
	case "/report/chat/conversations":
		return dialectRoute{"conversations", bodyDateFilter, queryNone, answerArray}
	case "/report/chat/agents":
		return dialectRoute{"conversation_agents", bodyDateFilter, queryNone, answerArray}
	case "/report/chat/messages":
		return dialectRoute{"messages", bodyAsIs, queryMessages, answerArray}
	case "/report/visit/table":
		return dialectRoute{"visits", bodyDateFilter, queryNone, answerArray}
	case "/report/cobrowse/table":
		return dialectRoute{"cobrowse", bodyDateFilter, queryNone, answerArray}
	case "/user":
		return dialectRoute{"users", bodyAsIs, queryList, answerList}
	case "/team":
		return dialectRoute{"teams", bodyAsIs, queryList, answerList}
	case "/customer":
		return dialectRoute{"customers", bodyAsIs, queryList, answerList}
	case "/role":
		return dialectRoute{"roles", bodyAsIs, queryList, answerList}
	case "/rule":
		return dialectRoute{"rules", bodyAsIs, queryNone, answerArray}
	case "/openinghours":
		return dialectRoute{"opening_hours", bodyAsIs, queryNone, answerArray}
	case "/slarule":
		return dialectRoute{"sla_rules", bodyAsIs, queryNone, answerArray}
	}
	if strings.HasPrefix(path, "/activity/") {
		return dialectRoute{"activity", bodyAsIs, queryActivity, answerActivity}
	}
	// Bucketed reports, and what the contract does not know (its 404).
	return dialectRoute{"reports", bodyReport, queryNone, answerObject}
}

func (x *dialectHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest, below := strings.CutPrefix(r.URL.Path, Prefix)
	if !below || (rest != "" && rest[0] != '/') {
		x.inner.ServeHTTP(w, r) // /__sim/... and whatever else is not the API
		return
	}
	loc, known := x.locs[requestToken(r)]
	if !known {
		x.inner.ServeHTTP(w, r) // the contract's 401
		return
	}
	path, ok := x.d.contractPath(rest)
	if !ok {
		x.fail(w, r, http.StatusNotFound, "No endpoint "+r.Method+" "+r.URL.Path)
		return
	}
	rt := contractRoute(path)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		x.fail(w, r, http.StatusBadRequest, "cannot read body: "+err.Error())
		return
	}
	query, err := x.query(r.URL.Query(), path, rt.query)
	if err == nil && r.Method == http.MethodPost {
		body, err = x.body(body, rt.body, loc)
	}
	if err != nil {
		x.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}

	in := r.Clone(r.Context())
	in.URL.Path, in.URL.RawPath = Prefix+path, ""
	in.URL.RawQuery = query.Encode()
	in.RequestURI = in.URL.RequestURI()
	in.Body = io.NopCloser(bytes.NewReader(body))
	in.ContentLength = int64(len(body))
	rec := &recorder{outer: w, header: http.Header{}}
	x.inner.ServeHTTP(rec, in)

	switch {
	case rec.hijacked:
		return // a reset: the connection is gone
	case rec.status == 0:
		panic(http.ErrAbortHandler) // the contract wanted a reset this writer cannot do
	case rec.truncated():
		rec.replay(w) // a truncated answer stays truncated
		return
	case rec.status != http.StatusOK:
		x.passError(w, rec, in.URL.Path, r.URL.Path)
		return
	}
	out, err := x.answer(rec.body.Bytes(), rt, query)
	if err != nil {
		x.fail(w, r, http.StatusInternalServerError, "dialect "+x.d.Name+": "+err.Error())
		return
	}
	copyHeader(w.Header(), rec.header)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// requestToken reads the token as the simulator does: the Bearer header,
// else the access_token query parameter.
func requestToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		return strings.TrimPrefix(h, "Bearer ")
	}
	return r.URL.Query().Get("access_token")
}

// query builds the contract's query from the dialect's: only what the
// dialect defines, plus access_token and the team list's unused.
func (x *dialectHandler) query(q url.Values, path string, form queryForm) (url.Values, error) {
	out := url.Values{}
	if v, ok := q["access_token"]; ok {
		out["access_token"] = v
	}
	switch form {
	case queryMessages:
		if v, ok := q[x.d.ConversationParam]; ok {
			out["conversationId"] = v
		}
	case queryList:
		if path == "/team" {
			if v, ok := q["unused"]; ok {
				out["unused"] = v
			}
		}
		page, size, err := x.d.Lists.read(q)
		if err != nil {
			return nil, err
		}
		out.Set("pageNumber", strconv.Itoa(page-x.d.Lists.FirstPage))
		out.Set("pageSize", strconv.Itoa(size))
	case queryActivity:
		page, size, err := x.d.Activity.read(q)
		if err != nil {
			return nil, err
		}
		out.Set("page", strconv.Itoa(page-x.d.Activity.FirstPage))
		out.Set("size", strconv.Itoa(size))
	}
	return out, nil
}

// read takes the page number (in the dialect's numbering) and the capped size.
func (p Paging) read(q url.Values) (page, size int, err error) {
	page, size = p.FirstPage, p.MaxSize
	if v := q.Get(p.PageParam); v != "" {
		if page, err = strconv.Atoi(v); err != nil || page < p.FirstPage || page > 1<<30 {
			return 0, 0, fmt.Errorf("%s=%q must be a number from %d", p.PageParam, v, p.FirstPage)
		}
	}
	if v := q.Get(p.SizeParam); v != "" {
		if size, err = strconv.Atoi(v); err != nil || size < 1 {
			return 0, 0, fmt.Errorf("%s=%q must be a positive number", p.SizeParam, v)
		}
	}
	return page, min(size, p.MaxSize), nil
}

// body translates a request body to the contract's.
func (x *dialectHandler) body(b []byte, form bodyForm, loc *time.Location) ([]byte, error) {
	switch form {
	case bodyDateFilter:
		return x.dateFilter(b, loc)
	case bodyReport:
		var req map[string]json.RawMessage
		if json.Unmarshal(b, &req) != nil || req == nil {
			return b, nil // the contract's 400 names what is wrong
		}
		f, ok := req["dateFilter"]
		if !ok {
			return b, nil
		}
		f, err := x.dateFilter(f, loc)
		if err != nil {
			return nil, fmt.Errorf("dateFilter: %w", err)
		}
		req["dateFilter"] = f
		return json.Marshal(req)
	}
	return b, nil
}

// dateFilter turns the dialect's date filter into the contract's.
func (x *dialectHandler) dateFilter(b []byte, loc *time.Location) ([]byte, error) {
	df := x.d.DateFilter
	var f map[string]json.RawMessage
	if err := json.Unmarshal(b, &f); err != nil || f == nil {
		return nil, fmt.Errorf("the date filter must be a JSON object such as %s", df.example())
	}
	var period string
	if json.Unmarshal(f[df.PeriodKey], &period) != nil || period != df.Period {
		return nil, fmt.Errorf("%s must be %q, as in %s", df.PeriodKey, df.Period, df.example())
	}
	day := func(key string) (civil.Date, error) {
		var s string
		if raw, ok := f[key]; !ok {
			return civil.Date{}, fmt.Errorf("%s is required, as in %s", key, df.example())
		} else if json.Unmarshal(raw, &s) != nil {
			return civil.Date{}, fmt.Errorf("%s=%s must be a local day YYYY-MM-DD", key, raw)
		}
		d, err := civil.Parse(s)
		if err != nil {
			return civil.Date{}, fmt.Errorf("%s=%q must be a local day YYYY-MM-DD", key, s)
		}
		return d, nil
	}
	from, err := day(df.FromKey)
	if err != nil {
		return nil, err
	}
	to, err := day(df.ToKey)
	if err != nil {
		return nil, err
	}
	if !from.Before(to) {
		return nil, fmt.Errorf("%s (%s) must be before %s (%s), which is exclusive", df.FromKey, from, df.ToKey, to)
	}
	return fmt.Appendf(nil, `{"grouping":"CUSTOM","from":%d,"to":%d}`,
		from.Start(loc).UnixMilli(), to.Start(loc).UnixMilli()), nil
}

func (df DateForm) example() string {
	return fmt.Sprintf(`{%q:%q,%q:"2026-11-01",%q:"2026-11-02"}`, df.PeriodKey, df.Period, df.FromKey, df.ToKey)
}

// answer translates a contract answer to the dialect's.
func (x *dialectHandler) answer(b []byte, rt dialectRoute, query url.Values) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers keep their exact text
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("contract answer: %w", err)
	}
	switch rt.answer {
	case answerObject:
		v = x.element(rt.kind, v)
	case answerArray:
		v = x.elements(rt.kind, v)
	case answerList, answerActivity:
		page, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("contract page is not an object")
		}
		p, items, number, numberParam := x.d.Lists, page["results"], "page", "pageNumber"
		if rt.answer == answerActivity {
			p, items, number, numberParam = x.d.Activity, page["content"], "number", "page"
		}
		out := map[string]any{}
		for _, k := range p.Keep {
			if val, ok := page[k]; ok {
				out[k] = val
			}
		}
		n, _ := strconv.Atoi(query.Get(numberParam))
		if raw, ok := page[number].(json.Number); ok {
			if i, err := raw.Int64(); err == nil {
				n = int(i)
			}
		}
		out[p.NumberKey] = n + p.FirstPage
		setPath(out, p.Items, x.elements(rt.kind, items))
		v = out
	}
	return json.Marshal(v)
}

func (x *dialectHandler) elements(kind string, v any) any {
	a, ok := v.([]any)
	if !ok {
		return v
	}
	for i := range a {
		a[i] = x.element(kind, a[i])
	}
	return a
}

// element renames an element's keys and turns decimal strings into numbers.
func (x *dialectHandler) element(kind string, v any) any {
	for _, path := range x.d.Numbers[kind] {
		v = numbersAt(v, strings.Split(path, "."))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	renames := x.d.Fields[kind]
	moved := map[string]any{}
	for _, rn := range renames {
		if val, ok := m[rn.Contract]; ok {
			moved[rn.Dialect] = val
			delete(m, rn.Contract)
		}
	}
	for k, val := range moved {
		m[k] = val
	}
	return m
}

// numbersAt turns the decimal strings at a path ("*": every key) into numbers.
func numbersAt(v any, path []string) any {
	if len(path) == 0 {
		if s, ok := v.(string); ok && isJSONNumber(s) {
			return json.Number(s)
		}
		return v
	}
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	if path[0] == "*" {
		for k, val := range m {
			m[k] = numbersAt(val, path[1:])
		}
	} else if val, ok := m[path[0]]; ok {
		m[path[0]] = numbersAt(val, path[1:])
	}
	return m
}

// isJSONNumber reports whether s is a number in JSON's own syntax.
func isJSONNumber(s string) bool { return jsonNumberRE.MatchString(s) }

var jsonNumberRE = regexp.MustCompile(`^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$`)

// setPath sets a dotted path in m, creating the objects on the way.
func setPath(m map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	for _, k := range keys[:len(keys)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[keys[len(keys)-1]] = v
}

// passError answers the contract's error as it is, except that its path
// (and a message naming it) is the path the client asked for.
func (x *dialectHandler) passError(w http.ResponseWriter, rec *recorder, contractPath, asked string) {
	body := rec.body.Bytes()
	var e map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if dec.Decode(&e) == nil && e != nil {
		if p, ok := e["path"].(string); ok && p == contractPath {
			e["path"] = asked
			if msg, ok := e["message"].(string); ok {
				e["message"] = strings.ReplaceAll(msg, contractPath, asked)
			}
			if b, err := json.Marshal(e); err == nil {
				body = b
			}
		}
	}
	copyHeader(w.Header(), rec.header)
	w.WriteHeader(rec.status)
	w.Write(body)
}

// fail answers an error of the wrapper's own in the contract's error format.
func (x *dialectHandler) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	writeJSON(w, status, map[string]any{
		"timestamp": isoTime(x.now()),
		"status":    status,
		"error":     http.StatusText(status),
		"message":   message,
		"path":      r.URL.Path,
	})
}

func copyHeader(dst, src http.Header) {
	for k, v := range src {
		if k != "Content-Length" {
			dst[k] = v
		}
	}
}

// recorder keeps the contract's answer for translation; a reset (Hijack)
// goes to the real connection.
type recorder struct {
	outer    http.ResponseWriter
	header   http.Header
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	return r.body.Write(b)
}

func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := r.outer.(http.Hijacker)
	if !ok {
		return nil, nil, http.ErrNotSupported
	}
	r.hijacked = true
	return hj.Hijack()
}

// truncated reports an answer shorter than its Content-Length (a fault).
func (r *recorder) truncated() bool {
	n := r.header.Get("Content-Length")
	return n != "" && n != strconv.Itoa(r.body.Len())
}

// replay answers exactly what the contract answered, Content-Length included.
func (r *recorder) replay(w http.ResponseWriter) {
	for k, v := range r.header {
		w.Header()[k] = v
	}
	w.WriteHeader(r.status)
	w.Write(r.body.Bytes())
}
