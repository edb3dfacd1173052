package transform

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/engage-etl/engage-etl/internal/engage"
)

// FuzzReportRows: whatever a report answer holds, decoding and flattening
// never panic, and every row they accept lies in the window with a decimal value.
func FuzzReportRows(f *testing.F) {
	f.Add(`{"results":{"2020/10/30":{"a@x.com":"205","b":"1.5"}}}`, "AGENT")
	f.Add(`{"results":{"2020/10/31":{"CONVERSATIONS":7}}}`, "")
	f.Add(`{"results":{"2020-10-31":{"x":"1"}}}`, "AGENT")
	f.Fuzz(func(t *testing.T, body, groupBy string) {
		var resp engage.ReportResponse
		if json.Unmarshal([]byte(body), &resp) != nil {
			return
		}
		from, to := day("2020-10-30"), day("2020-11-06")
		rows, err := ReportRows("CONVERSATIONS", groupBy, from, to, resp)
		if err != nil {
			return
		}
		for _, r := range rows {
			if r.Date.Before(from) || !r.Date.Before(to) {
				t.Fatalf("row outside the window: %+v", r)
			}
			if f, err := strconv.ParseFloat(r.Value, 64); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(r.Value, "xXpP_") {
				t.Fatalf("value %q is not a plain decimal", r.Value)
			}
		}
	})
}
