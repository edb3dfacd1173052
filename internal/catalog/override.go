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
	Unit       *Unit
	// MaxElements and SplitDownTo: see Stream.
	MaxElements *int
	SplitDownTo *time.Duration

	// A stream the catalog does not declare is declared by the config when
	// its override names a Kind (and, for a report, its Report and Metric).
	Kind   *Kind
	Report *string
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
			names := reportNames(streams)
			return nil, &KeyError{Key: "reports." + key, Problem: "no such report", Fix: suggest(key, names, "known: "+strings.Join(names, ", "))}
		}
		if err := byReport[key].check("reports." + key); err != nil {
			return nil, err
		}
	}
	for _, key := range sortedKeys(byStream) {
		i := slices.IndexFunc(out, func(s Stream) bool { return s.Name == key })
		if i < 0 && byStream[key].Kind != nil {
			s, err := declare(streams, key, byStream[key])
			if err != nil {
				return nil, err
			}
			out, i = append(out, s), len(out)
		}
		if i < 0 {
			return nil, &KeyError{Key: "streams." + key, Problem: "no such stream", Fix: suggest(key, streamNames(streams),
				"run 'engage-etl streams' for the list, or set kind to declare a new stream")}
		}
		if err := byStream[key].check("streams." + key); err != nil {
			return nil, err
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

// check validates what an override can be judged on alone, so the error
// names the key the user wrote (reports.agent.body) rather than each stream
// the value was copied into.
func (o Override) check(key string) error {
	if o.Body != nil && !json.Valid([]byte(*o.Body)) {
		return &KeyError{Key: key + ".body", Problem: "not valid JSON", Fix: "write a JSON request template such as " + DateFilterBody}
	}
	if o.Unit != nil {
		units := []string{string(Seconds), string(Count), string(MeanSeconds)}
		if !slices.Contains(units, string(*o.Unit)) {
			return &KeyError{Key: key + ".unit", Problem: fmt.Sprintf("%q is not a unit", *o.Unit), Fix: suggest(string(*o.Unit), units, "use one of "+strings.Join(units, ", "))}
		}
	}
	return nil
}

// declare makes a stream the config declares: a copy of the first declared
// stream of its kind (of its report family, for a report), renamed, with
// what the override sets. A report stream needs its report and metric; its
// groupBy is none unless set.
func declare(known []Stream, name string, o Override) (Stream, error) {
	key := "streams." + name
	var kinds []string
	tmpl := -1
	for i, s := range known {
		if !slices.Contains(kinds, string(s.Kind)) {
			kinds = append(kinds, string(s.Kind))
		}
		if s.Kind == *o.Kind && tmpl < 0 {
			tmpl = i
		}
	}
	if tmpl < 0 {
		return Stream{}, &KeyError{Key: key + ".kind", Problem: fmt.Sprintf("no such kind %q", *o.Kind), Fix: suggest(string(*o.Kind), kinds, "use one of "+strings.Join(kinds, ", "))}
	}
	s := known[tmpl]
	if s.Kind == KindReport {
		if o.Report == nil || *o.Report == "" || o.Metric == nil || *o.Metric == "" {
			return Stream{}, &KeyError{Key: key, Problem: "a report stream needs report and metric", Fix: "e.g. report: chat, metric: CSAT_SCORE, group_by: CHANNEL, unit: mean_seconds"}
		}
		s.Report, s.GroupBy, s.Unit, s.Path = *o.Report, "", Count, "/report/"+*o.Report
		if i := slices.IndexFunc(known, func(k Stream) bool { return k.Report == *o.Report }); i >= 0 {
			s.Path = known[i].Path
		}
	}
	s.Name, s.Disabled = name, false
	return s, nil
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
	set(&s.Unit, o.Unit)
	set(&s.MaxElements, o.MaxElements)
	set(&s.SplitDownTo, o.SplitDownTo)
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
	bad := func(field, problem string) error {
		return &KeyError{Key: "streams." + s.Name + "." + field, Problem: problem}
	}
	switch {
	case !strings.HasPrefix(s.Path, "/"):
		return bad("path", fmt.Sprintf("%q must start with /", s.Path))
	case s.Method != "GET" && s.Method != "POST":
		return bad("method", fmt.Sprintf("%q must be GET or POST", s.Method))
	case s.WindowDays < 1 || s.WindowDays > 92:
		return bad("window_days", fmt.Sprintf("%d must be between 1 and 92", s.WindowDays))
	case s.Lookback < 0:
		return bad("lookback", "must not be negative")
	case s.Report != "" && s.Metric == "":
		return bad("metric", "must not be empty")
	case s.PageSize < 0 || s.PageSize > maxPageSize: // read by paged streams only
		return bad("page_size", fmt.Sprintf("%d must be between 1 and %d (0: api.lists.page_size or api.activity.page_size)", s.PageSize, maxPageSize))
	case s.MaxElements < 0:
		return bad("max_elements", fmt.Sprintf("%d must be 0 (not known: found out from the answers) or the most elements the API answers", s.MaxElements))
	case s.SplitDownTo != 0 && s.SplitDownTo < time.Minute:
		return bad("split_down_to", fmt.Sprintf("%s is shorter than a minute", s.SplitDownTo))
	case s.IDsMethod != "" && !strings.HasPrefix(s.IDsPath, "/"):
		return bad("ids_path", fmt.Sprintf("%q must start with /", s.IDsPath))
	}
	if s.Body != "" && !json.Valid([]byte(s.Body)) {
		return bad("body", "not valid JSON")
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

func streamNames(streams []Stream) []string {
	names := make([]string, len(streams))
	for i, s := range streams {
		names[i] = s.Name
	}
	return names
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
