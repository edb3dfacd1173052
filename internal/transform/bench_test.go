package transform

import (
	"fmt"
	"testing"

	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// BenchmarkReportRows flattens a 7-day report of 500 agents.
func BenchmarkReportRows(b *testing.B) {
	resp := engage.ReportResponse{Results: map[string]map[string]decode.Decimal{}}
	from := day("2026-10-20")
	for d := 0; d < 7; d++ {
		groups := map[string]decode.Decimal{}
		for a := 0; a < 500; a++ {
			groups[fmt.Sprintf("agent%d@x.com", a)] = "12345"
		}
		resp.Results[from.AddDays(d).Slash()] = groups
	}
	b.ReportAllocs()
	for b.Loop() {
		rows, err := ReportRows("ONLINE_TIME", "AGENT", from, from.AddDays(7), resp)
		if err != nil || len(rows) != 3500 {
			b.Fatal(err, len(rows))
		}
	}
}
