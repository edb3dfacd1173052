package pipeline

import (
	"testing"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/kinds"
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
			prev := streams[phase[max(k-1, 0)]]
			if k > 0 && len(s.After) == len(prev.After) && kinds.Of(s.Kind).Cost > kinds.Of(prev.Kind).Cost {
				t.Errorf("%s starts after the shorter %s", s.Name, prev.Name)
			}
			if k > 0 && len(s.After) == 0 && len(prev.After) > 0 {
				t.Errorf("%s, which waits for nothing, starts after %s, which waits", s.Name, prev.Name)
			}
			for _, after := range s.After {
				for _, j := range phase[k:] {
					if streams[j].Name == after {
						t.Errorf("%s starts before %s, which it waits for", s.Name, after)
					}
				}
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
