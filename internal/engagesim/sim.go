// Package engagesim simulates the TeamViewer Engage REST API for tests, demos
// and `engage-etl simulate`.
//
// It generates one seeded world per tenant (agents in teams whose membership
// changes, customers, conversations on every channel with their status
// lifecycle and messages, website sessions and visits, co-browsing,
// conferences, routing rule matches, agent online and logged-in ranges, and
// the four activity logs) and computes every answer from it, so reports,
// detail rows, lists and activity logs reconcile exactly. Only what happened
// before the simulated now is visible: a moving clock (ClockRate, or Advance)
// brings new conversations, new events and late updates to old conversations. The same Config gives byte-identical answers. Faults
// (429 with Retry-After, 5xx, truncated bodies, connection resets) are drawn
// deterministically per identical request, and MaxConsecutive bounds how often
// one request fails in a row, so a test can demand "fails twice, then works".
//
// It serves CONTRACT.md, or the same world in a second wire dialect
// (Config.Dialect "v2", DialectV2, DIALECT-V2.md) through a translating
// wrapper (WithDialect, DialectHandler), so a client's configurable dialect
// can be tested against an API that differs from the contract.
//
// Production code paths must not import this package, except the demo and
// simulate commands.
package engagesim

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// DefaultToken authenticates the default tenant.
const DefaultToken = "sim-token"

// Prefix is the API root the simulator serves under.
const Prefix = "/rest/v1"

// Config describes the simulated world and its behaviour.
type Config struct {
	Seed      uint64
	Start     civil.Date // first local day of the world; zero: Days before Now
	Days      int        // local days of history (default 14)
	Now       time.Time  // the simulated moment the server starts at (default: wall clock)
	ClockRate float64    // simulated seconds per real second; 0 keeps the clock still
	Tenants   []TenantConfig
	Scale     float64 // conversations per tenant and weekday (default 40)
	Agents    int     // agents per tenant (default 8)
	Latency   time.Duration
	Faults    Faults
	RateLimit float64 // requests per second per token, answered 429 beyond; 0: no limit
	// CapDetails, when above 0, keeps only the first CapDetails elements of
	// every unpaged detail answer (the arrays of CONTRACT.md §4, a
	// conversation's messages included) and says nothing about it, as real
	// report APIs often do at a server-side limit.
	CapDetails int
	// MaxRangeDays, when above 0, answers 400 to a date filter spanning
	// more than that many days, as an API bounding its ranges does (the
	// vendor documents no bound; CONTRACT.md §2 assumes none).
	MaxRangeDays int
	Logger       *slog.Logger
	// Dialect is the wire dialect Handler serves, a name of Dialects:
	// "" or "contract" (CONTRACT.md), "v2" (DialectV2, DIALECT-V2.md).
	// ContractHandler and DialectHandler serve any dialect of the same world.
	Dialect string
}

// presetTenants are the tenants DefaultTenants hands out, in different zones.
var presetTenants = []TenantConfig{
	{"acme", "acme-token", "Europe/Vienna"},
	{"globex", "globex-token", "America/New_York"},
	{"initech", "initech-token", "Asia/Tokyo"},
	{"umbrella", "umbrella-token", "Australia/Sydney"},
}

// DefaultTenants returns n tenants, each in its own time zone.
func DefaultTenants(n int) []TenantConfig {
	out := make([]TenantConfig, 0, n)
	for i := 0; i < n; i++ {
		tc := presetTenants[i%len(presetTenants)]
		if i >= len(presetTenants) {
			tc.ID = fmt.Sprintf("%s%d", tc.ID, i/len(presetTenants))
			tc.Token = tc.ID + "-token"
		}
		out = append(out, tc)
	}
	return out
}

// TenantsAfter returns n tenants: first, then DefaultTenants that share
// neither its id nor its token (simulate --tenants).
func TenantsAfter(first TenantConfig, n int) []TenantConfig {
	out := []TenantConfig{first}
	for _, tc := range DefaultTenants(n + 1) {
		if len(out) == n {
			break
		}
		if tc.ID != first.ID && tc.Token != first.Token {
			out = append(out, tc)
		}
	}
	return out
}

// TenantConfig is one simulated tenant.
type TenantConfig struct {
	ID       string
	Token    string
	Timezone string // IANA
}

// Faults are fractions in [0, 1] of requests answered badly.
type Faults struct {
	Rate429        float64
	Rate5xx        float64
	RateTruncate   float64
	RateReset      float64
	RetryAfter     time.Duration // sent with 429 (default 1s)
	MaxConsecutive int           // faults in a row for one identical request; 0 = no bound
	Paths          []string      // only requests to these paths (below /rest/v1) fault; empty: all
}

// Server is the simulated API.
type Server struct {
	cfg     Config
	clock   *clock
	tenants map[string]*tenant // by token
	order   []*tenant
	mux     *http.ServeMux
	handler http.Handler // mux in Config.Dialect
	log     *slog.Logger

	mu       sync.Mutex
	faulted  map[string]int // consecutive faults per request key
	byStatus map[int]int
	byRoute  map[string]int // requests by route ("POST /report/chat/conversations"), whatever their answer
	limiters map[string]*rate.Limiter
	// delivered is, per tenant, the moment up to which webhooks were pushed.
	delivered map[string]time.Time
}

// New builds the world described by cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Days <= 0 {
		cfg.Days = 14
	}
	if cfg.Agents <= 0 {
		cfg.Agents = 8
	}
	if cfg.Agents > 100 {
		return nil, errors.New("at most 100 agents per tenant")
	}
	if cfg.Scale <= 0 {
		cfg.Scale = 40
	}
	if cfg.Now.IsZero() {
		cfg.Now = time.Now()
	}
	cfg.Now = cfg.Now.UTC().Truncate(time.Second)
	if len(cfg.Tenants) == 0 {
		cfg.Tenants = []TenantConfig{{ID: "sim", Token: DefaultToken, Timezone: "UTC"}}
	}
	if cfg.Faults.RetryAfter <= 0 {
		cfg.Faults.RetryAfter = time.Second
	}
	dialect, err := LookupDialect(cfg.Dialect)
	if err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		clock:    newClock(cfg.Now, cfg.ClockRate),
		tenants:  map[string]*tenant{},
		log:      cfg.Logger,
		faulted:  map[string]int{},
		byStatus: map[int]int{},
		byRoute:  map[string]int{},
		limiters: map[string]*rate.Limiter{},
	}
	ids := map[string]bool{}
	for _, tc := range cfg.Tenants {
		if tc.ID == "" || tc.Token == "" {
			return nil, errors.New("simulated tenant needs an id and a token")
		}
		if _, dup := s.tenants[tc.Token]; dup || ids[tc.ID] {
			return nil, fmt.Errorf("tenant %s: id or token used twice", tc.ID)
		}
		ids[tc.ID] = true
		loc, err := time.LoadLocation(tc.Timezone)
		if err != nil {
			return nil, fmt.Errorf("tenant %s: timezone %q: %w", tc.ID, tc.Timezone, err)
		}
		t := &tenant{id: tc.ID, loc: loc, seed: cfg.Seed, maxRange: cfg.MaxRangeDays}
		t.first, t.last = worldDays(cfg, loc)
		s.tenants[tc.Token] = t
		s.order = append(s.order, t)
	}
	// Tenants are independent: build them in parallel.
	var wg sync.WaitGroup
	for _, t := range s.order {
		wg.Add(1)
		go func() { defer wg.Done(); t.build(cfg) }()
	}
	wg.Wait()
	s.routes()
	s.handler = s.DialectHandler(dialect)
	return s, nil
}

// worldDays is the range of local days generated: Days from Start, or the
// Days up to Now, plus room ahead for a moving clock.
func worldDays(cfg Config, loc *time.Location) (first, last civil.Date) {
	today := civil.Of(cfg.Now, loc)
	if !cfg.Start.IsZero() {
		return cfg.Start, cfg.Start.AddDays(cfg.Days - 1)
	}
	ahead := 2
	if cfg.ClockRate > 0 {
		ahead += min(365, int(cfg.ClockRate)+1)
	}
	return today.AddDays(1 - cfg.Days), today.AddDays(ahead)
}

// Advance moves the simulated clock forward by d: what happens in between
// (new conversations, status changes, activity) becomes visible.
func (s *Server) Advance(d time.Duration) { s.clock.advance(d) }

// Tenants lists the simulated tenants.
func (s *Server) Tenants() []TenantConfig { return slices.Clone(s.cfg.Tenants) }

func (s *Server) tenantByID(id string) *tenant {
	for _, t := range s.order {
		if t.id == id {
			return t
		}
	}
	return nil
}

// Handler serves the API in Config.Dialect.
func (s *Server) Handler() http.Handler { return s.handler }

// Now is the simulated time.
func (s *Server) Now() time.Time { return s.clock.now() }

// Stats counts answers by status code (0 for resets).
func (s *Server) Stats() map[int]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.byStatus)
}

// Requests counts the requests received by route, in the contract's
// paths ("GET /activity/call"), whatever they were answered: what a run
// cost, stream group by stream group.
func (s *Server) Requests() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.byRoute)
}

// handler answers an authenticated API request with a value to encode as
// JSON, or an *apiError.
type handler func(r *http.Request, t *tenant, now time.Time) (any, error)

func (s *Server) routes() {
	s.mux = http.NewServeMux()
	api := func(pattern string, h handler) {
		method, path, _ := strings.Cut(pattern, " ")
		s.mux.Handle(method+" "+Prefix+path, s.serve(h))
	}
	for name := range reportDefs {
		api("POST /report/"+name, s.report(name))
	}
	api("POST /report/realtime", s.realtime)
	api("POST /report/agent/times/online", s.capped(s.agentTimes(func(t *tenant) []span { return t.online })))
	api("POST /report/agent/times/loggedin", s.capped(s.agentTimes(func(t *tenant) []span { return t.loggedIn })))
	api("POST /report/chat/conversations", s.capped(s.conversationsReport))
	api("POST /report/chat/agents", s.capped(s.chatAgentsReport))
	api("GET /report/chat/messages", s.capped(s.messagesReport))
	api("POST /report/visit/table", s.capped(s.visitTable))
	api("POST /report/cobrowse/table", s.capped(s.cobrowseTable))
	api("GET /user", s.users)
	api("GET /team", s.teamsList)
	api("GET /customer", s.customersList)
	api("GET /role", s.rolesList)
	api("GET /rule", s.rulesList)
	api("GET /openinghours", s.openingHoursList)
	api("GET /slarule", s.slaRulesList)
	for log, name := range logNames {
		api("GET /activity/"+name, s.activity(log))
	}
	s.mux.HandleFunc("GET /__sim/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	s.mux.HandleFunc("GET /__sim/requests", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Requests())
	})
	s.mux.HandleFunc("GET /__sim/truth", s.truthHandler)
	s.mux.HandleFunc("POST /__sim/advance", func(w http.ResponseWriter, r *http.Request) {
		d, err := time.ParseDuration(r.URL.Query().Get("by"))
		if err != nil || d < 0 {
			s.fail(w, r, s.clock.now(), &apiError{http.StatusBadRequest, "by must be a positive duration such as 90m"})
			return
		}
		s.Advance(d)
		writeJSON(w, http.StatusOK, map[string]any{"now": isoTime(s.clock.now())})
	})
	s.mux.Handle(Prefix+"/", s.serve(func(r *http.Request, _ *tenant, _ time.Time) (any, error) {
		return nil, &apiError{http.StatusNotFound, "No endpoint " + r.Method + " " + r.URL.Path}
	}))
}

// capped cuts a detail answer to Config.CapDetails elements, silently.
func (s *Server) capped(h handler) handler {
	if s.cfg.CapDetails <= 0 {
		return h
	}
	return func(r *http.Request, t *tenant, now time.Time) (any, error) {
		out, err := h(r, t, now)
		if v := reflect.ValueOf(out); err == nil && v.Kind() == reflect.Slice && v.Len() > s.cfg.CapDetails {
			return v.Slice(0, s.cfg.CapDetails).Interface(), nil
		}
		return out, err
	}
}

// serve wraps an API handler with latency, authentication, faults and the
// error body format.
func (s *Server) serve(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.Latency > 0 {
			time.Sleep(s.cfg.Latency)
		}
		s.mu.Lock()
		s.byRoute[r.Method+" "+strings.TrimPrefix(r.URL.Path, Prefix)]++
		s.mu.Unlock()
		now := s.clock.now()
		// The answer says what time it is on the simulated clock, as a
		// server's Date header says its own (the client reads the skew).
		w.Header().Set("Date", now.UTC().Format(http.TimeFormat))
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(strings.NewReader(string(body)))

		t := s.authenticate(r)
		if t == nil {
			s.fail(w, r, now, &apiError{http.StatusUnauthorized, "Full authentication is required to access this resource"})
			return
		}
		if wait, limited := s.rateLimited(t); limited {
			w.Header().Set("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
			s.fail(w, r, now, &apiError{http.StatusTooManyRequests, "Rate limit of the API token exceeded"})
			return
		}
		fault := s.drawFault(r, body)
		switch fault {
		case fault429:
			w.Header().Set("Retry-After", strconv.Itoa(int(s.cfg.Faults.RetryAfter.Round(time.Second).Seconds())))
			s.fail(w, r, now, &apiError{http.StatusTooManyRequests, "Rate limit exceeded"})
			return
		case fault5xx:
			s.fail(w, r, now, &apiError{http.StatusServiceUnavailable, "Service temporarily unavailable"})
			return
		case faultReset:
			s.count(0)
			reset(w)
			return
		}
		v, err := h(r, t, now)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = &apiError{http.StatusInternalServerError, err.Error()}
			}
			s.fail(w, r, now, ae)
			return
		}
		b, err := json.Marshal(v)
		if err != nil {
			s.fail(w, r, now, &apiError{http.StatusInternalServerError, err.Error()})
			return
		}
		s.count(http.StatusOK)
		w.Header().Set("Content-Type", "application/json")
		if fault == faultTruncate {
			// Promise the whole body, send half: the client sees an unexpected EOF.
			w.Header().Set("Content-Length", strconv.Itoa(len(b)))
			w.WriteHeader(http.StatusOK)
			w.Write(b[:len(b)/2])
			return
		}
		w.WriteHeader(http.StatusOK)
		w.Write(b)
	})
}

func (s *Server) authenticate(r *http.Request) *tenant {
	token := r.URL.Query().Get("access_token")
	if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") {
		token = strings.TrimPrefix(h, "Bearer ")
	}
	return s.tenants[token]
}

func (s *Server) count(status int) {
	s.mu.Lock()
	s.byStatus[status]++
	s.mu.Unlock()
}

// apiError is an error answered in the API's error body format.
type apiError struct {
	status  int
	message string
}

func (e *apiError) Error() string { return e.message }

func badRequest(format string, args ...any) error {
	return &apiError{http.StatusBadRequest, fmt.Sprintf(format, args...)}
}

func (s *Server) fail(w http.ResponseWriter, r *http.Request, now time.Time, e *apiError) {
	s.count(e.status)
	writeJSON(w, e.status, map[string]any{
		"timestamp": isoTime(now),
		"status":    e.status,
		"error":     http.StatusText(e.status),
		"message":   e.message,
		"path":      r.URL.Path,
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// isoTime formats like Engage: UTC with milliseconds, 2020-10-31T23:00:00.794Z.
type isoTime time.Time

func (t isoTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}
