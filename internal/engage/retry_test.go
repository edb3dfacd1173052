package engage_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/engage"
)

func TestTimeoutsAreRetriedAndConfigurable(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) == 1 {
			time.Sleep(300 * time.Millisecond) // longer than the client waits
		}
		fmt.Fprint(w, `{"results":{}}`)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, "tok", engage.WithTimeout(100*time.Millisecond))
	if _, err := fetch(c, agentReport("ONLINE_TIME")); err != nil {
		t.Fatalf("a timed-out request was not retried: %v", err)
	}
	if requests.Load() != 2 {
		t.Errorf("%d requests, want 2 (a timeout, then the answer)", requests.Load())
	}
}

func TestThrottlingIsBackpressureNotFailure(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if requests.Add(1) <= 6 { // more 429s than the client has attempts
			w.Header().Set("Retry-After", "0")
			http.Error(w, `{"status":429,"message":"slow down"}`, http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, `{"results":{}}`)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, "tok", engage.WithRate(100, 10)) // 4 attempts
	if _, err := fetch(c, agentReport("ONLINE_TIME")); err != nil {
		t.Fatalf("six 429s failed the request: %v", err)
	}
	if pace := c.Pace(); pace >= 100 || pace < 5 {
		t.Errorf("pace after 429s = %v/s, want lowered from 100/s, not below the floor of 5/s", pace)
	}
}

func TestThrottlingGivesUpAfterMaxThrottled(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "0")
		http.Error(w, "{}", http.StatusTooManyRequests)
	}))
	t.Cleanup(srv.Close)
	p := engage.RetryPolicy{MaxAttempts: 2, BaseDelay: time.Millisecond, MaxDelay: 10 * time.Millisecond, MaxRetryAfter: time.Second, MaxThrottled: 200 * time.Millisecond}
	c, err := engage.New("tok", engage.WithBaseURL(srv.URL), engage.WithRate(0, 0), engage.WithRetry(p))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = fetch(c, agentReport("ONLINE_TIME"))
	if err == nil || time.Since(start) < 200*time.Millisecond || time.Since(start) > 5*time.Second {
		t.Errorf("429 forever: err %v after %v; want a failure after about 200ms", err, time.Since(start))
	}
}

func TestPaceAdaptsToTheServersLimit(t *testing.T) {
	// The server allows 20 requests a second; the client is set to 200.
	var window atomic.Int64
	var inWindow, throttled atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sec := time.Now().Unix()
		if window.Swap(sec) != sec {
			inWindow.Store(0)
		}
		if inWindow.Add(1) > 20 {
			throttled.Add(1)
			w.Header().Set("Retry-After", "1")
			http.Error(w, "{}", http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, `{"results":{}}`)
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, "tok", engage.WithRate(200, 20))
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Second)
	defer cancel()
	var done atomic.Int64
	for g := 0; g < 8; g++ {
		go func() {
			for ctx.Err() == nil {
				if _, err := fetch(c, agentReport("ONLINE_TIME")); err == nil {
					done.Add(1)
				}
			}
		}()
	}
	<-ctx.Done()
	if pace := c.Pace(); pace > 100 {
		t.Errorf("pace after 4s against a 20/s limit: %v/s, want lowered well below the configured 200/s", pace)
	}
	if done.Load() < 40 {
		t.Errorf("only %d requests succeeded in 4s against a 20/s limit", done.Load())
	}
	t.Logf("%d ok, %d throttled, pace %.1f/s", done.Load(), throttled.Load(), c.Pace())
}

func TestAnHTMLPageAnsweredWith200SaysWhatItWas(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, "<html><body>Please log in</body></html>")
	}))
	t.Cleanup(srv.Close)
	_, err := fetch(newClient(t, srv.URL, "tok"), agentReport("ONLINE_TIME"))
	var bad *engage.AnswerError
	if !errors.As(err, &bad) || bad.Status != 200 || !strings.Contains(err.Error(), "text/html") || !strings.Contains(err.Error(), "Please log in") {
		t.Errorf("err = %v; want the status, content type and first bytes of the page", err)
	}
}
