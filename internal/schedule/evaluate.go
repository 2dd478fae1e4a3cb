package schedule

import (
	"fmt"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// State is where a schedule stands at a given time.
type State string

// The states of a schedule, as the API reports them.
const (
	// StateScheduled means beat will send the task at Result.Next, or now if Due.
	StateScheduled State = "scheduled"
	// StateDisabled means the schedule is switched off: beat sends nothing.
	StateDisabled State = "disabled"
	// StateNotStarted means start_at is still ahead: beat sends nothing before it.
	StateNotStarted State = "not_started"
	// StateEnded means no run is left before end_at: end_at has passed, or the next
	// run would fall at or after it (beat disables an expired task before sending it).
	StateEnded State = "ended"
	// StateInvalid means beat cannot run the schedule; Result.Invalid says why.
	StateInvalid State = "invalid"
)

// Result is what Evaluate says about one schedule at one time.
type Result struct {
	// State is where the schedule stands.
	State State
	// Next is when beat will send the task, nil when it will not or when nobody can
	// know (see Note). It may be at or before now: beat sends a task at its first tick
	// after that time (every 5 s with django-celery-beat), so then Due is true and the
	// page should say "due now" rather than show a past time as the future. Next is
	// also the past time when beat is down or late; LastExpected and Checkpoint tell
	// whether that is trouble.
	Next *time.Time
	// Due is true when Next is at or before now: beat sends the task at once. Because
	// beat writes last_run_at to the database only when it syncs (up to three minutes
	// after sending), a schedule can look due for a few minutes after it ran.
	Due bool
	// LastExpected is the most recent time at or before now at which beat should have
	// sent the task, nil when there is none (disabled, invalid, not started, ended, or
	// an interval schedule that has not run and has no start_at).
	LastExpected *time.Time
	// Description is the recurrence in English words, also for disabled and ended
	// schedules; empty when invalid.
	Description string
	// Invalid is the reason beat cannot run the schedule, set only with StateInvalid.
	Invalid string
	// Note explains, in English, an answer that might surprise: why Next is unknown,
	// or that a first run happens at start_at whatever the recurrence says.
	Note string
}

// plan is a schedule's recurrence, parsed.
type plan struct {
	cron     Crontab
	interval Interval
	isCron   bool
}

func (p plan) description() string {
	if p.isCron {
		return p.cron.Description()
	}
	return p.interval.Description()
}

// planOf parses a schedule's recurrence. NULL crontab fields are invalid rather than
// "*": django-celery-beat's CrontabSchedule columns are NOT NULL (default "*") and
// Celery's crontab raises TypeError for None, so a NULL in sync_schedule means the
// application wrote something beat does not run as it stands. Empty strings are
// invalid because Celery rejects them ("empty part").
func planOf(s syncs.Schedule) (plan, error) {
	switch s.RecurrenceType {
	case "crontab":
		names := [5]string{"minute", "hour", "day_of_week", "day_of_month", "month_of_year"}
		values := [5]*string{s.Minute, s.Hour, s.DayOfWeek, s.DayOfMonth, s.MonthOfYear}
		var fields [5]string
		for i, v := range values {
			if v == nil {
				return plan{}, fmt.Errorf("%s is NULL", names[i])
			}
			fields[i] = *v
		}
		c, err := ParseCrontab(fields[0], fields[1], fields[2], fields[3], fields[4])
		if err != nil {
			return plan{}, err
		}
		if !c.Satisfiable() {
			return plan{}, fmt.Errorf("no date ever matches day_of_month %q in month_of_year %q (beat fails with \"unable to rollover\")", fields[3], fields[4])
		}
		return plan{cron: c, isCron: true}, nil
	case "interval":
		if s.Every == nil {
			return plan{}, fmt.Errorf("every is NULL")
		}
		if s.Period == nil {
			return plan{}, fmt.Errorf("period is NULL")
		}
		iv, err := ParseInterval(*s.Every, *s.Period)
		if err != nil {
			return plan{}, err
		}
		return plan{interval: iv}, nil
	}
	return plan{}, fmt.Errorf("unknown recurrence_type %q (want crontab or interval)", s.RecurrenceType)
}

// backdate is how far django-celery-beat's ModelEntry moves last_run_at back when a
// task with a start_time has never run, so that it is due as soon as start_time
// passes: 365 × 30 days.
const backdate = 365 * 30 * 24 * time.Hour

// Evaluate tells when Celery beat will next send a schedule's task and when it should
// last have sent it, at now. It assumes that sync_schedule's start_at and end_at are
// the periodic task's start_time and expires, and that last_run_at is read from
// django-celery-beat (nil when the task never ran or the table is absent).
//
// Beat's rules, from django-celery-beat's ModelEntry and Celery's schedules:
//   - disabled: nothing is sent;
//   - before start_at nothing is sent; a task that never ran is sent as soon as
//     start_at passes, whatever the recurrence says, because beat sets a missing
//     last_run_at 30 years back when there is a start_time;
//   - at or after end_at (expires) the task is disabled instead of sent;
//   - interval: last_run_at + every × period;
//   - crontab: Crontab.BeatNext(last_run_at, now).
//
// What beat does with a task that never ran and has no start_at cannot be known from
// the database: it counts from the moment it loaded the task (or, in recent
// django-celery-beat, from the task's date_changed). For a crontab that hardly matters,
// since the next run is the first match after that moment and, had it passed, the task
// would have run: Next is the first match after now. For an interval it decides
// everything, so Next is nil and Note says why.
func Evaluate(s syncs.Schedule, now time.Time) Result {
	now = now.UTC()
	p, err := planOf(s)
	if err != nil {
		return Result{State: StateInvalid, Invalid: err.Error()}
	}
	r := Result{Description: p.description()}
	switch {
	case !s.Enabled:
		r.State = StateDisabled
		return r
	case s.EndAt != nil && !now.Before(*s.EndAt):
		r.State = StateEnded
		return r
	}
	next, known, note := nextSend(s, p, now)
	r.Note = note
	if known && s.EndAt != nil && !next.Before(*s.EndAt) {
		r.State = StateEnded
		r.Note = "the next run would fall after end_at, so beat will not send it"
		return r
	}
	r.State = StateScheduled
	if s.StartAt != nil && now.Before(*s.StartAt) {
		r.State = StateNotStarted
	}
	if known {
		r.Next = &next
		r.Due = !next.After(now)
	}
	if t, ok := lastExpected(s, p, now); ok {
		r.LastExpected = &t
	}
	return r
}

// nextSend is the time beat will send the task; known is false when it depends on
// when beat loaded the task, which nobody records.
func nextSend(s syncs.Schedule, p plan, now time.Time) (next time.Time, known bool, note string) {
	start := s.StartAt
	if s.LastRunAt == nil {
		switch {
		case start != nil && (p.isCron || p.interval.Duration() < backdate):
			return start.UTC(), true, "first run at start_at: beat sends a task that never ran as soon as start_at passes, whatever the recurrence"
		case p.isCron:
			n, _ := p.cron.Next(now)
			return n, true, ""
		default:
			return time.Time{}, false, fmt.Sprintf("not run yet: beat sends it %s after it loaded the task, and the database does not record when that was", p.interval.Description())
		}
	}
	last := s.LastRunAt.UTC()
	if p.isCron {
		// Beat does not look at the task before start_at, so that is when it computes.
		at := now
		if start != nil && start.After(now) {
			at = start.UTC()
		}
		next, _ = p.cron.BeatNext(last, at)
	} else {
		next = last.Add(p.interval.Duration())
	}
	if start != nil && next.Before(*start) {
		next = start.UTC()
	}
	return next, true, ""
}

// lastExpected is the latest time at or before at when beat should have sent the
// task, for a schedule that is enabled and valid.
//
// For a crontab it is the schedule's last match, assuming beat has been running (even
// when last_run_at is NULL: the table may be absent). For an interval it is the next
// run after last_run_at when that has passed, else last_run_at itself, else earlier
// sends spaced by the interval, which is where beat sent them if it ran without pause.
func lastExpected(s syncs.Schedule, p plan, at time.Time) (time.Time, bool) {
	if s.StartAt != nil && at.Before(*s.StartAt) {
		return time.Time{}, false
	}
	// first is the first send at or after start_at: start_at itself, unless the task
	// last ran before start_at and its next run falls later still.
	var first time.Time
	if s.StartAt != nil {
		first = s.StartAt.UTC()
		if s.LastRunAt != nil && s.LastRunAt.Before(first) {
			if n, known, _ := nextSend(s, p, first); known && n.After(first) {
				first = n
			}
		}
		if first.After(at) {
			return time.Time{}, false
		}
	}
	if p.isCron {
		prev, ok := p.cron.Previous(at)
		if !first.IsZero() && (!ok || prev.Before(first)) {
			return first, true
		}
		return prev, ok
	}
	if s.LastRunAt == nil {
		return first, !first.IsZero()
	}
	last, d := s.LastRunAt.UTC(), p.interval.Duration()
	next := last.Add(d)
	if !first.IsZero() && next.Before(first) {
		next = first
	}
	if !next.After(at) {
		return next, true
	}
	if last.After(at) {
		// Earlier sends, counted back from last_run_at.
		k := (last.Sub(at) + d - 1) / d
		last = last.Add(-k * d)
	}
	if !first.IsZero() && last.Before(first) {
		return time.Time{}, false
	}
	return last, true
}

// DefaultGrace is how long after a run was due the dashboard waits for it to start
// before it calls the schedule overdue.
const DefaultGrace = 10 * time.Minute

// skew is how early before the expected time a run's start_time may be and still
// count: beat and the workers that write sync_history run on different hosts, whose
// clocks may differ by some seconds.
const skew = time.Minute

// Checkpoint returns the send time to check for an overdue schedule: the latest time
// at or before now − grace at which beat should have sent the task. Checking that
// time, not the last one before now, keeps frequent schedules checkable: with a
// 5-minute crontab and a 10-minute grace the last expected run is always within the
// grace, and would never be found missing.
//
// It returns false when there is nothing to check: the schedule is invalid, disabled,
// not started, or ended (an ended schedule is never overdue), or it is an interval
// schedule that has neither run nor a start_at.
//
// The dashboard's flow for each schedule:
//
//	expected, ok := schedule.Checkpoint(s, now, grace)
//	// if ok: ask the store with schedule.Probe(s.CRMSource, expected, grace)
//	overdue := ok && schedule.Overdue(expected, now, grace, started)
func Checkpoint(s syncs.Schedule, now time.Time, grace time.Duration) (time.Time, bool) {
	now = now.UTC()
	p, err := planOf(s)
	if err != nil || !s.Enabled || (s.EndAt != nil && !now.Before(*s.EndAt)) {
		return time.Time{}, false
	}
	return lastExpected(s, p, now.Add(-max(grace, 0)))
}

// Window returns the span in which a run that beat should have sent at expected must
// have started to count: from a minute before (clock skew between hosts) to grace
// after (queueing behind other tasks).
func Window(expected time.Time, grace time.Duration) (from, to time.Time) {
	return expected.Add(-skew), expected.Add(max(grace, 0))
}

// Probe is the question to ask Store.StartedNear for a schedule of crmSource whose run
// was expected at expected: did a run of that CRM start within Window? sync_history
// does not say which schedule started a run, so any run of the CRM counts.
func Probe(crmSource string, expected time.Time, grace time.Duration) syncs.StartProbe {
	from, to := Window(expected, grace)
	return syncs.StartProbe{CRMSource: crmSource, From: from, To: to}
}

// Overdue reports whether a run expected at expected is overdue at now: the grace has
// passed (now > expected + grace) and no run of the CRM started within
// Window(expected, grace), which the caller learned from the store as started. Exactly
// at expected + grace it is not yet overdue.
func Overdue(expected, now time.Time, grace time.Duration, started bool) bool {
	return !started && now.After(expected.Add(max(grace, 0)))
}
