package engage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is the vendor cloud.
const DefaultBaseURL = "https://api.chatvisor.com/rest/v1"

// RetryPolicy bounds how often and how long a request is retried. A 429 is
// backpressure, not a failure: it slows the tenant's pace and the request
// waits (Retry-After, else the backoff) without using up an attempt, for at
// most MaxThrottled in all; attempts count the failures (5xx, resets,
// timeouts, bodies cut short).
type RetryPolicy struct {
	MaxAttempts   int           // attempts for failures, including the first
	BaseDelay     time.Duration // first backoff; doubles on every attempt
	MaxDelay      time.Duration // cap of one backoff
	MaxRetryAfter time.Duration // cap of a server-requested Retry-After
	MaxThrottled  time.Duration // how long 429s may hold one request back; 0: until its context ends
}

// DefaultRetryPolicy suits the Engage rate limits: five attempts over about
// 15s for failures, and up to 15 minutes of 429s.
var DefaultRetryPolicy = RetryPolicy{
	MaxAttempts:   5,
	BaseDelay:     500 * time.Millisecond,
	MaxDelay:      10 * time.Second,
	MaxRetryAfter: 2 * time.Minute,
	MaxThrottled:  15 * time.Minute,
}

// DefaultTimeout bounds one request, answer included.
const DefaultTimeout = 2 * time.Minute

// Attempt describes one HTTP exchange, for metrics.
type Attempt struct {
	Method   string
	Path     string
	Status   int // 0 when no answer arrived
	Err      error
	Duration time.Duration
	Retry    bool          // whether another attempt follows
	Waited   time.Duration // for its turn in the shared budget (WithBudget), before it was sent
}

// Client talks to one tenant of the Engage API. It is safe for concurrent use;
// its pacing is shared by every caller.
type Client struct {
	base     *url.URL
	token    string
	agent    string // User-Agent
	http     *http.Client
	pace     *pacer
	retry    RetryPolicy
	log      *slog.Logger
	observe  func(Attempt)
	jitterFn func(time.Duration) time.Duration
	budget   Budget       // shared with other processes; nil: the pace alone
	skew     atomic.Int64 // the server's clock minus ours, in ms, from the latest Date header; see ClockSkew
	skewSeen atomic.Bool
}

// ClockSkew returns how far the server's clock was ahead of ours (negative:
// behind) at its latest answer, from its Date header, to the second; ok is
// false until an answer had one. The API stamps events by its clock, and an
// activity log's cursor follows it (kinds.Def.APIClock): status says so
// when the two differ by more than a minute.
func (c *Client) ClockSkew() (skew time.Duration, ok bool) {
	return time.Duration(c.skew.Load()) * time.Millisecond, c.skewSeen.Load()
}

// Option configures a Client.
type Option func(*Client) error

// WithBaseURL sets the API root, e.g. https://api.chatvisor.com/rest/v1.
func WithBaseURL(raw string) Option {
	return func(c *Client) error {
		u, err := ParseBaseURL(raw)
		c.base = u
		return err
	}
}

// ParseBaseURL checks an API root: http or https, a host, no credentials.
func ParseBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSuffix(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("base URL %q: want http(s)://host/rest/v1", redactURL(raw))
	}
	if u.User != nil {
		return nil, errors.New("base URL must not contain credentials: put the token in the token setting")
	}
	return u, nil
}

// WithHTTPClient replaces the default http.Client (timeouts, transports, tests).
func WithHTTPClient(h *http.Client) Option {
	return func(c *Client) error { c.http = h; return nil }
}

// WithRate paces requests to rps per second with bursts of burst; rps <= 0
// disables pacing (for a local simulator). 429s lower the pace for a while
// either way.
func WithRate(rps float64, burst int) Option {
	return func(c *Client) error { c.pace = newPacer(rps, burst); return nil }
}

// Budget is a request budget the client shares with other processes that
// use the same API key (a fleet of daemons): Reserve takes one request from
// it and says how long to wait before sending it.
type Budget interface {
	Reserve(ctx context.Context) (time.Duration, error)
}

// WithBudget makes every request also wait its turn in b, on top of the
// client's own pace (which still halves on a 429: a safety net). When b
// cannot be reached the client goes on at its own pace, and logs it.
func WithBudget(b Budget) Option {
	return func(c *Client) error { c.budget = b; return nil }
}

// WithTimeout bounds one request, answer included (default DefaultTimeout).
// A request that times out is retried like a reset.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return errors.New("timeout must be positive")
		}
		c.http.Timeout = d
		return nil
	}
}

// WithRetry sets the retry policy.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		if p.MaxAttempts < 1 {
			return errors.New("retry: max attempts must be at least 1")
		}
		c.retry = p
		return nil
	}
}

// WithLogger sets the logger for retries.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error { c.log = l; return nil }
}

// WithUserAgent sets the User-Agent of every request, e.g. engage-etl/v1.2.0.
func WithUserAgent(ua string) Option {
	return func(c *Client) error { c.agent = ua; return nil }
}

// WithObserver calls fn after every HTTP exchange (for metrics).
func WithObserver(fn func(Attempt)) Option {
	return func(c *Client) error { c.observe = fn; return nil }
}

// New returns a client that authenticates with token.
func New(token string, opts ...Option) (*Client, error) {
	c := &Client{
		token:   token,
		agent:   "engage-etl",
		http:    &http.Client{Timeout: DefaultTimeout},
		pace:    newPacer(5, 5),
		retry:   DefaultRetryPolicy,
		log:     slog.New(slog.DiscardHandler),
		observe: func(Attempt) {},
		// Equal jitter: half the backoff is certain, half random, so retries of
		// many parallel windows spread out without ever retrying at once.
		jitterFn: func(d time.Duration) time.Duration { return d/2 + rand.N(d/2+1) },
	}
	if err := WithBaseURL(DefaultBaseURL)(c); err != nil {
		return nil, err
	}
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	if token == "" {
		return nil, errors.New("empty API token")
	}
	return c, nil
}

// Request is one API call. Body, when set, is sent as JSON.
type Request struct {
	Method string
	Path   string // below the base URL, e.g. /report/agent
	Query  url.Values
	Body   []byte
}

// Do sends req and hands a successful (2xx) body to decode. The whole exchange,
// decode included, is retried while the failure is Retryable, so decode must
// not keep state across calls: each call sees a complete new body.
func (c *Client) Do(ctx context.Context, req Request, decode func(io.Reader) error) error {
	attempts, throttles := 0, 0
	var throttledSince time.Time
	counters, _ := ctx.Value(requestCounterKey{}).([]*atomic.Int64)
	for {
		for _, n := range counters {
			n.Add(1)
		}
		err := c.once(ctx, req, decode)
		now := time.Now()
		if err == nil {
			c.pace.ok(now)
			return nil
		}
		if ctx.Err() != nil {
			return err
		}
		var delay time.Duration
		if isThrottled(err) {
			c.pace.throttled(now)
			throttles++
			if throttledSince.IsZero() {
				throttledSince = now
			}
			if c.retry.MaxThrottled > 0 && now.Sub(throttledSince) >= c.retry.MaxThrottled {
				return fmt.Errorf("throttled for %s (%d answers 429): %w", now.Sub(throttledSince).Round(time.Second), throttles, err)
			}
			delay = c.backoff(min(throttles, 8), err)
			c.log.Debug("engage API throttles: waiting", "path", req.Path, "delay", delay, "pace", c.pace.current())
		} else {
			attempts++
			if !Retryable(err) || attempts >= c.retry.MaxAttempts {
				if attempts > 1 {
					return fmt.Errorf("after %d attempts: %w", attempts, err)
				}
				return err
			}
			delay = c.backoff(attempts, err)
			c.log.Warn("retrying engage request", "path", req.Path, "attempt", attempts, "delay", delay, "error", err)
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%w (last error: %w)", ctx.Err(), err)
		case <-t.C:
		}
	}
}

type requestCounterKey struct{}

// CountingRequests returns a context under which every request Do sends,
// each retry and each answer 429 included, adds one to n: what a stream's
// run asked of the API, for its run history and the estimate's check.
// Counters nest: a request counts in every counter of its context (a
// stream's and its run's).
func CountingRequests(ctx context.Context, n *atomic.Int64) context.Context {
	outer, _ := ctx.Value(requestCounterKey{}).([]*atomic.Int64)
	return context.WithValue(ctx, requestCounterKey{}, append(slices.Clip(outer), n))
}

// isThrottled reports whether err is the API's 429: backpressure.
func isThrottled(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && apiErr.Status == http.StatusTooManyRequests
}

func (c *Client) backoff(attempt int, err error) time.Duration {
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.RetryAfter > 0 {
		return min(apiErr.RetryAfter, c.retry.MaxRetryAfter)
	}
	d := c.retry.BaseDelay << (attempt - 1)
	if d <= 0 || d > c.retry.MaxDelay {
		d = c.retry.MaxDelay
	}
	return c.jitterFn(d)
}

func (c *Client) once(ctx context.Context, req Request, decode func(io.Reader) error) (err error) {
	if err := c.pace.lim.Wait(ctx); err != nil {
		return err
	}
	waited, err := c.waitBudget(ctx)
	if err != nil {
		return err
	}
	start := time.Now()
	status := 0
	defer func() {
		c.observe(Attempt{Method: req.Method, Path: req.Path, Status: status, Err: err,
			Duration: time.Since(start), Retry: Retryable(err), Waited: waited})
	}()

	u := *c.base
	u.Path = c.base.Path + req.Path
	u.RawQuery = req.Query.Encode()
	var body io.Reader
	if req.Body != nil {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, u.String(), body)
	if err != nil {
		return err
	}
	hreq.Header.Set("Authorization", "Bearer "+c.token)
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", c.agent)
	if req.Body != nil {
		hreq.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return fmt.Errorf("%s %s: %w", req.Method, req.Path, unwrapURLError(err))
	}
	defer resp.Body.Close()
	status = resp.StatusCode
	if at, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
		// Date has whole seconds: half a second is the midpoint of its error.
		c.skew.Store(at.Add(500 * time.Millisecond).Sub(time.Now()).Milliseconds())
		c.skewSeen.Store(true)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return newAPIError(req.Method, req.Path, resp)
	}
	answer := &headReader{r: resp.Body}
	if err := decode(answer); err != nil {
		io.Copy(io.Discard, io.LimitReader(answer, AnswerHead)) // the head of what decode left unread
		return fmt.Errorf("%s %s: %w", req.Method, req.Path,
			&AnswerError{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Size: answer.n, Head: answer.head, Err: err})
	}
	return nil
}

// waitBudget waits for the request's turn in the shared budget, and
// returns how long it waited.
func (c *Client) waitBudget(ctx context.Context) (time.Duration, error) {
	if c.budget == nil {
		return 0, nil
	}
	wait, err := c.budget.Reserve(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		c.log.Warn("the shared API budget cannot be reached: going on at this process's own pace", "error", err)
		return 0, nil
	}
	if wait <= 0 {
		return 0, nil
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-t.C:
		return wait, nil
	}
}

// unwrapURLError drops *url.Error's copy of the URL: the query could hold
// parameters a user pasted into a base URL, and the path is already named.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable)"
	}
	return u.Redacted()
}
