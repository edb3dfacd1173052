package load_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// BenchmarkCommitWindow measures one window transaction of 5,000 agent time
// ranges: first load (inserts) and re-load of the same rows (no rewrites).
func BenchmarkCommitWindow(b *testing.B) {
	s, err := load.Open(context.Background(), testdbNew(b))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if err := s.MigrateUp(context.Background()); err != nil {
		b.Fatal(err)
	}
	tk, _ := s.EnsureTenant(context.Background(), "bench", "UTC")
	from := civil.Date{Year: 2026, Month: 10, Day: 1}
	rows := make([]transform.AgentTimeRow, 0, 5000)
	for i := 0; i < 5000; i++ {
		start := from.Start(time.UTC).Add(time.Duration(i%600) * 10 * time.Minute)
		rows = append(rows, transform.AgentTimeRow{UserID: fmt.Sprintf("agent%d@x.com", i/600), Kind: "online",
			Start: start, End: start.Add(7 * time.Minute), Seconds: "420", Date: civil.Of(start, time.UTC)})
	}
	commit := func(b *testing.B, stream string) {
		_, err := s.CommitWindow(context.Background(), load.WindowCommit{
			TenantKey: tk, TenantID: "bench", Stream: stream, Start: from.Start(time.UTC), End: from.AddDays(7).Start(time.UTC),
			Raws: []load.Raw{load.Payload{Stream: "test", Start: from.Start(time.UTC), End: from.Start(time.UTC), FetchedAt: time.Now(), Body: []byte(`[]`)}}, Batch: load.AgentTimeBatch(from, from.AddDays(7), rows),
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.Run("insert", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			s.Pool().Exec(context.Background(), `TRUNCATE engage.fact_agent_time`)
			b.StartTimer()
			commit(b, "bench")
		}
		b.ReportMetric(float64(len(rows)), "rows/op")
	})
	b.Run("unchanged", func(b *testing.B) {
		commit(b, "bench")
		for b.Loop() {
			commit(b, "bench")
		}
		b.ReportMetric(float64(len(rows)), "rows/op")
	})
}
