package schedule

import (
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// testNow is the "now" of the Evaluate tests: Tuesday 10 March 2026, 10:20 UTC.
func testNow() time.Time { return at("2026-03-10 10:20") }

// at parses a UTC time written "2006-01-02 15:04"; the tests' literals are right by
// construction, so a mistake panics.
func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func ptr[T any](v T) *T { return &v }

func cron(minute, hour, dow, dom, moy string) syncs.Schedule {
	return syncs.Schedule{
		CRMSource: "genius", RecurrenceType: "crontab", Enabled: true,
		Minute: ptr(minute), Hour: ptr(hour), DayOfWeek: ptr(dow), DayOfMonth: ptr(dom), MonthOfYear: ptr(moy),
	}
}

func interval(every int64, period string) syncs.Schedule {
	return syncs.Schedule{CRMSource: "arrivy", RecurrenceType: "interval", Enabled: true, Every: ptr(every), Period: ptr(period)}
}

func with(s syncs.Schedule, edit func(*syncs.Schedule)) syncs.Schedule {
	edit(&s)
	return s
}

func TestEvaluateTellsStateNextRunAndLastExpectedRun(t *testing.T) {
	t.Parallel()
	hourly := cron("8", "*", "*", "*", "*")
	tests := []struct {
		name             string
		s                syncs.Schedule
		wantState        State
		wantNext         string // "" for nil
		wantDue          bool
		wantLastExpected string // "" for nil
		wantDescription  string
		wantNote         string // a substring; "" for none
	}{
		{
			name:      "a disabled schedule has no next run but keeps its description",
			s:         with(hourly, func(s *syncs.Schedule) { s.Enabled = false }),
			wantState: StateDisabled, wantDescription: "every hour at :08",
		},
		{
			name:      "a schedule whose end_at has passed has ended",
			s:         with(hourly, func(s *syncs.Schedule) { s.EndAt = ptr(at("2026-03-10 10:00")) }),
			wantState: StateEnded, wantDescription: "every hour at :08",
		},
		{
			name: "a schedule whose next run falls after end_at has ended",
			s: with(hourly, func(s *syncs.Schedule) {
				s.LastRunAt = ptr(at("2026-03-10 10:08"))
				s.EndAt = ptr(at("2026-03-10 11:00"))
			}),
			wantState: StateEnded, wantDescription: "every hour at :08", wantNote: "after end_at",
		},
		{
			name:      "a crontab not yet started first runs at start_at, whatever the crontab says",
			s:         with(hourly, func(s *syncs.Schedule) { s.StartAt = ptr(at("2026-03-11 00:30")) }),
			wantState: StateNotStarted, wantNext: "2026-03-11 00:30", wantDescription: "every hour at :08", wantNote: "start_at",
		},
		{
			name: "a crontab that ran before a future start_at runs at start_at when its next match has passed",
			s: with(hourly, func(s *syncs.Schedule) {
				s.LastRunAt = ptr(at("2026-03-01 09:08"))
				s.StartAt = ptr(at("2026-03-11 00:30"))
			}),
			wantState: StateNotStarted, wantNext: "2026-03-11 00:30", wantDescription: "every hour at :08",
		},
		{
			name:      "an interval not yet started first runs at start_at",
			s:         with(interval(2, "hours"), func(s *syncs.Schedule) { s.StartAt = ptr(at("2026-03-11 00:30")) }),
			wantState: StateNotStarted, wantNext: "2026-03-11 00:30", wantDescription: "every 2 hours", wantNote: "start_at",
		},
		{
			name:      "an interval that never ran and has no start_at has an unknown next run",
			s:         interval(2, "hours"),
			wantState: StateScheduled, wantDescription: "every 2 hours", wantNote: "not run yet",
		},
		{
			name:      "an interval that never ran past its start_at is due now, expected at start_at",
			s:         with(interval(2, "hours"), func(s *syncs.Schedule) { s.StartAt = ptr(at("2026-03-10 09:00")) }),
			wantState: StateScheduled, wantNext: "2026-03-10 09:00", wantDue: true, wantLastExpected: "2026-03-10 09:00",
			wantDescription: "every 2 hours", wantNote: "start_at",
		},
		{
			name:      "an interval runs every × period after its last run",
			s:         with(interval(15, "minutes"), func(s *syncs.Schedule) { s.LastRunAt = ptr(at("2026-03-10 10:11")) }),
			wantState: StateScheduled, wantNext: "2026-03-10 10:26", wantLastExpected: "2026-03-10 10:11",
			wantDescription: "every 15 minutes",
		},
		{
			name:      "an interval whose next run has passed is due now, expected then",
			s:         with(interval(1, "hours"), func(s *syncs.Schedule) { s.LastRunAt = ptr(at("2026-03-10 08:00")) }),
			wantState: StateScheduled, wantNext: "2026-03-10 09:00", wantDue: true, wantLastExpected: "2026-03-10 09:00",
			wantDescription: "every hour",
		},
		{
			name:      "a crontab runs at its next match after the last run",
			s:         with(hourly, func(s *syncs.Schedule) { s.LastRunAt = ptr(at("2026-03-10 10:08")) }),
			wantState: StateScheduled, wantNext: "2026-03-10 11:08", wantLastExpected: "2026-03-10 10:08",
			wantDescription: "every hour at :08",
		},
		{
			name:      "a crontab whose last run is an hour old is due now",
			s:         with(hourly, func(s *syncs.Schedule) { s.LastRunAt = ptr(at("2026-03-10 09:08")) }),
			wantState: StateScheduled, wantNext: "2026-03-10 10:08", wantDue: true, wantLastExpected: "2026-03-10 10:08",
			wantDescription: "every hour at :08",
		},
		{
			name:      "a crontab that never ran runs at its first match after now",
			s:         cron("30", "2", "mon-fri", "*", "*"),
			wantState: StateScheduled, wantNext: "2026-03-11 02:30", wantLastExpected: "2026-03-10 02:30",
			wantDescription: "at 02:30 UTC on Mon–Fri",
		},
		{
			name: "a crontab last run on an earlier day skips the rest of that hour, as Celery does",
			s: with(cron("*/15", "23", "*", "*", "*"), func(s *syncs.Schedule) {
				s.LastRunAt = ptr(at("2026-03-09 23:10"))
			}),
			wantState: StateScheduled, wantNext: "2026-03-10 23:00", wantLastExpected: "2026-03-09 23:45",
			wantDescription: "at 23:00, 23:15, 23:30 and 23:45 UTC",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Evaluate(tt.s, testNow())
			if got.State != tt.wantState {
				t.Errorf("State = %q, want %q (invalid: %q)", got.State, tt.wantState, got.Invalid)
			}
			if g, w := fmtTime(got.Next), tt.wantNext; g != w {
				t.Errorf("Next = %s, want %s", g, orNil(w))
			}
			if got.Due != tt.wantDue {
				t.Errorf("Due = %v, want %v", got.Due, tt.wantDue)
			}
			if g, w := fmtTime(got.LastExpected), tt.wantLastExpected; g != w {
				t.Errorf("LastExpected = %s, want %s", g, orNil(w))
			}
			if got.Description != tt.wantDescription {
				t.Errorf("Description = %q, want %q", got.Description, tt.wantDescription)
			}
			if (tt.wantNote == "") != (got.Note == "") || !strings.Contains(got.Note, tt.wantNote) {
				t.Errorf("Note = %q, want one containing %q", got.Note, tt.wantNote)
			}
			if got.Invalid != "" {
				t.Errorf("Invalid = %q, want empty", got.Invalid)
			}
		})
	}
}

func TestEvaluateSaysWhyAScheduleIsInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    syncs.Schedule
		want string
	}{
		{"a minute out of range", cron("61", "*", "*", "*", "*"), `minute "61": 61 is out of range 0-59`},
		{"a month name, which Celery does not know", cron("0", "0", "*", "*", "jan"), `month_of_year "jan": "jan" is neither a number nor a day name`},
		{"a NULL crontab field", with(cron("0", "*", "*", "*", "*"), func(s *syncs.Schedule) { s.Hour = nil }), "hour is NULL"},
		{"an empty crontab field", cron("0", "", "*", "*", "*"), "hour is empty"},
		{"a date that never comes", cron("0", "0", "*", "30", "2"), `no date ever matches day_of_month "30" in month_of_year "2"`},
		{"an unknown recurrence type", with(interval(1, "hours"), func(s *syncs.Schedule) { s.RecurrenceType = "solar" }), `unknown recurrence_type "solar"`},
		{"a NULL every", with(interval(1, "hours"), func(s *syncs.Schedule) { s.Every = nil }), "every is NULL"},
		{"a NULL period", with(interval(1, "hours"), func(s *syncs.Schedule) { s.Period = nil }), "period is NULL"},
		{"every 0", interval(0, "minutes"), "every is 0, must be at least 1"},
		{"a period beat does not know", interval(1, "weeks"), `period "weeks" is not one of days, hours, minutes, seconds, microseconds`},
		{"a singular period", interval(1, "hour"), `period "hour" is not one of`},
		{"an interval too long to count", interval(200000, "days"), "longer than the 292 years"},
		{"an invalid schedule that is also disabled", with(cron("61", "*", "*", "*", "*"), func(s *syncs.Schedule) { s.Enabled = false }), "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Evaluate(tt.s, testNow())
			if got.State != StateInvalid {
				t.Errorf("State = %q, want %q", got.State, StateInvalid)
			}
			if !strings.Contains(got.Invalid, tt.want) {
				t.Errorf("Invalid = %q, want it to contain %q", got.Invalid, tt.want)
			}
			if got.Next != nil || got.LastExpected != nil || got.Description != "" {
				t.Errorf("Next, LastExpected, Description = %s, %s, %q; want nil, nil, empty", fmtTime(got.Next), fmtTime(got.LastExpected), got.Description)
			}
		})
	}
}

func TestCheckpointPicksTheLatestRunWhoseGraceHasPassed(t *testing.T) {
	t.Parallel()
	grace := DefaultGrace
	tests := []struct {
		name string
		s    syncs.Schedule
		now  time.Time
		want string // "" for none
	}{
		{"an hourly crontab within its grace checks the run before", cron("8", "*", "*", "*", "*"), at("2026-03-10 10:15"), "2026-03-10 09:08"},
		{"an hourly crontab past its grace checks the latest run", cron("8", "*", "*", "*", "*"), at("2026-03-10 10:20"), "2026-03-10 10:08"},
		{"a five-minute crontab stays checkable", cron("*/5", "*", "*", "*", "*"), at("2026-03-10 10:22"), "2026-03-10 10:10"},
		{
			"a frequent interval checks a send counted back from the last run",
			with(interval(5, "minutes"), func(s *syncs.Schedule) { s.LastRunAt = ptr(at("2026-03-10 10:18")) }),
			at("2026-03-10 10:20"), "2026-03-10 10:08",
		},
		{
			"a late interval checks the send that did not happen",
			with(interval(1, "hours"), func(s *syncs.Schedule) { s.LastRunAt = ptr(at("2026-03-10 09:00")) }),
			at("2026-03-10 10:20"), "2026-03-10 10:00",
		},
		{"an interval that never ran has nothing to check", interval(1, "hours"), at("2026-03-10 10:20"), ""},
		{"a disabled schedule has nothing to check", with(cron("8", "*", "*", "*", "*"), func(s *syncs.Schedule) { s.Enabled = false }), at("2026-03-10 10:20"), ""},
		{"an invalid schedule has nothing to check", cron("61", "*", "*", "*", "*"), at("2026-03-10 10:20"), ""},
		{"an ended schedule is never overdue", with(cron("8", "*", "*", "*", "*"), func(s *syncs.Schedule) { s.EndAt = ptr(at("2026-03-10 10:00")) }), at("2026-03-10 10:20"), ""},
		{"a schedule started less than the grace ago has nothing to check", with(cron("8", "*", "*", "*", "*"), func(s *syncs.Schedule) { s.StartAt = ptr(at("2026-03-10 10:15")) }), at("2026-03-10 10:20"), ""},
		{"a schedule started longer ago checks start_at, its first run", with(cron("8", "*", "*", "*", "*"), func(s *syncs.Schedule) { s.StartAt = ptr(at("2026-03-10 09:30")) }), at("2026-03-10 10:00"), "2026-03-10 09:30"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := Checkpoint(tt.s, tt.now, grace)
			var g string
			if ok {
				g = got.UTC().Format("2006-01-02 15:04")
			}
			if g != tt.want {
				t.Errorf("Checkpoint(now %s) = %s, want %s", tt.now.Format("15:04"), orNil(g), orNil(tt.want))
			}
		})
	}
}

func TestOverdueOnlyAfterTheGraceAndWithoutARun(t *testing.T) {
	t.Parallel()
	expected := at("2026-03-10 10:08")
	grace := 10 * time.Minute
	tests := []struct {
		name    string
		now     time.Time
		started bool
		want    bool
	}{
		{"within the grace it is not overdue", expected.Add(9 * time.Minute), false, false},
		{"exactly at the end of the grace it is not yet overdue", expected.Add(grace), false, false},
		{"just past the grace without a run it is overdue", expected.Add(grace + time.Nanosecond), false, true},
		{"past the grace with a run it is not overdue", expected.Add(grace + time.Hour), true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := Overdue(expected, tt.now, grace, tt.started); got != tt.want {
				t.Errorf("Overdue(10:08, %s, 10m, started=%v) = %v, want %v", tt.now.Format("15:04:05.999999999"), tt.started, got, tt.want)
			}
		})
	}
}

func TestProbeAsksForARunFromAMinuteBeforeToTheEndOfTheGrace(t *testing.T) {
	t.Parallel()
	got := Probe("genius", at("2026-03-10 10:08"), DefaultGrace)
	want := syncs.StartProbe{CRMSource: "genius", From: at("2026-03-10 10:07"), To: at("2026-03-10 10:18")}
	if got != want {
		t.Errorf("Probe = %+v, want %+v", got, want)
	}
	if from, to := Window(at("2026-03-10 10:08"), -time.Minute); !from.Equal(at("2026-03-10 10:07")) || !to.Equal(at("2026-03-10 10:08")) {
		t.Errorf("Window with a negative grace = %s–%s, want 10:07–10:08", from.Format("15:04"), to.Format("15:04"))
	}
}

func fmtTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04")
}

func orNil(s string) string {
	if s == "" {
		return "nil"
	}
	return s
}
