package main

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/config"
)

// An unpaced tenant (requests_per_second 0) is meant for a local simulator:
// against any other host the commands warn, once per tenant.
func TestUnpacedTenantAgainstRemoteAPIWarns(t *testing.T) {
	for _, tc := range []struct {
		base, rps string
		warn      bool
	}{
		{"http://127.0.0.1:8089/rest/v1", "0", false},
		{"http://localhost:8089/rest/v1", "0", false},
		{"https://api.example.com/rest/v1", "0", true},
		{"https://api.example.com/rest/v1", "5", false},
	} {
		cfg, err := config.Load("", func(k string) (string, bool) {
			v, ok := map[string]string{"ENGAGE_API_TOKEN": "tok", "ENGAGE_BASE_URL": tc.base, "ENGAGE_REQUESTS_PER_SECOND": tc.rps}[k]
			return v, ok
		})
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := pipelineTenants(cfg, "", time.Now(), slog.New(slog.NewTextHandler(&buf, nil)), nil); err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(buf.String(), "unpaced"); got != tc.warn {
			t.Errorf("%s at %s/s: warned %v, want %v; log: %s", tc.base, tc.rps, got, tc.warn, buf.String())
		}
	}
}
