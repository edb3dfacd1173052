package engagesim_test

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
)

// yearWorld is the size issue 3 asks about: two tenants, 365 days, 2,000
// conversations per tenant and weekday.
func yearWorld() engagesim.Config {
	return engagesim.Config{Seed: 1, Days: 365, Now: now, Scale: 2000, Tenants: engagesim.DefaultTenants(2)}
}

// BenchmarkBuildYearWorld reports the time to build the world and the heap it
// keeps (heap-MB, measured after a collection).
func BenchmarkBuildYearWorld(b *testing.B) {
	var sim *engagesim.Server
	for b.Loop() {
		var err error
		if sim, err = engagesim.New(yearWorld()); err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "heap-MB")
	runtime.KeepAlive(sim)
}

// BenchmarkAnswerOneDayOfConversations times POST /report/chat/conversations
// for one local day of the year world (about 2,000 conversations).
func BenchmarkAnswerOneDayOfConversations(b *testing.B) {
	sim, err := engagesim.New(yearWorld())
	if err != nil {
		b.Fatal(err)
	}
	day := civil.Date{Year: 2026, Month: 10, Day: 7} // a Wednesday: a full day of traffic
	body := days(day, day.AddDays(1), vienna)
	b.ReportAllocs()
	var size, conversations int
	for b.Loop() {
		req := httptest.NewRequest("POST", engagesim.Prefix+"/report/chat/conversations", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+acme)
		rec := httptest.NewRecorder()
		sim.Handler().ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("%d %s", rec.Code, rec.Body)
		}
		size = rec.Body.Len()
		conversations = strings.Count(rec.Body.String(), `"conversationId"`)
	}
	b.ReportMetric(float64(size)/1024, "KiB-answer")
	b.ReportMetric(float64(conversations), "conversations")
}
