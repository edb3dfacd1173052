package catalog

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Override changes parts of a stream; nil fields keep the declared value.
// It is what the config file's `reports:` and `streams:` sections hold.
type Override struct {
	Path       *string
	Method     *string
	Body       *string
	Metric     *string
	GroupBy    *string
	WindowDays *int
	Lookback   *time.Duration
	Enabled    *bool
	IDsPath    *string
	PageSize   *int
}

// Apply returns streams with the overrides applied: byReport keys are report
// families (agent, session/metrics) and apply to each of their streams, then
// byStream keys (stream names) apply to one stream. Streams disabled by an
// override are left out. An unknown key or an invalid value is an error that
// names it.
func Apply(streams []Stream, byReport, byStream map[string]Override) ([]Stream, error) {
	out := slices.Clone(streams)
	for _, key := range sortedKeys(byReport) {
		found := false
		for i := range out {
			if out[i].Report == key {
				found = true
				out[i].apply(byReport[key])
			}
		}
		if !found {
			return nil, fmt.Errorf("reports.%s: no such report (known: %s)", key, strings.Join(reportNames(streams), ", "))
		}
	}
	for _, key := range sortedKeys(byStream) {
		i := slices.IndexFunc(out, func(s Stream) bool { return s.Name == key })
		if i < 0 {
			return nil, fmt.Errorf("streams.%s: no such stream (run 'engage-etl streams' for the list)", key)
		}
		out[i].apply(byStream[key])
	}
	kept := out[:0]
	for _, s := range out {
		if err := s.Validate(); err != nil {
			return nil, err
		}
		if !s.Disabled {
			kept = append(kept, s)
		}
	}
	return kept, nil
}

func (s *Stream) apply(o Override) {
	set(&s.Path, o.Path)
	set(&s.Method, o.Method)
	set(&s.Body, o.Body)
	set(&s.Metric, o.Metric)
	set(&s.GroupBy, o.GroupBy)
	set(&s.WindowDays, o.WindowDays)
	set(&s.Lookback, o.Lookback)
	set(&s.IDsPath, o.IDsPath)
	set(&s.PageSize, o.PageSize)
	if o.Enabled != nil {
		s.Disabled = !*o.Enabled
	}
}

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// Validate checks that the stream can be requested.
func (s Stream) Validate() error {
	switch {
	case !strings.HasPrefix(s.Path, "/"):
		return fmt.Errorf("streams.%s.path: %q must start with /", s.Name, s.Path)
	case s.Method != "GET" && s.Method != "POST":
		return fmt.Errorf("streams.%s.method: %q must be GET or POST", s.Name, s.Method)
	case s.WindowDays < 1 || s.WindowDays > 92:
		return fmt.Errorf("streams.%s.window_days: %d must be between 1 and 92", s.Name, s.WindowDays)
	case s.Lookback < 0:
		return fmt.Errorf("streams.%s.lookback: must not be negative", s.Name)
	case s.Kind == KindReport && s.Metric == "":
		return fmt.Errorf("streams.%s.metric: must not be empty", s.Name)
	case s.Kind.Paged() && (s.PageSize < 0 || s.PageSize > 1000):
		return fmt.Errorf("streams.%s.page_size: %d must be between 1 and 1000 (0: api.lists.page_size or api.activity.page_size)", s.Name, s.PageSize)
	case s.Kind == KindMessages && !strings.HasPrefix(s.IDsPath, "/"):
		return fmt.Errorf("streams.%s.ids_path: %q must start with /", s.Name, s.IDsPath)
	}
	if s.Body != "" && !json.Valid([]byte(s.Body)) {
		return fmt.Errorf("streams.%s.body: not valid JSON", s.Name)
	}
	return nil
}

func sortedKeys(m map[string]Override) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func reportNames(streams []Stream) []string {
	var names []string
	for _, s := range streams {
		if s.Report != "" && !slices.Contains(names, s.Report) {
			names = append(names, s.Report)
		}
	}
	return names
}
