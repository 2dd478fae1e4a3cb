package schedule

import (
	"testing"
	"time"
)

// FuzzParseCrontab checks that no input panics, that parsing is bounded, and that every
// crontab that parses answers Next, BeatNext and Previous quickly and consistently:
// results match, lie on the right side of the instant, and leave no match between.
func FuzzParseCrontab(f *testing.F) {
	seeds := [][5]string{
		{"*", "*", "*", "*", "*"},
		{"*/15", "*", "*", "*", "*"},
		{"30", "2", "mon-fri", "*", "*"},
		{"1-5,10,20-30/3", "*/5", "sun", "29-31", "*"},
		{"0", "12", "mon", "29", "2"},
		{"0", "0", "*", "30", "2"},
		{"0", "0", "*", "31", "4,6,9,11"},
		{"50-10/7", "22-2", "fri-mon", "28-3", "11-2"},
		{"1-5/2/3", " +1_0 ", "Sunshine", "١٢", "*/99"},
		{"", ",", "7", "-1", "jan"},
		{"*/0", "1-5/", "*/", "5/2", "\xff"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1], s[2], s[3], s[4])
	}
	instants := []time.Time{
		time.Date(2028, 2, 29, 12, 34, 56, 789, time.UTC),
		time.Date(2027, 12, 31, 23, 59, 30, 0, time.UTC),
		time.Date(2026, 6, 15, 8, 8, 0, 0, time.UTC),
	}
	f.Fuzz(func(t *testing.T, minute, hour, dow, dom, moy string) {
		c, err := ParseCrontab(minute, hour, dow, dom, moy)
		if err != nil {
			if err.Error() == "" {
				t.Errorf("ParseCrontab(%q, %q, %q, %q, %q) returned an empty reason", minute, hour, dow, dom, moy)
			}
			return
		}
		_ = describeCrontab(c)
		for _, at := range instants {
			n, ok := c.Next(at)
			if ok != c.Satisfiable() {
				t.Fatalf("%v: Next(%s) ok = %v, Satisfiable() = %v", c, at, ok, c.Satisfiable())
			}
			if !ok {
				continue
			}
			if !n.After(at) || !c.Matches(n) {
				t.Fatalf("%v: Next(%s) = %s, want a matching minute after it", c, at, n)
			}
			if p, ok := c.Previous(n.Add(-time.Nanosecond)); !ok || p.After(at) {
				t.Fatalf("%v: a match at %s lies between %s and Next = %s", c, p, at, n)
			}
			p, ok := c.Previous(at)
			if !ok || p.After(at) || !c.Matches(p) {
				t.Fatalf("%v: Previous(%s) = %s, %v; want a matching minute at or before it", c, at, p, ok)
			}
			if b, ok := c.BeatNext(at, at.Add(36*time.Hour)); !ok || !b.After(at) || !c.Matches(b) {
				t.Fatalf("%v: BeatNext(%s, a day later) = %s, %v; want a matching minute after it", c, at, b, ok)
			}
		}
	})
}
