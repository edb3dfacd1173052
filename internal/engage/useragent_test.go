package engage_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/engage-etl/engage-etl/internal/engage"
)

// TestClientSendsItsUserAgentOnEveryAttempt checks the header on the first
// attempt and on a retry, with the default and with WithUserAgent.
func TestClientSendsItsUserAgentOnEveryAttempt(t *testing.T) {
	var mu sync.Mutex
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Header.Get("User-Agent"))
		first := len(got)%2 == 1
		mu.Unlock()
		if first { // every odd request fails once, so the retry is seen too
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, `[]`)
	}))
	t.Cleanup(srv.Close)

	for _, tc := range []struct {
		opts []engage.Option
		want string
	}{
		{nil, "engage-etl"},
		{[]engage.Option{engage.WithUserAgent("engage-etl/v1.2.3")}, "engage-etl/v1.2.3"},
	} {
		got = nil
		c := newClient(t, srv.URL+"/rest/v1", "tok", tc.opts...)
		err := c.Do(context.Background(), engage.Request{Method: "GET", Path: "/user"}, func(r io.Reader) error {
			_, err := io.Copy(io.Discard, r)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%d requests, want 2 (a 503, then the retry)", len(got))
		}
		for i, ua := range got {
			if ua != tc.want {
				t.Errorf("request %d: User-Agent %q, want %q", i+1, ua, tc.want)
			}
		}
	}
}
