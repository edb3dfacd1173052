package extract

import (
	"encoding/json"
	"fmt"
)

// Vars fill a catalog body template.
type Vars struct {
	From, To int64 // epoch milliseconds
	Metric   string
	GroupBy  string
}

// RenderBody fills a catalog body template (see catalog.ReportBody): a string
// value "$from"/"$to" becomes a number, "$metric"/"$groupBy" a string, and a
// member whose value is "$groupBy" is removed when GroupBy is empty. An empty
// template renders no body.
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
		}
	}
	return node
}
