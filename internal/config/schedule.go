package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// CronParser reads schedules: five fields, an optional leading seconds
// field, descriptors such as @hourly or @every 5m, and a CRON_TZ= prefix for
// a zone other than UTC.
var CronParser = cron.NewParser(cron.SecondOptional | cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// DefaultSchedules runs each stream group as often as its data changes.
var DefaultSchedules = map[string]string{
	"realtime": "@every 1m",
	"activity": "@every 5m",
	"reports":  "*/15 * * * *",
	"details":  "*/15 * * * *",
	"lists":    "0 * * * *",
}

func schedules(in map[string]string) (map[string]string, error) {
	out := map[string]string{}
	for g, spec := range DefaultSchedules {
		out[g] = spec
	}
	for g, spec := range in {
		if _, ok := DefaultSchedules[g]; !ok {
			groups := make([]string, 0, len(DefaultSchedules))
			for k := range DefaultSchedules {
				groups = append(groups, k)
			}
			sort.Strings(groups)
			return nil, &Error{Key: "schedules." + g, Problem: "no such stream group", Fix: "use one of: " + strings.Join(groups, ", ")}
		}
		if err := CheckSchedule(spec); err != nil {
			return nil, &Error{Key: "schedules." + g, Problem: err.Error(), Fix: `write a cron expression such as "*/15 * * * *" or "@every 10m"`}
		}
		out[g] = spec
	}
	return out, nil
}

// CheckSchedule validates a cron expression. robfig/cron checks values
// against each field's range but not steps: it takes "*/61" in the minute
// field as "minute 0 of every hour", which is not what anyone wrote; and it
// rounds "@every 10ms" up to a second. Both are refused here.
func CheckSchedule(spec string) error {
	if _, err := CronParser.Parse(spec); err != nil {
		return fmt.Errorf("%q: %w", spec, err)
	}
	body := strings.TrimSpace(spec)
	if strings.HasPrefix(body, "CRON_TZ=") || strings.HasPrefix(body, "TZ=") {
		_, body, _ = strings.Cut(body, " ")
		body = strings.TrimSpace(body)
	}
	if every, ok := strings.CutPrefix(body, "@every "); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(every)); err != nil || d < time.Second {
			return fmt.Errorf("%q: the interval must be at least 1s", spec)
		}
		return nil
	}
	if strings.HasPrefix(body, "@") {
		return nil // @hourly, @daily...: parsed above
	}
	fields := strings.Fields(body)
	bounds := cronFields[6:]
	if len(fields) == 6 {
		bounds = cronFields[:6]
	}
	for i, f := range fields {
		b := bounds[i]
		for _, part := range strings.Split(f, ",") {
			_, step, ok := strings.Cut(part, "/")
			if !ok {
				continue
			}
			n, err := strconv.Atoi(step)
			if count := b.max - b.min + 1; err != nil || n < 1 || n >= count {
				return fmt.Errorf("%q: %s field %q: the step must be from 1 to %d", spec, b.name, f, count-1)
			}
		}
	}
	return nil
}

// cronFields are the fields of a six-field expression; a five-field one
// starts at the minute.
var cronFields = []struct {
	name     string
	min, max int
}{
	{"second", 0, 59}, {"minute", 0, 59}, {"hour", 0, 23}, {"day-of-month", 1, 31}, {"month", 1, 12}, {"day-of-week", 0, 6},
	{"minute", 0, 59}, {"hour", 0, 23}, {"day-of-month", 1, 31}, {"month", 1, 12}, {"day-of-week", 0, 6},
}
