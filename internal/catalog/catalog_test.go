package catalog

import (
	"strings"
	"testing"
	"time"
)

func TestAllStreamsAreValidAndUniquelyNamed(t *testing.T) {
	seen := map[string]bool{}
	for _, s := range All() {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
		if seen[s.Name] {
			t.Errorf("duplicate stream name %s", s.Name)
		}
		seen[s.Name] = true
	}
	for _, want := range []string{"agent_online_time_by_agent", "agent_logged_in_time_by_agent", "agent_times_online", "agent_times_loggedin"} {
		if !seen[want] {
			t.Errorf("stream %s is missing", want)
		}
	}
}

func TestApplyOverrides(t *testing.T) {
	path := "/report/agents"
	days := 3
	look := 5 * time.Hour
	off := false
	got, err := Apply(All(),
		map[string]Override{"agent": {Path: &path}},
		map[string]Override{
			"agent_online_time_by_agent": {WindowDays: &days, Lookback: &look},
			"agent_times_loggedin":       {Enabled: &off},
		})
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Stream{}
	for _, s := range got {
		byName[s.Name] = s
	}
	if s := byName["agent_online_time_by_agent"]; s.Path != path || s.WindowDays != 3 || s.Lookback != look {
		t.Errorf("override not applied: %+v", s)
	}
	if s := byName["agent_logged_in_time_by_agent"]; s.Path != path || s.WindowDays != reportWindowDays {
		t.Errorf("report override not applied or stream override leaked: %+v", s)
	}
	if _, ok := byName["agent_times_loggedin"]; ok {
		t.Error("disabled stream still listed")
	}
	if s := All()[0]; s.Path != "/report/agent" {
		t.Errorf("Apply changed the declared catalog: %s", s.Path)
	}
}

func TestApplyRejectsUnknownKeysAndBadValues(t *testing.T) {
	bad := "report/agent"
	zero := 0
	tests := []struct {
		name              string
		byReport, byStrem map[string]Override
		want              string
	}{
		{"unknown report", map[string]Override{"agnet": {}}, nil, "reports.agnet: no such report"},
		{"unknown stream", nil, map[string]Override{"nope": {}}, "streams.nope: no such stream"},
		{"relative path", nil, map[string]Override{"agent_times_online": {Path: &bad}}, "streams.agent_times_online.path"},
		{"zero window", nil, map[string]Override{"agent_times_online": {WindowDays: &zero}}, "window_days"},
	}
	for _, tt := range tests {
		_, err := Apply(All(), tt.byReport, tt.byStrem)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got error %v, want it to contain %q", tt.name, err, tt.want)
		}
	}
}

func TestSelect(t *testing.T) {
	got, err := Select(All(), []string{"agent_times_*"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Errorf("agent_times_* selected %d streams, want 2", len(got))
	}
	if _, err := Select(All(), []string{"agnet_*"}); err == nil {
		t.Error("a pattern matching nothing was accepted")
	}
}

func TestNearest(t *testing.T) {
	known := []string{"agent", "chat", "session/metrics", "conversations"}
	for in, want := range map[string]string{"agnet": "agent", "Chat": "chat", "conversatons": "conversations", "zzzzzzzz": ""} {
		if got := Nearest(in, known); got != want {
			t.Errorf("Nearest(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestAfterNamesStreamsOfTheSamePhase: a stream waits only for streams that
// exist, load in its phase, and do not wait for it in turn.
func TestAfterNamesStreamsOfTheSamePhase(t *testing.T) {
	byName := map[string]Stream{}
	for _, s := range All() {
		byName[s.Name] = s
	}
	for _, s := range All() {
		for _, name := range s.After {
			after, ok := byName[name]
			switch {
			case !ok:
				t.Errorf("%s: After names %q, no stream", s.Name, name)
			case after.Phase != s.Phase:
				t.Errorf("%s (phase %d): After names %s of phase %d", s.Name, s.Phase, name, after.Phase)
			}
			seen := map[string]bool{s.Name: true}
			var walk func(string)
			walk = func(n string) {
				if seen[n] {
					t.Errorf("%s: After makes a cycle through %s", s.Name, n)
					return
				}
				seen[n] = true
				for _, next := range byName[n].After {
					walk(next)
				}
			}
			walk(name)
		}
	}
}
