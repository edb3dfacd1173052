package extract

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

// Vars fill a catalog body template.
type Vars struct {
	From, To   any // the window's bounds, encoded as the dialect says
	Metric     string
	GroupBy    string
	DateFilter any // the dialect's date filter, filled with From and To
}

// RenderBody fills a catalog body template (see catalog.ReportBody): a string
// value "$dateFilter" becomes the date filter, "$from"/"$to" the bounds,
// "$metric"/"$groupBy" strings, and a member whose value is "$groupBy" is
// removed when GroupBy is empty. An empty template renders no body.
func RenderBody(template string, v Vars) ([]byte, error) {
	if template == "" {
		return nil, nil
	}
	var doc any
	if err := json.Unmarshal([]byte(template), &doc); err != nil {
		return nil, fmt.Errorf("body template: %w", err)
	}
	return json.Marshal(fill(doc, v))
}

func fill(node any, v Vars) any {
	switch n := node.(type) {
	case map[string]any:
		for k, child := range n {
			if child == "$groupBy" && v.GroupBy == "" {
				delete(n, k)
				continue
			}
			n[k] = fill(child, v)
		}
	case []any:
		for i := range n {
			n[i] = fill(n[i], v)
		}
	case string:
		switch n {
		case "$from":
			return v.From
		case "$to":
			return v.To
		case "$metric":
			return v.Metric
		case "$groupBy":
			return v.GroupBy
		case "$dateFilter":
			return v.DateFilter
		}
	}
	return node
}

// vars are a window's template values in a dialect.
func vars(api API, s catalog.Stream, w Window) (Vars, error) {
	v := Vars{Metric: s.Metric, GroupBy: s.GroupBy}
	switch api.dialect().DateFilter.Encoding {
	case "epoch_s":
		v.From, v.To = w.Start.Unix(), w.End.Unix()
	case "date":
		v.From, v.To = w.From.String(), w.To.String()
	case "datetime":
		v.From, v.To = w.Start.In(api.location()).Format(time.RFC3339), w.End.In(api.location()).Format(time.RFC3339)
	default: // epoch_ms
		v.From, v.To = w.Start.UnixMilli(), w.End.UnixMilli()
	}
	var doc any
	if err := json.Unmarshal([]byte(api.dialect().DateFilter.Body), &doc); err != nil {
		return v, fmt.Errorf("date filter template: %w", err)
	}
	v.DateFilter = fill(doc, Vars{From: v.From, To: v.To})
	return v, nil
}
