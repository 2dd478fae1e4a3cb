package schedule

import (
	"fmt"
	"math/bits"
	"time"
)

// Crontab is a parsed Celery crontab: the minutes, hours, days of the week, days of the
// month and months at which it fires, in UTC. A time matches when all five match
// (Celery's meaning, not classic cron's, where day of month and day of week are
// alternatives). The zero Crontab matches nothing; get one from ParseCrontab.
type Crontab struct {
	minutes  uint64 // bit m: minute m, 0-59
	hours    uint64 // bit h: hour h, 0-23
	weekdays uint64 // bit d: day d of the week, Sunday 0 to Saturday 6
	days     uint64 // bit d: day d of the month, 1-31
	months   uint64 // bit m: month m, 1-12
	// possible is false when no (month, day) pair exists in any year, such as day 30
	// of February; Celery accepts such a crontab and beat fails on it later.
	possible bool
	fields   [5]string
}

// ParseCrontab parses the five fields of a crontab schedule with the meaning Celery's
// crontab_parser gives them (see parse.go for its grammar and quirks). It rejects what
// Celery rejects, with a reason naming the field, such as
// `minute "61": 61 is out of range 0-59`.
//
// It accepts what Celery accepts even when no date can ever match (day_of_month 30 in
// month_of_year 2): Celery fails on those only when beat computes the next run. Use
// Crontab.Satisfiable to tell.
//
// An empty field is rejected, as Celery rejects it. A database NULL has no string
// form; callers decide (Evaluate treats it as invalid).
func ParseCrontab(minute, hour, dayOfWeek, dayOfMonth, monthOfYear string) (Crontab, error) {
	c := Crontab{fields: [5]string{minute, hour, dayOfWeek, dayOfMonth, monthOfYear}}
	// Celery parses hour before minute; keeping its order reports the same field first
	// when several are wrong.
	parts := []struct {
		set  *uint64
		f    fieldRange
		spec string
	}{
		{&c.hours, fieldRange{"hour", 0, 23}, hour},
		{&c.minutes, fieldRange{"minute", 0, 59}, minute},
		{&c.weekdays, fieldRange{"day_of_week", 0, 6}, dayOfWeek},
		{&c.days, fieldRange{"day_of_month", 1, 31}, dayOfMonth},
		{&c.months, fieldRange{"month_of_year", 1, 12}, monthOfYear},
	}
	for _, p := range parts {
		set, err := parseField(p.f, p.spec)
		if err != nil {
			return Crontab{}, err
		}
		*p.set = set
	}
	for m := time.January; m <= time.December; m++ {
		if c.months&(1<<uint(m)) != 0 && c.days&(1<<uint(daysIn(2000, m)+1)-1) != 0 {
			c.possible = true // 2000 is a leap year: February has its 29th
		}
	}
	return c, nil
}

// Satisfiable reports whether some date matches the crontab. It is false when every
// day_of_month lies past the end of every month_of_year (day 30 of February, day 31
// of April and June), and for the zero Crontab. Any date that exists matches each
// day of the week within 400 years, so day_of_week alone never makes it false.
func (c Crontab) Satisfiable() bool {
	return c.possible
}

// Fields returns the five fields as given to ParseCrontab: minute, hour, day_of_week,
// day_of_month, month_of_year.
func (c Crontab) Fields() [5]string {
	return c.fields
}

// Matches reports whether the minute that contains t (in UTC) matches the crontab.
func (c Crontab) Matches(t time.Time) bool {
	t = t.UTC()
	y, m, d := t.Date()
	return c.dateMatches(y, m, d) && has(c.hours, t.Hour()) && has(c.minutes, t.Minute())
}

// Next returns the first matching minute strictly after after, in UTC: what Celery
// beat computes as the next run of a task that last ran at after, when beat's clock
// reads a time on the same UTC day as after. It returns false when no date ever
// matches (see Satisfiable).
//
// It never loops minute by minute: within a day it picks from bit sets, across days it
// walks at most 401 years of months, the span after which the Gregorian calendar
// repeats with its days of the week.
func (c Crontab) Next(after time.Time) (time.Time, bool) {
	return c.next(after.UTC(), true)
}

// BeatNext returns the time Celery beat computes for the next run of a task that last
// ran at lastRun, when beat's clock reads now: last_run_at plus
// crontab.remaining_delta(last_run_at). The task is due when that time is at or before
// now.
//
// It differs from Next(lastRun) in one case, a quirk of Celery 5.2.6 (and of Celery's
// main branch): when now is on a later UTC day than lastRun, Celery does not consider
// the minutes left in lastRun's hour and continues with the next matching hour. So a
// "*/15 23 * * *" task that last ran at 23:10 and is looked at after midnight is next
// due at 23:00 the same day, not at 23:15 the day before: beat skips those runs
// instead of sending one late.
func (c Crontab) BeatNext(lastRun, now time.Time) (time.Time, bool) {
	l, n := lastRun.UTC(), now.UTC()
	ly, lm, ld := l.Date()
	ny, nm, nd := n.Date()
	return c.next(l, ly == ny && lm == nm && ld == nd)
}

// next is Celery's remaining_delta; thisHour is its test that last_run_at and now fall
// on the same day, without which the rest of t's hour is skipped.
func (c Crontab) next(t time.Time, thisHour bool) (time.Time, bool) {
	if !c.possible {
		return time.Time{}, false
	}
	y, m, d := t.Date()
	if c.dateMatches(y, m, d) {
		if thisHour && has(c.hours, t.Hour()) {
			if mi, ok := nextBit(c.minutes, t.Minute()+1, 59); ok {
				return time.Date(y, m, d, t.Hour(), mi, 0, 0, time.UTC), true
			}
		}
		if h, ok := nextBit(c.hours, t.Hour()+1, 23); ok {
			return time.Date(y, m, d, h, lowest(c.minutes), 0, 0, time.UTC), true
		}
	}
	y, m, d, ok := c.nextDate(y, m, d)
	if !ok {
		return time.Time{}, false
	}
	return time.Date(y, m, d, lowest(c.hours), lowest(c.minutes), 0, 0, time.UTC), true
}

// Previous returns the last matching minute that starts at or before atOrBefore, in
// UTC, and false when no date ever matches. Celery has no such function; it is the
// mirror of Next, used to tell when beat should last have sent a task.
func (c Crontab) Previous(atOrBefore time.Time) (time.Time, bool) {
	if !c.possible {
		return time.Time{}, false
	}
	t := atOrBefore.UTC()
	y, m, d := t.Date()
	if c.dateMatches(y, m, d) {
		if has(c.hours, t.Hour()) {
			if mi, ok := prevBit(c.minutes, t.Minute(), 0); ok {
				return time.Date(y, m, d, t.Hour(), mi, 0, 0, time.UTC), true
			}
		}
		if h, ok := prevBit(c.hours, t.Hour()-1, 0); ok {
			return time.Date(y, m, d, h, highest(c.minutes), 0, 0, time.UTC), true
		}
	}
	y, m, d, ok := c.prevDate(y, m, d)
	if !ok {
		return time.Time{}, false
	}
	return time.Date(y, m, d, highest(c.hours), highest(c.minutes), 0, 0, time.UTC), true
}

// searchMonths bounds the walk over months: 400 Gregorian years hold a whole number of
// weeks, so every (month, day, weekday) that can ever match does within 401 years.
const searchMonths = 401 * 12

// nextDate returns the first matching date strictly after y-m-d.
func (c Crontab) nextDate(y int, m time.Month, d int) (int, time.Month, int, bool) {
	for range searchMonths {
		if has(c.months, int(m)) {
			last := daysIn(y, m)
			for day := d + 1; day <= last; day++ {
				if has(c.days, day) && has(c.weekdays, int(weekdayOf(y, m, day))) {
					return y, m, day, true
				}
			}
		}
		d = 0
		if m++; m > time.December {
			m, y = time.January, y+1
		}
	}
	return 0, 0, 0, false
}

// prevDate returns the last matching date strictly before y-m-d.
func (c Crontab) prevDate(y int, m time.Month, d int) (int, time.Month, int, bool) {
	for range searchMonths {
		if has(c.months, int(m)) {
			for day := min(d-1, daysIn(y, m)); day >= 1; day-- {
				if has(c.days, day) && has(c.weekdays, int(weekdayOf(y, m, day))) {
					return y, m, day, true
				}
			}
		}
		if m--; m < time.January {
			m, y = time.December, y-1
		}
		d = 32
	}
	return 0, 0, 0, false
}

func (c Crontab) dateMatches(y int, m time.Month, d int) bool {
	return has(c.months, int(m)) && has(c.days, d) && has(c.weekdays, int(weekdayOf(y, m, d)))
}

// String returns the five fields as given, separated by spaces, in Celery's order:
// minute, hour, day_of_week, day_of_month, month_of_year (classic cron puts the day of
// the week last).
func (c Crontab) String() string {
	return fmt.Sprintf("%s %s %s %s %s", c.fields[0], c.fields[1], c.fields[2], c.fields[3], c.fields[4])
}

func has(set uint64, v int) bool {
	return v >= 0 && v < 64 && set&(1<<uint(v)) != 0
}

// nextBit returns the smallest set bit in [from, hi].
func nextBit(set uint64, from, hi int) (int, bool) {
	if from > hi {
		return 0, false
	}
	rest := set >> uint(from) << uint(from)
	if rest == 0 {
		return 0, false
	}
	v := bits.TrailingZeros64(rest)
	return v, v <= hi
}

// prevBit returns the largest set bit in [lo, from].
func prevBit(set uint64, from, lo int) (int, bool) {
	if from < lo {
		return 0, false
	}
	below := set & (1<<uint(from+1) - 1)
	if below == 0 {
		return 0, false
	}
	v := 63 - bits.LeadingZeros64(below)
	return v, v >= lo
}

func lowest(set uint64) int  { return bits.TrailingZeros64(set) }
func highest(set uint64) int { return 63 - bits.LeadingZeros64(set) }

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func weekdayOf(y int, m time.Month, d int) time.Weekday {
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Weekday()
}
