package schedule

import (
	"fmt"
	"math"
	"time"
)

// Interval is an interval schedule: every × period, as django-celery-beat's
// IntervalSchedule turns it into celery.schedules.schedule(timedelta(**{period: every})).
// Beat sends the task when last_run_at + every × period has passed, then counts the
// next interval from the moment it sent it, so the runs drift by beat's latency rather
// than keeping to a grid.
type Interval struct {
	every  int64
	period string
	d      time.Duration
}

// periodUnit maps IntervalSchedule's period choices to their length. They are passed
// to timedelta as keyword arguments, so only these exact lowercase plurals work.
func periodUnit(period string) (time.Duration, bool) {
	switch period {
	case "days":
		return 24 * time.Hour, true
	case "hours":
		return time.Hour, true
	case "minutes":
		return time.Minute, true
	case "seconds":
		return time.Second, true
	case "microseconds":
		return time.Microsecond, true
	}
	return 0, false
}

// ParseInterval checks an interval's every and period. The period is one of
// django-celery-beat's choices: days, hours, minutes, seconds, microseconds (the
// warehouse's rows use the first three). Every must be at least 1: the model's
// validator says so, and with 0 beat would send the task on each of its ticks.
func ParseInterval(every int64, period string) (Interval, error) {
	unit, ok := periodUnit(period)
	if !ok {
		return Interval{}, fmt.Errorf("period %q is not one of days, hours, minutes, seconds, microseconds", period)
	}
	if every < 1 {
		return Interval{}, fmt.Errorf("every is %d, must be at least 1 (beat would send the task on every tick)", every)
	}
	if every > int64(math.MaxInt64/unit) {
		return Interval{}, fmt.Errorf("every %d %s is longer than the 292 years syncwatch can count", every, period)
	}
	return Interval{every: every, period: period, d: time.Duration(every) * unit}, nil
}

// Duration returns every × period.
func (i Interval) Duration() time.Duration {
	return i.d
}

// Description tells the interval in words: "every hour", "every 15 minutes".
func (i Interval) Description() string {
	if i.period == "" {
		return "" // the zero Interval
	}
	singular := i.period[:len(i.period)-1]
	if i.every == 1 {
		return "every " + singular
	}
	return fmt.Sprintf("every %d %s", i.every, i.period)
}
