package catalog

// The agent report (path KNOWN) and the agent time detail reports.
var agentReport = Report{
	Name: "agent",
	Path: "/report/agent",
	Metrics: []Metric{
		{"ONLINE_TIME", Seconds},    // KNOWN
		{"LOGGED_IN_TIME", Seconds}, // KNOWN
		{"CONVERSATIONS", Count},
		{"MESSAGES_SENT", Count},
	},
	GroupBys: []string{"AGENT"},
}

func agentStreams() []Stream {
	return append(agentReport.Streams(),
		Stream{
			Name: "agent_times_online", Kind: KindAgentTimes, TimeKind: "online",
			Method: "POST", Path: "/report/agent/times/online", Body: DateFilterBody,
			WindowDays: timesWindowDays, Lookback: timesLookback, Group: "details", Phase: PhaseFacts,
		},
		Stream{
			Name: "agent_times_loggedin", Kind: KindAgentTimes, TimeKind: "logged_in",
			Method: "POST", Path: "/report/agent/times/loggedin", Body: DateFilterBody,
			WindowDays: timesWindowDays, Lookback: timesLookback, Group: "details", Phase: PhaseFacts,
		},
	)
}
