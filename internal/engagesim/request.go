package engagesim

import (
	"encoding/json"
	"io"
	"net/http"
	"time"

	"github.com/engage-etl/engage-etl/internal/civil"
)

// dateFilter is DateFilterAPIDTO (CONTRACT.md §2).
type dateFilter struct {
	Grouping string `json:"grouping"`
	From     *int64 `json:"from"`
	To       *int64 `json:"to"`
}

type metricFilter struct {
	MetricName string `json:"metricName"`
	GroupBy    string `json:"groupBy"`
}

type reportRequest struct {
	Metrics    []metricFilter `json:"metrics"`
	DateFilter *dateFilter    `json:"dateFilter"`
}

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return badRequest("cannot read body: %v", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return badRequest("JSON parse error: %v", err)
	}
	return nil
}

// resolve turns a date filter into the instants [from, to). Groupings other
// than CUSTOM are relative to the simulated now, in the tenant's local days.
func (f *dateFilter) resolve(t *tenant, now time.Time) (from, to time.Time, err error) {
	if f == nil {
		return from, to, badRequest("dateFilter is required")
	}
	today := civil.Of(now, t.loc)
	tomorrow := today.AddDays(1).Start(t.loc)
	switch f.Grouping {
	case "CUSTOM":
		if f.From == nil || f.To == nil {
			return from, to, badRequest("grouping CUSTOM needs both from and to")
		}
		if *f.From >= *f.To {
			return from, to, badRequest("from (%d) must be before to (%d)", *f.From, *f.To)
		}
		from, to = time.UnixMilli(*f.From), time.UnixMilli(*f.To)
		// A day is 25 hours at most (DST): a range of n local days spans no more.
		if t.maxRange > 0 && to.Sub(from) > time.Duration(t.maxRange)*25*time.Hour {
			return from, to, badRequest("the date range spans more than %d days", t.maxRange)
		}
		return from, to, nil
	case "TODAY", "TODAY_BY_MINUTE":
		return today.Start(t.loc), tomorrow, nil
	case "LAST_7_DAYS":
		return today.AddDays(-6).Start(t.loc), tomorrow, nil
	case "LAST_MONTH":
		return today.AddDays(-29).Start(t.loc), tomorrow, nil
	case "LAST_YEAR":
		return today.AddDays(-364).Start(t.loc), tomorrow, nil
	case "ALL":
		return t.first.Start(t.loc), tomorrow, nil
	case "":
		return from, to, badRequest("dateFilter.grouping is required")
	}
	return from, to, badRequest("unknown grouping %q", f.Grouping)
}
