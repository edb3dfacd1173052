package load

import (
	"strings"
	"testing"
)

// TestEveryTableInfersMembersInOneOrder: windows of different streams merge
// in parallel, and each adds the customers, teams and agents its rows name
// before its merge. Were one table to add agents before customers and
// another customers before agents, two windows naming the same new members
// would each wait for the other's lock (a deadlock, 40P01, retried but
// wasted). Every table adds them in the order customers, teams, agents.
func TestEveryTableInfersMembersInOneOrder(t *testing.T) {
	order := []string{"engage.dim_customer", "engage.dim_team", "engage.dim_agent"}
	for _, u := range []*upsert{
		&roles.upsert, &teams.upsert, &rules.upsert, &customers.upsert, &users.upsert,
		&agentTimes.upsert, &conversations.upsert, &conversationAgents.upsert, &messages.upsert,
		&visits.upsert, &cobrowseSessions.upsert, &activityEvents.upsert, &realtimeSnapshots.upsert,
	} {
		last := -1
		for _, q := range u.infer {
			rank := -1
			for i, dim := range order {
				if strings.Contains(q, "INSERT INTO "+dim+" ") {
					rank = i
				}
			}
			if rank < 0 {
				t.Errorf("%s: an infer statement adds to none of %v:\n%s", u.table, order, q)
				continue
			}
			if rank < last {
				t.Errorf("%s adds to %s after %s: want the order %v", u.table, order[rank], order[last], order)
			}
			last = rank
		}
	}
}
