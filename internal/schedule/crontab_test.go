package schedule

import (
	"testing"
	"time"
)

func mustCrontab(t *testing.T, f [5]string) Crontab {
	t.Helper()
	c, err := ParseCrontab(f[0], f[1], f[2], f[3], f[4])
	if err != nil {
		t.Fatalf("ParseCrontab(%q) = %v", f, err)
	}
	return c
}

// The expected times were computed by Celery (remaining_delta) for these expressions.
func TestNextCrossesRareDatesQuickly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields [5]string
		after  time.Time
		want   time.Time
	}{
		{"the 29th of February skips 2100, which is not a leap year", [5]string{"0", "0", "*", "29", "2"},
			time.Date(2097, 3, 1, 0, 0, 0, 0, time.UTC), time.Date(2104, 2, 29, 0, 0, 0, 0, time.UTC)},
		{"a Monday the 29th of February comes in 2044", [5]string{"0", "12", "mon", "29", "2"},
			time.Date(2026, 3, 10, 10, 20, 0, 0, time.UTC), time.Date(2044, 2, 29, 12, 0, 0, 0, time.UTC)},
		{"a Saturday the 31st of December comes in 2033", [5]string{"59", "23", "6", "31", "12"},
			time.Date(2026, 3, 10, 10, 20, 0, 0, time.UTC), time.Date(2033, 12, 31, 23, 59, 0, 0, time.UTC)},
		{"day of month and day of week must both match", [5]string{"0", "0", "5", "13", "*"},
			time.Date(2026, 3, 10, 10, 20, 0, 0, time.UTC), time.Date(2026, 3, 13, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := mustCrontab(t, tt.fields)
			if got, ok := c.Next(tt.after); !ok || !got.Equal(tt.want) {
				t.Errorf("Next(%s) = %s, %v; want %s", tt.after, got, ok, tt.want)
			}
			if got, ok := c.Previous(tt.want.Add(59 * time.Second)); !ok || !got.Equal(tt.want) {
				t.Errorf("Previous(%s + 59s) = %s, %v; want %s", tt.want, got, ok, tt.want)
			}
		})
	}
}

func TestImpossibleDatesParseButNeverMatch(t *testing.T) {
	t.Parallel()
	for _, f := range [][5]string{
		{"0", "0", "*", "30", "2"},
		{"0", "0", "*", "30-31", "2"},
		{"0", "0", "*", "31", "4,6,9,11"},
	} {
		c := mustCrontab(t, f)
		if c.Satisfiable() {
			t.Errorf("%q Satisfiable() = true, want false", f)
		}
		now := time.Date(2026, 3, 10, 10, 20, 0, 0, time.UTC)
		if got, ok := c.Next(now); ok {
			t.Errorf("%q Next = %s, true; want false", f, got)
		}
		if got, ok := c.Previous(now); ok {
			t.Errorf("%q Previous = %s, true; want false", f, got)
		}
	}
	if (Crontab{}).Satisfiable() {
		t.Errorf("the zero Crontab is satisfiable, want not")
	}
}

func TestNextIsStrictlyAfterEvenOnAMatchingMinute(t *testing.T) {
	t.Parallel()
	c := mustCrontab(t, [5]string{"*/15", "*", "*", "*", "*"})
	tests := []struct {
		after, want time.Time
	}{
		{time.Date(2026, 3, 10, 10, 15, 0, 0, time.UTC), time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC)},
		{time.Date(2026, 3, 10, 10, 15, 30, 0, time.UTC), time.Date(2026, 3, 10, 10, 30, 0, 0, time.UTC)},
		{time.Date(2026, 3, 10, 10, 14, 59, 999999999, time.UTC), time.Date(2026, 3, 10, 10, 15, 0, 0, time.UTC)},
		{time.Date(2026, 3, 10, 23, 45, 0, 0, time.FixedZone("CET", 3600)), time.Date(2026, 3, 10, 23, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		if got, _ := c.Next(tt.after); !got.Equal(tt.want) {
			t.Errorf("Next(%s) = %s, want %s", tt.after, got, tt.want)
		}
	}
}

func TestDescriptionsReadAsTheRecurrence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fields [5]string
		want   string
	}{
		{[5]string{"8", "*", "*", "*", "*"}, "every hour at :08"},
		{[5]string{"*/15", "*", "*", "*", "*"}, "every 15 minutes"},
		{[5]string{"*", "*", "*", "*", "*"}, "every minute"},
		{[5]string{"30", "2", "mon-fri", "*", "*"}, "at 02:30 UTC on Mon–Fri"},
		{[5]string{"0", "*/2", "*", "*", "*"}, "every 2 hours"},
		{[5]string{"15", "*/6", "*", "*", "*"}, "every 6 hours at :15"},
		{[5]string{"0", "9,17", "sat,sun", "*", "*"}, "at 09:00 and 17:00 UTC on Sat and Sun"},
		{[5]string{"0", "0", "fri-mon", "*", "*"}, "at 00:00 UTC on Mon and Fri–Sun"},
		{[5]string{"0", "6", "*", "1", "*/3"}, "at 06:00 UTC on day 1 of the month in Jan, Apr, Jul and Oct"},
		{[5]string{"0", "0", "mon", "1-7", "*"}, "at 00:00 UTC on days 1–7 of the month when it is Mon"},
		{[5]string{"0,30", "9-17", "*", "*", "*"}, "at :00 and :30 past hours 09–17 UTC"},
		{[5]string{"0-9", "23", "*", "*", "*"}, "at :00–:09 past hour 23 UTC"},
		{[5]string{"*", "9", "*", "*", "*"}, "every minute of hour 09"},
		{[5]string{"0", "0", "*", "30", "2"}, "never (no date matches)"},
	}
	for _, tt := range tests {
		if got := mustCrontab(t, tt.fields).Description(); got != tt.want {
			t.Errorf("%q Description() = %q, want %q", tt.fields, got, tt.want)
		}
	}
}

func TestIntervalDescriptionsUseTheSingularForOne(t *testing.T) {
	t.Parallel()
	tests := []struct {
		every  int64
		period string
		want   string
	}{
		{1, "hours", "every hour"},
		{1, "days", "every day"},
		{2, "hours", "every 2 hours"},
		{15, "minutes", "every 15 minutes"},
		{30, "seconds", "every 30 seconds"},
		{500, "microseconds", "every 500 microseconds"},
	}
	for _, tt := range tests {
		iv, err := ParseInterval(tt.every, tt.period)
		if err != nil {
			t.Fatalf("ParseInterval(%d, %q) = %v", tt.every, tt.period, err)
		}
		if got := iv.Description(); got != tt.want {
			t.Errorf("ParseInterval(%d, %q).Description() = %q, want %q", tt.every, tt.period, got, tt.want)
		}
	}
}
