package kinds

import (
	"testing"

	"github.com/engage-etl/engage-etl/internal/catalog"
)

// Every kind the catalog declares has one complete definition.
func TestEveryCatalogKindHasOneDefinition(t *testing.T) {
	count := map[catalog.Kind]int{}
	for _, d := range All() {
		count[d.Kind]++
		if d.Decode == nil {
			t.Errorf("kind %s has no Decode", d.Kind)
		}
		if _, ok := catalog.Elements[d.Shape.Element]; !ok {
			t.Errorf("kind %s: element kind %q is not in catalog.Elements", d.Kind, d.Shape.Element)
		}
		if d.Lane < 0 || d.Lane >= Lanes {
			t.Errorf("kind %s: lane %d of %d", d.Kind, d.Lane, Lanes)
		}
	}
	for _, s := range catalog.All() {
		if count[s.Kind] != 1 {
			t.Errorf("stream %s: kind %s has %d definitions, want 1", s.Name, s.Kind, count[s.Kind])
		}
	}
}
