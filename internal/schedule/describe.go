package schedule

import (
	"fmt"
	"strconv"
	"strings"
)

// Description tells a schedule's recurrence in English words for administrators, such
// as "every hour at :08" or "at 02:30 UTC on Mon–Fri". The exact fields stay available
// (Crontab.String): the words aim at reading at a glance, not at round-tripping.
func (c Crontab) Description() string {
	return describeCrontab(c)
}

func describeCrontab(c Crontab) string {
	if !c.possible {
		return "never (no date matches)"
	}
	parts := []string{describeTimes(c.minutes, c.hours)}
	weekdays, days, months := c.weekdays != fullSet(0, 6), c.days != fullSet(1, 31), c.months != fullSet(1, 12)
	switch {
	case days && weekdays:
		parts = append(parts, "on "+dayList(c.days)+" of the month when it is "+weekdayList(c.weekdays))
	case days:
		parts = append(parts, "on "+dayList(c.days)+" of the month")
	case weekdays:
		parts = append(parts, "on "+weekdayList(c.weekdays))
	}
	if months {
		parts = append(parts, "in "+monthList(c.months))
	}
	return strings.Join(parts, " ")
}

// describeTimes tells the times of day, from the most regular shape to the most
// general.
func describeTimes(minutes, hours uint64) string {
	allMinutes, allHours := minutes == fullSet(0, 59), hours == fullSet(0, 23)
	ms, hs := members64(minutes), members64(hours)
	switch {
	case allMinutes && allHours:
		return "every minute"
	case allMinutes:
		return "every minute of " + hourList(hours)
	case allHours && len(ms) == 1:
		return fmt.Sprintf("every hour at :%02d", ms[0])
	case allHours:
		if step, ok := evenStep(ms, 60); ok {
			return fmt.Sprintf("every %d minutes", step)
		}
		return "every hour at " + minuteList(minutes)
	case len(ms) == 1:
		if step, ok := evenStep(hs, 24); ok {
			if ms[0] == 0 {
				return fmt.Sprintf("every %d hours", step)
			}
			return fmt.Sprintf("every %d hours at :%02d", step, ms[0])
		}
	}
	if len(ms)*len(hs) <= 6 {
		var times []string
		for _, h := range hs {
			for _, m := range ms {
				times = append(times, fmt.Sprintf("%02d:%02d", h, m))
			}
		}
		return "at " + joinAnd(times) + " UTC"
	}
	return "at " + minuteList(minutes) + " past " + hourList(hours) + " UTC"
}

// evenStep reports whether values are 0, s, 2s, … covering a cycle of n evenly, the
// shape of "*/15" in minutes or "*/2" in hours.
func evenStep(values []int, n int) (int, bool) {
	if len(values) < 2 || values[0] != 0 {
		return 0, false
	}
	step := values[1]
	if n%step != 0 || len(values) != n/step {
		return 0, false
	}
	for i, v := range values {
		if v != i*step {
			return 0, false
		}
	}
	return step, true
}

func minuteList(minutes uint64) string {
	return rangeList(minutes, func(v int) string { return fmt.Sprintf(":%02d", v) })
}

func hourList(hours uint64) string {
	if hs := members64(hours); len(hs) == 1 {
		return fmt.Sprintf("hour %02d", hs[0])
	}
	return "hours " + numberList(hours, 2)
}

func dayList(days uint64) string {
	ds := members64(days)
	if len(ds) == 1 {
		return "day " + strconv.Itoa(ds[0])
	}
	return "days " + numberList(days, 0)
}

// weekdayList names the days Monday first, as calendars in most places start the week,
// so that "sat,sun" reads "Sat and Sun" and "fri-mon" reads "Mon and Fri–Sun".
func weekdayList(days uint64) string {
	names := []string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}
	var mondayFirst uint64
	for i := range 7 {
		if has(days, (i+1)%7) {
			mondayFirst |= 1 << uint(i)
		}
	}
	return rangeList(mondayFirst, func(v int) string { return names[v] })
}

func monthList(months uint64) string {
	names := []string{"", "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}
	return rangeList(months, func(v int) string { return names[v] })
}

func numberList(set uint64, width int) string {
	return rangeList(set, func(v int) string { return fmt.Sprintf("%0*d", width, v) })
}

// rangeList writes a set with runs of three or more as ranges: "1–5, 10 and 20".
func rangeList(set uint64, name func(int) string) string {
	vs := members64(set)
	var parts []string
	for i := 0; i < len(vs); {
		j := i
		for j+1 < len(vs) && vs[j+1] == vs[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			parts = append(parts, name(vs[i])+"–"+name(vs[j]))
		case j == i+1:
			parts = append(parts, name(vs[i]), name(vs[j]))
		default:
			parts = append(parts, name(vs[i]))
		}
		i = j + 1
	}
	return joinAnd(parts)
}

func joinAnd(parts []string) string {
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

func members64(set uint64) []int {
	var out []int
	for v := range 64 {
		if has(set, v) {
			out = append(out, v)
		}
	}
	return out
}

func fullSet(lo, hi int) uint64 {
	return (1<<uint(hi+1) - 1) &^ (1<<uint(lo) - 1)
}
