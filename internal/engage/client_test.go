package engage_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/engagesim"
)

var simNow = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

// seen records what reached the server.
type seen struct {
	mu      sync.Mutex
	queries []string
	auth    []string
}

func startSim(t *testing.T, faults engagesim.Faults) (*engagesim.Server, string, *seen) {
	t.Helper()
	sim, err := engagesim.New(engagesim.Config{Seed: 1, Days: 3, Now: simNow, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	rec := &seen{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.mu.Lock()
		rec.queries = append(rec.queries, r.URL.RawQuery)
		rec.auth = append(rec.auth, r.Header.Get("Authorization"))
		rec.mu.Unlock()
		sim.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return sim, srv.URL + engagesim.Prefix, rec
}

func newClient(t *testing.T, baseURL, token string, opts ...engage.Option) *engage.Client {
	t.Helper()
	fast := engage.RetryPolicy{MaxAttempts: 4, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond, MaxRetryAfter: 3 * time.Second}
	c, err := engage.New(token, append([]engage.Option{engage.WithBaseURL(baseURL), engage.WithRate(0, 0), engage.WithRetry(fast)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func agentReport(metric string) engage.Request {
	from, to := simNow.Add(-72*time.Hour).UnixMilli(), simNow.UnixMilli()
	body := fmt.Sprintf(`{"metrics":[{"metricName":%q,"groupBy":"AGENT"}],"dateFilter":{"grouping":"CUSTOM","from":%d,"to":%d}}`, metric, from, to)
	return engage.Request{Method: "POST", Path: "/report/agent", Body: []byte(body)}
}

func fetch(c *engage.Client, req engage.Request) (engage.ReportResponse, error) {
	var resp engage.ReportResponse
	err := c.Do(context.Background(), req, func(r io.Reader) error {
		resp = engage.ReportResponse{}
		return json.NewDecoder(r).Decode(&resp)
	})
	return resp, err
}

func TestClientRetriesEveryRetryableFault(t *testing.T) {
	for name, faults := range map[string]engagesim.Faults{
		"503":      {Rate5xx: 1, MaxConsecutive: 2},
		"truncate": {RateTruncate: 1, MaxConsecutive: 2},
		"reset":    {RateReset: 1, MaxConsecutive: 2},
	} {
		t.Run(name, func(t *testing.T) {
			_, url, rec := startSim(t, faults)
			var attempts []engage.Attempt
			c := newClient(t, url, engagesim.DefaultToken, engage.WithObserver(func(a engage.Attempt) { attempts = append(attempts, a) }))
			resp, err := fetch(c, agentReport("ONLINE_TIME"))
			if err != nil {
				t.Fatalf("request failed despite retries: %v", err)
			}
			if len(resp.Results) == 0 {
				t.Error("empty report after retries")
			}
			if len(rec.queries) != 3 || len(attempts) != 3 {
				t.Errorf("server saw %d requests, observer %d; want 3 (two faults, then success)", len(rec.queries), len(attempts))
			}
			if attempts[0].Retry != true || attempts[2].Err != nil {
				t.Errorf("attempts = %+v", attempts)
			}
		})
	}
}

func TestClientHonoursRetryAfter(t *testing.T) {
	sim, url, _ := startSim(t, engagesim.Faults{Rate429: 1, MaxConsecutive: 1, RetryAfter: time.Second})
	c := newClient(t, url, engagesim.DefaultToken)
	start := time.Now()
	if _, err := fetch(c, agentReport("ONLINE_TIME")); err != nil {
		t.Fatal(err)
	}
	// The backoff policy alone would wait milliseconds; only Retry-After explains a second.
	if waited := time.Since(start); waited < time.Second {
		t.Errorf("retried after %v, before the server's Retry-After of 1s", waited)
	}
	if sim.Stats()[429] != 1 {
		t.Errorf("stats = %v, want one 429", sim.Stats())
	}
}

func TestClientGivesUpWithATypedError(t *testing.T) {
	_, url, rec := startSim(t, engagesim.Faults{Rate5xx: 1})
	c := newClient(t, url, engagesim.DefaultToken)
	_, err := fetch(c, agentReport("ONLINE_TIME"))
	var apiErr *engage.APIError
	if !errors.As(err, &apiErr) || apiErr.Status != http.StatusServiceUnavailable {
		t.Fatalf("err = %v, want an *APIError with status 503", err)
	}
	if !engage.Retryable(err) || len(rec.queries) != 4 {
		t.Errorf("retryable=%v after %d requests, want true after 4 (max attempts)", engage.Retryable(err), len(rec.queries))
	}
	if !strings.Contains(err.Error(), "after 4 attempts") {
		t.Errorf("error %q does not say how often it tried", err)
	}
}

func TestClientDoesNotRetryClientErrors(t *testing.T) {
	_, url, rec := startSim(t, engagesim.Faults{})
	for _, tc := range []struct {
		token, metric string
		status        int
		auth          bool
	}{
		{engagesim.DefaultToken, "NOT_A_METRIC", 400, false},
		{"wrong-token", "ONLINE_TIME", 401, true},
	} {
		before := len(rec.queries)
		_, err := fetch(newClient(t, url, tc.token), agentReport(tc.metric))
		var apiErr *engage.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != tc.status {
			t.Fatalf("err = %v, want status %d", err, tc.status)
		}
		if apiErr.Message == "" {
			t.Errorf("%d: the error body's message was not read", tc.status)
		}
		if engage.IsAuth(err) != tc.auth || engage.Retryable(err) {
			t.Errorf("%d: IsAuth=%v Retryable=%v", tc.status, engage.IsAuth(err), engage.Retryable(err))
		}
		if n := len(rec.queries) - before; n != 1 {
			t.Errorf("%d was sent %d times, want once", tc.status, n)
		}
		if strings.Contains(err.Error(), "wrong-token") {
			t.Errorf("error leaks the token: %v", err)
		}
	}
}

func TestClientSendsTheTokenOnlyInTheHeader(t *testing.T) {
	_, url, rec := startSim(t, engagesim.Faults{})
	if _, err := fetch(newClient(t, url, engagesim.DefaultToken), agentReport("ONLINE_TIME")); err != nil {
		t.Fatal(err)
	}
	if rec.auth[0] != "Bearer "+engagesim.DefaultToken {
		t.Errorf("Authorization = %q", rec.auth[0])
	}
	if strings.Contains(rec.queries[0], "token") {
		t.Errorf("token in the URL: %q", rec.queries[0])
	}
}

func TestClientPacesRequests(t *testing.T) {
	_, url, _ := startSim(t, engagesim.Faults{})
	c := newClient(t, url, engagesim.DefaultToken, engage.WithRate(20, 1))
	start := time.Now()
	for i := 0; i < 5; i++ {
		if _, err := fetch(c, agentReport("ONLINE_TIME")); err != nil {
			t.Fatal(err)
		}
	}
	// 20/s with a burst of 1: the 5th request may leave 200ms after the first.
	if took := time.Since(start); took < 190*time.Millisecond {
		t.Errorf("5 requests at 20/s took %v, want at least 200ms", took)
	}
}

func TestClientStopsWhenTheContextEnds(t *testing.T) {
	_, url, _ := startSim(t, engagesim.Faults{Rate429: 1, RetryAfter: 5 * time.Second})
	c := newClient(t, url, engagesim.DefaultToken)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := c.Do(ctx, agentReport("ONLINE_TIME"), func(io.Reader) error { return nil })
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's deadline", err)
	}
}
