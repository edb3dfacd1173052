package config

import (
	"fmt"
	"sort"
	"strings"

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

// CheckSchedule validates a cron expression.
func CheckSchedule(spec string) error {
	if _, err := CronParser.Parse(spec); err != nil {
		return fmt.Errorf("%q: %w", spec, err)
	}
	return nil
}
