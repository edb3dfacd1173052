package pipeline_test

import (
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/engagesim"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/pipeline"
)

// cappedStreams are the streams whose answers an API may cut (kinds.Def.Capped).
func cappedStreams(mod func(*catalog.Stream)) []catalog.Stream {
	var out []catalog.Stream
	for _, s := range catalog.All() {
		if kinds.Of(s.Kind).Capped {
			mod(&s)
			out = append(out, s)
		}
	}
	return out
}

// busyCapped is a busy tenant (over 200 conversations a weekday) behind an
// API that keeps the first cap elements of every detail answer.
func busyCapped(cap int) func(*engagesim.Config) {
	return func(c *engagesim.Config) { c.Days, c.Scale, c.CapDetails = 5, 220, cap }
}

// TestCappedAnswersAreFetchedWhole: behind an API that silently cuts every
// detail array at 100 or at 37 elements, every detail stream loads exactly
// what the simulator holds, whether the cap is configured (max_elements) or
// found out from two answers stopping at the same length.
func TestCappedAnswersAreFetchedWhole(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	for _, tc := range []struct {
		name       string
		cap        int
		configured bool
	}{
		{"cap 100, found out", 100, false},
		{"cap 100, configured", 100, true},
		{"cap 37, found out", 37, false},
		{"cap 37, configured", 37, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, engagesim.Faults{}, busyCapped(tc.cap))
			streams := cappedStreams(func(s *catalog.Stream) {
				if tc.configured {
					s.MaxElements = tc.cap
				}
				s.SplitDownTo = time.Minute // 37 visits start within a quarter of an hour on this tenant
			})
			if res := f.sync(t, streams); !res.OK() {
				t.Fatalf("sync failed:\n%s", failures(res))
			}
			from, to := f.tenant.Start, civil.Of(simNow, f.tenant.Location).AddDays(1)
			exact(t, f, streams, from, to, tc.cap)
			// The pieces' answers were kept one each: a rebuild of emptied
			// tables restores every row from them.
			exec(t, f, `TRUNCATE engage.fact_conversation, engage.fact_conversation_agent, engage.fact_visit,
engage.fact_cobrowse_session, engage.fact_agent_time`)
			res, err := f.runner.Rebuild(context.Background(), f.tenants, streams, from, to.AddDays(1))
			if err != nil || !res.OK() {
				t.Fatalf("rebuild: %v %+v", err, res)
			}
			exact(t, f, streams, from, to, tc.cap)
		})
	}
}

// exact fails t unless every stream holds what the simulator does.
func exact(t *testing.T, f *fixture, streams []catalog.Stream, from, to civil.Date, cap int) {
	t.Helper()
	for _, s := range streams {
		truth, err := f.sim.Truth(f.tenant.ID, s.Name, from, to)
		if err != nil {
			t.Fatal(err)
		}
		rows, total := warehouseTruth(t, f, f.tenant.ID, s, from, to)
		want, _ := strconv.ParseFloat(truth.Total, 64)
		if rows != truth.Rows || math.Abs(total-want) > 1e-6 {
			t.Errorf("%s: warehouse has %d rows totalling %v, the simulator %d totalling %v", s.Name, rows, total, truth.Rows, want)
		}
		if s.Name == "conversations" && truth.Rows <= 5*cap {
			t.Fatalf("the world is too small for the cap to matter: %d conversations", truth.Rows)
		}
	}
}

// TestAnAnswerAtTheCapThatCannotBeSplitFailsNamingTheKey: when the pieces
// may not be short enough to get under the cap, the window fails (never a
// green run with less than the API holds) and says which key to change.
func TestAnAnswerAtTheCapThatCannotBeSplitFailsNamingTheKey(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{}, busyCapped(37))
	conv := stream(t, "conversations")
	conv.MaxElements, conv.SplitDownTo = 37, 12*time.Hour
	res := f.sync(t, []catalog.Stream{conv})
	if res.OK() {
		t.Fatal("a sync whose answers stay at the cap passed")
	}
	var capped *pipeline.CappedError
	err := res.Streams[0].Err
	if !errors.As(err, &capped) || !strings.Contains(err.Error(), "streams.conversations.split_down_to") ||
		!strings.Contains(err.Error(), "streams.conversations.max_elements") {
		t.Errorf("the failure does not name the keys: %v", err)
	}
}

// TestMessagesOfACappedConversationListAreAllFetched: the messages stream
// reads its conversation ids from the same capped detail answer; every
// conversation's messages are loaded all the same.
func TestMessagesOfACappedConversationListAreAllFetched(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{}, busyCapped(100))
	streams := []catalog.Stream{stream(t, "conversations"), stream(t, "messages")}
	if res := f.sync(t, streams); !res.OK() {
		t.Fatalf("sync failed:\n%s", failures(res))
	}
	exact(t, f, streams, f.tenant.Start, civil.Of(simNow, f.tenant.Location).AddDays(1), 0)
}

// TestAMessagesAnswerCutAtACapFailsTheWindow: a conversation's messages
// cannot be asked for in pieces; an answer with fewer messages than the
// conversation counts fails the window, loudly.
func TestAMessagesAnswerCutAtACapFailsTheWindow(t *testing.T) {
	t.Parallel() // a database of its own (testdb)
	f := newFixture(t, engagesim.Faults{}, func(c *engagesim.Config) { c.Days, c.CapDetails = 2, 3 })
	conv := stream(t, "messages")
	conv.SplitDownTo = time.Minute
	res := f.sync(t, []catalog.Stream{conv})
	if res.OK() || !strings.Contains(res.Streams[0].Err.Error(), "messages the conversation list counts (messageCount)") {
		t.Fatalf("a cut messages answer did not fail the window: %v", res.Streams[0].Err)
	}
}
