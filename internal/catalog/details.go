package catalog

// RealtimeBody asks for every realtime figure in one request: the answer is
// keyed by metric name, so nothing is ambiguous.
const RealtimeBody = `{"metrics":[{"metricName":"ONLINE_AGENTS"},{"metricName":"OPEN_CONVERSATIONS"},{"metricName":"QUEUE_SIZE"},{"metricName":"ACTIVE_SESSIONS"}]}`

// The detail reports of CONTRACT.md §4 (paths ASSUMED but for the agent
// times, see agent.go) and the realtime snapshot of §3.
func detailStreams() []Stream {
	return []Stream{
		{
			Name: "conversations", Kind: KindConversations, Method: "POST", Path: "/report/chat/conversations",
			Body: DateFilterBody, WindowDays: 1, Lookback: chatLookback, Group: "details", Phase: PhaseFacts,
		},
		{
			// Needs the conversations' start days: loads after them (a row
			// loaded before its conversation is repaired when it comes).
			Name: "conversation_agents", Kind: KindConversationAgents, Method: "POST", Path: "/report/chat/agents",
			Body: DateFilterBody, WindowDays: 1, Lookback: chatLookback, Group: "details", Phase: PhaseFacts,
			After: []string{"conversations"},
		},
		{
			Name: "messages", Kind: KindMessages, Method: "GET", Path: "/report/chat/messages",
			IDsMethod: "POST", IDsPath: "/report/chat/conversations", Body: DateFilterBody,
			WindowDays: 1, Lookback: chatLookback, Group: "details", Phase: PhaseFacts,
		},
		{
			Name: "visits", Kind: KindVisits, Method: "POST", Path: "/report/visit/table",
			Body: DateFilterBody, WindowDays: 1, Lookback: reportLookback, Group: "details", Phase: PhaseFacts,
		},
		{
			Name: "cobrowse_sessions", Kind: KindCobrowse, Method: "POST", Path: "/report/cobrowse/table",
			Body: DateFilterBody, WindowDays: 7, Lookback: reportLookback, Group: "details", Phase: PhaseFacts,
		},
		{
			Name: "realtime", Kind: KindRealtime, Method: "POST", Path: "/report/realtime",
			Body: RealtimeBody, WindowDays: 1, Group: "realtime", Phase: PhaseFacts,
		},
	}
}

// listStreams are the lists of CONTRACT.md §5: the dimensions, loaded first.
func listStreams() []Stream {
	list := func(name string, kind Kind, path string, phase int) Stream {
		return Stream{Name: name, Kind: kind, Method: "GET", Path: path, WindowDays: 1, Group: "lists", Phase: phase}
	}
	return []Stream{
		list("roles", KindRoles, "/role", PhaseRoles),
		list("teams", KindTeams, "/team?unused=", PhaseTeams),
		list("users", KindUsers, "/user", PhaseDimensions),
		list("customers", KindCustomers, "/customer", PhaseDimensions),
		list("rules", KindRules, "/rule", PhaseDimensions), // a plain array, not paged
		// Plain arrays too (docs/CONTRACT-KPI.md, paths and shapes ASSUMED).
		list("opening_hours", KindOpeningHours, "/openinghours", PhaseDimensions),
		list("sla_rules", KindSLARules, "/slarule", PhaseDimensions),
	}
}

// activityStreams are the four logs of CONTRACT.md §6.
func activityStreams() []Stream {
	var out []Stream
	for _, log := range []string{"call", "livechat", "status", "liveview"} {
		out = append(out, Stream{
			Name: "activity_" + log, Kind: KindActivity, Log: log, Method: "GET", Path: "/activity/" + log,
			WindowDays: 1, Lookback: activityLookback, Group: "activity", Phase: PhaseFacts,
		})
	}
	return out
}
