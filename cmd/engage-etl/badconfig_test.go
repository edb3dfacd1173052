package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Unknown report and stream names and invalid overrides are configuration
// mistakes: exit 2, the key the user wrote, and the name they probably meant.
func TestBadOverridesExitTwoNamingTheKeyAndTheNearestName(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"unknown report", "reports:\n  agnet: {path: /report/agent}\n", []string{"reports.agnet", "no such report", "did you mean agent"}},
		{"unknown stream", "streams:\n  chat_done_by_taem: {window_days: 2}\n", []string{"streams.chat_done_by_taem", "no such stream", "did you mean chat_done_by_team"}},
		{"invalid body of a report", "reports:\n  agent: {body: '{\"metrics\": ['}\n", []string{"reports.agent.body", "not valid JSON"}},
		{"invalid body of a stream", "streams:\n  conversations: {body: 'from=$from'}\n", []string{"streams.conversations.body", "not valid JSON"}},
		{"window out of range", "streams:\n  conversations: {window_days: 0}\n", []string{"streams.conversations.window_days"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "c.yaml")
			if err := os.WriteFile(p, []byte("tenants:\n  - {id: a, token: x}\n"+tt.yaml), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, cmd := range [][]string{{"sync"}, {"streams"}, {"run"}, {"status"}} {
				r := cli(t, nil, append(cmd, "--config", p)...)
				if r.code != exitUsage {
					t.Errorf("%s: exit %d, want 2; stderr %q", cmd[0], r.code, r.stderr)
				}
				for _, w := range tt.want {
					if !strings.Contains(r.stderr, w) {
						t.Errorf("%s: stderr %q does not say %q", cmd[0], r.stderr, w)
					}
				}
			}
		})
	}
	r := cli(t, map[string]string{"ENGAGE_API_TOKEN": "x"}, "sync", "--streams", "conversatons")
	if r.code != exitUsage || !strings.Contains(r.stderr, "--streams") || !strings.Contains(r.stderr, "did you mean conversations") {
		t.Errorf("--streams conversatons: exit %d, stderr %q; want 2 naming --streams and conversations", r.code, r.stderr)
	}
}
