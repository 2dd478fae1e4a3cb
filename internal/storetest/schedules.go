package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// cron is an enabled crontab schedule of a CRM, last changed a month before Now.
func cron(source, name, minute, hour, dow string) syncs.Schedule {
	return syncs.Schedule{
		Name: name, CRMSource: source, ModelName: "NA", Mode: "delta", SourceKey: source,
		RecurrenceType: "crontab", Minute: &minute, Hour: &hour, DayOfWeek: &dow,
		DayOfMonth: ptr("*"), MonthOfYear: ptr("*"), Enabled: true, UpdatedAt: at(-30 * day),
	}
}

// every is an enabled interval schedule of a CRM, last changed a month before Now.
func every(source, name string, n int64, period string) syncs.Schedule {
	return syncs.Schedule{
		Name: name, CRMSource: source, ModelName: "NA", Mode: "delta", SourceKey: source,
		RecurrenceType: "interval", Every: &n, Period: &period, Enabled: true, UpdatedAt: at(-30 * day),
	}
}

func schedulesNextAndOverdue(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now) // Thursday Oct 9 2025, 10:30 UTC

	hubspot := cron("hubspot", "hourly", "0", "*", "*")
	hubspot.LastRunAt = ptr(at(-30 * minute))
	fx.InsertSchedule(t, hubspot)

	// genius: beat sent it at 10:08 but no run started: overdue (10:30 > 10:18). Its
	// disabled daily full sync does not count.
	genius := cron("genius", "hourly", "8", "*", "*")
	genius.LastRunAt = ptr(at(-22 * minute))
	fx.InsertSchedule(t, genius)
	full := cron("genius", "nightly full", "0", "2", "*")
	full.Mode, full.Enabled = "full", false
	fx.InsertSchedule(t, full)

	// callrail: every 15 minutes, last sent at 10:20, ran then: next 10:35.
	callrail := every("callrail", "quarter-hourly", 15, "minutes")
	callrail.LastRunAt = ptr(at(-10 * minute))
	fx.InsertSchedule(t, callrail)

	// arrivy: an interval that never ran and has no start_at: nobody can know when.
	fx.InsertSchedule(t, every("arrivy", "hourly", 1, "hours"))

	// five9: ended yesterday.
	five9 := cron("five9", "hourly", "6", "*", "*")
	five9.EndAt = ptr(at(-day))
	fx.InsertSchedule(t, five9)

	// salesrabbit: starts tomorrow at midnight: the first run is then.
	salesrabbit := cron("salesrabbit", "half-hourly", "*/30", "*", "*")
	salesrabbit.StartAt = ptr(day0(10))
	fx.InsertSchedule(t, salesrabbit)

	// leadconduit: a minute that does not exist.
	fx.InsertSchedule(t, cron("leadconduit", "broken", "61", "*", "*"))

	// salespro: weekdays at 10:10; changed five minutes ago, so the 10:10 run it missed
	// was never owed.
	salespro := cron("salespro", "weekdays", "10", "10", "mon-fri")
	salespro.UpdatedAt = at(-5 * minute)
	fx.InsertSchedule(t, salespro)

	// newcrm: scheduled, not configured, never ran: not listed (the table lists CRMs by
	// their rows), so not counted overdue either.
	fx.InsertSchedule(t, cron("newcrm", "hourly", "0", "*", "*"))

	fx.Insert(t,
		Row{CRMSource: "hubspot", Start: at(-30*minute + 5*time.Second), End: end(-20 * minute)},
		Row{CRMSource: "callrail", Start: at(-9 * minute), End: end(-8 * minute)},
		// A genius run long before 10:08 does not count for it.
		Row{CRMSource: "genius", Start: at(-3 * hour), End: end(-170 * minute)},
	)

	got, err := d.CRMStatus(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Source  string
		Next    *time.Time
		Overdue bool
		States  []string
	}
	var rows []row
	for _, c := range got.CRMs {
		r := row{Source: c.Source, Next: c.NextSync, Overdue: c.Overdue}
		for _, s := range c.Schedules {
			r.States = append(r.States, s.State)
		}
		rows = append(rows, r)
	}
	oct9 := func(hh, mm int) *time.Time {
		return ptr(day0(9).Add(time.Duration(hh)*hour + time.Duration(mm)*minute))
	}
	want := []row{
		{"hubspot", oct9(11, 0), false, []string{"scheduled"}},
		{"callrail", oct9(10, 35), false, []string{"scheduled"}},
		{"genius", oct9(11, 8), true, []string{"scheduled", "disabled"}},
		{"salesrabbit", ptr(day0(10)), false, []string{"not_started"}},
		{"arrivy", nil, false, []string{"scheduled"}},
		{"five9", nil, false, []string{"ended"}},
		{"marketsharp", nil, false, nil},
		{"leadconduit", nil, false, []string{"invalid"}},
		{"salespro", ptr(day0(10).Add(10*hour + 10*minute)), false, []string{"scheduled"}},
		{"gsheet", nil, false, nil},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("crm schedules (-want +got):\n%s", diff)
	}
	for _, c := range got.CRMs {
		if c.Source == "leadconduit" && (len(c.Schedules) != 1 || c.Schedules[0].Invalid == "") {
			t.Errorf("leadconduit: got %+v, want the invalid schedule with its reason", c.Schedules)
		}
		if c.Source == "hubspot" && (len(c.Schedules) != 1 || c.Schedules[0].Recurrence == "" || c.Schedules[0].Name != "hourly") {
			t.Errorf("hubspot: got %+v, want the schedule's name and recurrence in words", c.Schedules)
		}
	}
	stats, err := d.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Overview.OverdueCRMs != 1 {
		t.Errorf("got %d overdue CRMs, want 1 (genius)", stats.Overview.OverdueCRMs)
	}
}
