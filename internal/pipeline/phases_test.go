package pipeline

import (
	"testing"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

// TestPhasesStartTheLongStreamsFirst: phases keep their order, every stream
// is in one, and within a phase the streams that take longest start first
// (with StreamParallel at 4 and 60-odd report streams, messages used to start
// after most of them and run alone at the end of a backfill).
func TestPhasesStartTheLongStreamsFirst(t *testing.T) {
	streams := catalog.All()
	seen := map[int]bool{}
	lastPhase := -1
	for _, phase := range phases(streams) {
		for k, i := range phase {
			s := streams[i]
			if seen[i] {
				t.Errorf("%s is in two phases", s.Name)
			}
			seen[i] = true
			if s.Phase < lastPhase || (k > 0 && s.Phase != streams[phase[0]].Phase) {
				t.Errorf("%s (phase %d) out of phase order", s.Name, s.Phase)
			}
			if k > 0 && length[s.Kind] > length[streams[phase[k-1]].Kind] {
				t.Errorf("%s starts after the shorter %s", s.Name, streams[phase[k-1]].Name)
			}
		}
		lastPhase = streams[phase[0]].Phase
		if lastPhase == catalog.PhaseFacts && streams[phase[0]].Kind != catalog.KindMessages {
			t.Errorf("the facts phase starts with %s, want messages", streams[phase[0]].Name)
		}
	}
	if len(seen) != len(streams) {
		t.Errorf("%d of %d streams in a phase", len(seen), len(streams))
	}
}
