package decode_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
)

// BenchmarkArray streams a day of agent times for 500 agents.
func BenchmarkArray(b *testing.B) {
	var entries []map[string]any
	start := time.Date(2026, 11, 3, 8, 0, 0, 0, time.UTC)
	for a := 0; a < 500; a++ {
		var ranges []map[string]string
		for r := 0; r < 6; r++ {
			s := start.Add(time.Duration(r) * time.Hour)
			ranges = append(ranges, map[string]string{"start": s.Format(time.RFC3339Nano), "end": s.Add(50 * time.Minute).Format(time.RFC3339Nano)})
		}
		entries = append(entries, map[string]any{"userId": fmt.Sprintf("agent%d@x.com", a), "timeRanges": ranges, "sumMinutes": 300})
	}
	body, _ := json.Marshal(entries)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		if err := decode.Array(bytes.NewReader(body), func(engage.AgentTimes) error { n++; return nil }); err != nil || n != 500 {
			b.Fatal(err, n)
		}
	}
}
