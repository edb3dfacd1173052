package catalog

// The bucketed report families of CONTRACT.md §3 besides agent (paths and
// metric names ASSUMED). "" in GroupBys is the ungrouped request.

var chatReport = Report{
	Name: "chat",
	Path: "/report/chat",
	Metrics: []Metric{
		{"CONVERSATIONS", Count}, {"MESSAGES", Count}, {"FIRST_RESPONSE_TIME", MeanSeconds},
		{"CONVERSATION_DURATION", MeanSeconds}, {"DONE", Count}, {"UNRESOLVED", Count},
	},
	GroupBys:            []string{"", "AGENT", "TEAM", "CHANNEL"},
	ByConversationStart: true,
}

var sessionReport = Report{
	Name:     "session",
	Path:     "/report/session",
	Metrics:  []Metric{{"SESSIONS", Count}, {"SESSION_DURATION", MeanSeconds}, {"UNIQUE_VISITORS", Count}},
	GroupBys: []string{"", "DEVICE", "BROWSER", "COUNTRY"},
}

var sessionMetricsReport = Report{
	Name:     "session/metrics",
	Path:     "/report/session/metrics",
	Metrics:  []Metric{{"SESSION_METRIC", Count}},
	GroupBys: []string{"REASON"},
}

var visitReport = Report{
	Name:     "visit",
	Path:     "/report/visit",
	Metrics:  []Metric{{"VISITS", Count}, {"VISIT_DURATION", MeanSeconds}, {"BOUNCES", Count}},
	GroupBys: []string{"", "PATH"},
}

var cobrowseReport = Report{
	Name:     "cobrowse",
	Path:     "/report/cobrowse",
	Metrics:  []Metric{{"COBROWSE_SESSIONS", Count}, {"COBROWSE_DURATION", MeanSeconds}},
	GroupBys: []string{"", "AGENT"},
}

var conferenceReport = Report{
	Name:     "conference",
	Path:     "/report/conference",
	Metrics:  []Metric{{"CONFERENCES", Count}, {"CONFERENCE_DURATION", MeanSeconds}, {"PARTICIPANTS", Count}},
	GroupBys: []string{"", "AGENT"},
}

var ruleReport = Report{
	Name:     "rule",
	Path:     "/report/rule",
	Metrics:  []Metric{{"RULE_MATCHES", Count}},
	GroupBys: []string{"RULE"},
}

var messageReport = Report{
	Name:     "message",
	Path:     "/report/message",
	Metrics:  []Metric{{"MESSAGES", Count}},
	GroupBys: []string{"", "TYPE", "CHANNEL", "AGENT"},
}
