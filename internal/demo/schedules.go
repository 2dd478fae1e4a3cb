package demo

import (
	"strconv"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The names of the demo's schedules. The hourly one exists once per CRM; the history's
// triggers name the schedule that sends them, so beat's last run of each can be told.
const (
	scheduleHourly      = "hourly delta sync"
	scheduleNightlyFull = "nightly full sync"
	scheduleWeekdayFull = "weekday morning full sync"
	scheduleInterval    = "marketing leads every 4 hours"
	scheduleWeeklyForce = "weekly force7 resync"
)

// Schedules returns the demo's rows of sync_schedule as they stand at now, each with the
// time Celery beat last sent it: an hourly crontab per CRM at its minute, a nightly full
// sync, a weekday one, an interval schedule, and two disabled ones (MarketSharp, which
// writes no rows yet, and a weekly Genius resync an administrator switched off).
func Schedules(now time.Time) []syncs.Schedule {
	now = now.UTC()
	created := now.Add(-90 * 24 * time.Hour).Truncate(24 * time.Hour).Add(9*time.Hour + 12*time.Minute)
	crontab := func(source, name, mode, model, minute, hour, dow string) syncs.Schedule {
		return syncs.Schedule{
			Name: name, CRMSource: source, ModelName: model, Mode: mode, SourceKey: source,
			RecurrenceType: "crontab", Minute: &minute, Hour: &hour, DayOfWeek: &dow,
			DayOfMonth: ptr("*"), MonthOfYear: ptr("*"), Enabled: true, UpdatedAt: created,
		}
	}
	var out []syncs.Schedule
	for _, c := range crms {
		s := crontab(c.source, scheduleHourly, "delta", "NA", strconv.Itoa(c.minute), "*", "*")
		s.LastRunAt = lastSent(c, scheduleHourly, now)
		out = append(out, s)
	}
	nightly := crontab("hubspot", scheduleNightlyFull, "full", "HubSpot_Contact", "30", "2", "*")
	nightly.LastRunAt = lastSent(crmBySource("hubspot"), scheduleNightlyFull, now)
	weekday := crontab("salespro", scheduleWeekdayFull, "full", "SalesPro_Appointment", "0", "6", "mon-fri")
	weekday.LastRunAt = lastSent(crmBySource("salespro"), scheduleWeekdayFull, now)
	interval := syncs.Schedule{
		Name: scheduleInterval, CRMSource: "gsheet", ModelName: "GSheet_MarketingLead", Mode: "delta",
		SourceKey: "gsheet", RecurrenceType: "interval", Every: ptr(int64(4)), Period: ptr("hours"),
		Enabled: true, UpdatedAt: created,
		LastRunAt: lastSent(crmBySource("gsheet"), scheduleInterval, now),
	}
	// Switched off nineteen days ago, after its last Sunday run.
	weekly := crontab("genius", scheduleWeeklyForce, "force7", "Genius_Appointment", "0", "4", "sun")
	weekly.Enabled = false
	weekly.UpdatedAt = now.Add(-19 * 24 * time.Hour).Truncate(24 * time.Hour).Add(16*time.Hour + 41*time.Minute)
	lastSunday := weekly.UpdatedAt.Truncate(24 * time.Hour)
	for lastSunday.Weekday() != time.Sunday {
		lastSunday = lastSunday.Add(-24 * time.Hour)
	}
	weekly.LastRunAt = ptr(lastSunday.Add(4 * time.Hour))
	marketsharp := crontab("marketsharp", scheduleHourly, "delta", "MarketSharp_Contact", "18", "*", "*")
	marketsharp.Enabled = false
	return append(out, nightly, weekday, interval, weekly, marketsharp)
}

// lastSent is the last time at or before now that beat sent c's schedule of that name,
// as the history's triggers say; nil when it never did in the last eight days.
func lastSent(c *crm, schedule string, now time.Time) *time.Time {
	var buf []trigger
	for h := now.Truncate(time.Hour); h.After(now.Add(-8 * 24 * time.Hour)); h = h.Add(-time.Hour) {
		buf = triggersOf(h, c, buf[:0])
		var last *time.Time
		for _, t := range buf {
			if t.schedule == schedule && !t.at.After(now) && (last == nil || t.at.After(*last)) {
				last = ptr(t.at)
			}
		}
		if last != nil {
			return last
		}
	}
	return nil
}
