package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/engage-etl/engage-etl/internal/catalog"
	"github.com/engage-etl/engage-etl/internal/civil"
	"github.com/engage-etl/engage-etl/internal/decode"
	"github.com/engage-etl/engage-etl/internal/engage"
	"github.com/engage-etl/engage-etl/internal/extract"
	"github.com/engage-etl/engage-etl/internal/kinds"
	"github.com/engage-etl/engage-etl/internal/load"
	"github.com/engage-etl/engage-etl/internal/transform"
)

// Probe is what one endpoint of a tenant's API answered a check.
type Probe struct {
	TenantID string
	Endpoint string   // method and path
	Streams  []string // the streams that use it
	OK       bool
	Result   string // "ok, 12 elements", or what went wrong and which config key to look at
}

// Check asks each distinct endpoint the streams use for one local day (an
// activity log for its last hour), paced like a sync, and says for each
// whether the answer fits the configuration. It reads the answers as a sync
// would, but writes nothing.
func Check(ctx context.Context, t Tenant, streams []catalog.Stream, day civil.Date, now time.Time) []Probe {
	type endpoint struct {
		stream  catalog.Stream // the first stream that uses it: the one asked
		streams []string
		list    bool // a messages stream's conversation list: keep a conversation to ask
	}
	var order []string
	endpoints := map[string]*endpoint{}
	add := func(key string, s catalog.Stream) {
		if endpoints[key] == nil {
			endpoints[key] = &endpoint{stream: s}
			order = append(order, key)
		}
		endpoints[key].streams = append(endpoints[key].streams, s.Name)
	}
	for _, s := range streams {
		if kinds.Of(s.Kind).Fetch == kinds.FetchPerConversation {
			add(s.IDsMethod+" "+s.IDsPath, s) // the conversation list, then one conversation's messages
			endpoints[s.IDsMethod+" "+s.IDsPath].list = true
		}
		add(s.Method+" "+s.Path, s)
	}
	w := extract.Plan(day, day.AddDays(1), 1, t.Location)[0]
	var conversation string // one the day had, to ask its messages
	var out []Probe
	// What the API says twice: the day's rows of each detail stream, and
	// the day's total of each ungrouped report (see crossCheck).
	details := map[string]int{} // stream -> rows answered, index in out below
	detailAt := map[string]int{}
	totals := map[string]float64{} // report + metric -> the day's total
	for _, key := range order {
		e := endpoints[key]
		p := Probe{TenantID: t.ID, Endpoint: key, Streams: e.streams}
		s := e.stream
		def := kinds.Of(s.Kind)
		src := kinds.Source{Dialect: t.dialect(), Location: t.Location, Stream: s, Window: w}
		var n int
		var warnings []string
		var err error
		switch {
		case e.list:
			refs := func(body []byte) error {
				list, missing, err := kinds.ConversationRefs(t.dialect(), body)
				n, warnings = len(list), missing
				if len(list) > 0 && conversation == "" {
					conversation = list[0].ID
				}
				return err
			}
			if def.Fetch == kinds.FetchPerConversation {
				_, err = extract.ConversationList(ctx, t.api(), s, w, refs)
			} else { // a conversations stream that asks the same endpoint
				_, err = extract.Answer(ctx, t.api(), s, def.Shape, w, refs)
			}
			if def.Capped {
				details[s.Name], detailAt[s.Name] = n, len(out)
			}
		case def.Fetch == kinds.FetchPerConversation:
			if conversation == "" {
				p.OK, p.Result = true, "not asked: the day had no conversation"
				out = append(out, p)
				continue
			}
			decodeOne := func(_ string, body []byte) (kinds.Decoded, error) { return def.Decode(src, body) }
			err = extract.Conversations(ctx, t.api(), s, []string{conversation}, 1, decodeOne, func(_ string, _ []byte, d kinds.Decoded) error {
				n, warnings = d.Rows, d.Warnings
				return nil
			})
		default:
			if def.Planning == kinds.PlanSince { // a log: its last hour
				src.Window = extract.Since(now.Add(-time.Hour), day, 0, now, t.Location)
			}
			_, err = extract.Answer(ctx, t.api(), s, def.Shape, src.Window, func(body []byte) error {
				d, err := def.Decode(src, body)
				n, warnings = d.Rows, d.Warnings
				if b, ok := d.Batch.(load.ReportBatch); ok && err == nil && s.GroupBy == "" {
					totals[s.Report+" "+s.Metric] = reportTotal(b)
				}
				return err
			})
			if def.Capped {
				details[s.Name], detailAt[s.Name] = n, len(out)
			}
		}
		pathKey := "streams." + s.Name + ".path"
		switch {
		case e.list && def.Fetch == kinds.FetchPerConversation:
			pathKey = "streams." + s.Name + ".ids_path"
		case s.Report != "":
			pathKey = "reports." + s.Report + ".path"
		}
		p.OK, p.Result = diagnose(pathKey, requestKeys(s, def, e.list), n, warnings, err)
		out = append(out, p)
		if ctx.Err() != nil {
			break
		}
	}
	crossCheck(out, streams, details, detailAt, totals)
	sort.SliceStable(out, func(i, j int) bool { return out[i].OK && !out[j].OK })
	return out
}

// crossCheck marks a detail stream's probe whose day holds fewer rows than
// the ungrouped report that counts them says (kinds.Def.Reconciles): the
// answer was most likely cut at the API's cap.
func crossCheck(out []Probe, streams []catalog.Stream, details, detailAt map[string]int, totals map[string]float64) {
	for _, s := range streams {
		n, probed := details[s.Name]
		if !probed || !out[detailAt[s.Name]].OK {
			continue
		}
		for _, pair := range kinds.Of(s.Kind).Reconciles {
			total, ok := totals[pair.Report+" "+pair.Metric]
			if pair.GroupBy != "" || pair.Spans || (pair.Stream != "" && pair.Stream != s.Name) || !ok || float64(n) >= total {
				continue
			}
			p := &out[detailAt[s.Name]]
			p.OK = false
			p.Result = fmt.Sprintf("%s, but the %s report counts %g %s for the day: the answer is cut at the API's cap, "+
				"or misses rows; set streams.%s.max_elements to %d if the API stops there", p.Result, pair.Report, total, pair.Metric, s.Name, n)
		}
	}
}

// reportTotal sums a report answer's values (an ungrouped one: one a day).
func reportTotal(b load.ReportBatch) float64 {
	var sum float64
	for _, r := range b.Rows {
		v, _ := strconv.ParseFloat(r.Value, 64)
		sum += v
	}
	return sum
}

// diagnose says what an answer means for the configuration.
func diagnose(pathKey, requestKeys string, n int, warnings []string, err error) (bool, string) {
	var apiErr *engage.APIError
	var fieldErr *decode.FieldError
	switch {
	case err == nil && len(warnings) > 0:
		return false, fmt.Sprintf("ok, %d rows, but %s", n, strings.Join(warnings, "; "))
	case err == nil:
		return true, fmt.Sprintf("ok, %d rows", n)
	case engage.IsAuth(err):
		return false, fmt.Sprintf("%v: the token is refused: check the tenant's token", err)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusNotFound:
		return false, fmt.Sprintf("404 Not Found: set %s to the path this API serves", pathKey)
	case errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest:
		msg := apiErr.Message
		if msg == "" {
			msg = apiErr.Body
		}
		return false, fmt.Sprintf("400 Bad Request (%s): check %s", msg, requestKeys)
	case errors.As(err, &fieldErr):
		return false, fmt.Sprintf("shape: %v", fieldErr)
	case errors.Is(err, transform.ErrDayOutside):
		return false, fmt.Sprintf("%v: set the tenant's timezone to the zone the API buckets days in", err)
	}
	return false, err.Error()
}

// requestKeys names the config keys that shape a stream's request (a
// messages stream's conversation list is its own stream's request).
func requestKeys(s catalog.Stream, def kinds.Def, list bool) string {
	switch {
	case def.RequestKeys != "" && !list:
		return def.RequestKeys
	case s.Method == "GET":
		return "streams." + s.Name + ".path"
	}
	return "api.date_filter (body, encoding) and the stream's body, metric and group_by"
}
