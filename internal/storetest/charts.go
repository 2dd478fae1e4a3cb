package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// day0 is midnight UTC of a day of the week shown at Now (Oct 3 … Oct 9).
func day0(dayOfMonth int) time.Time {
	return time.Date(2025, time.October, dayOfMonth, 0, 0, 0, 0, time.UTC)
}

func f(v float64) *float64 { return &v }

func chartsDays(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	oct := func(dom int, hh, mm int) time.Time {
		return day0(dom).Add(time.Duration(hh)*hour + time.Duration(mm)*minute)
	}
	fx.Insert(t,
		// Oct 9: durations 100 s, 200 s (success) and 31 s (partial): mean 110.3; the
		// failed row's 5000 s is no duration. Rate: 2 of 4 = 50.
		Row{CRMSource: "hubspot", Start: oct(9, 1, 0), End: ptr(oct(9, 1, 0).Add(100 * time.Second)), RecordsProcessed: 10},
		Row{CRMSource: "hubspot", Start: oct(9, 2, 0), End: ptr(oct(9, 2, 0).Add(200 * time.Second)), RecordsProcessed: 20},
		Row{CRMSource: "genius", Status: "partial", Start: oct(9, 3, 0), End: ptr(oct(9, 3, 0).Add(31 * time.Second)), RecordsProcessed: 5},
		Row{CRMSource: "genius", Status: "failed", Start: oct(9, 4, 0), End: ptr(oct(9, 4, 0).Add(5000 * time.Second)), RecordsProcessed: 1},
		// Oct 9: running, counted only by sync frequency; a skipped row counts its records.
		Row{CRMSource: "callrail", Status: "running", Start: oct(9, 9, 0), RecordsProcessed: 1000},
		Row{CRMSource: "callrail", Status: "skipped", Start: oct(9, 5, 0), End: ptr(oct(9, 5, 1)), RecordsProcessed: 7},
		// Oct 8: nothing. Oct 7: rows without a duration (no end_time; end before start).
		Row{CRMSource: "hubspot", Start: oct(7, 8, 0), RecordsProcessed: 1},
		Row{CRMSource: "hubspot", Start: oct(7, 9, 0), End: ptr(oct(7, 8, 0))},
		// Oct 3 at midnight is the first instant shown; a microsecond before is not.
		Row{CRMSource: "arrivy", Start: oct(2, 23, 0), End: ptr(day0(3)), RecordsProcessed: 4},
		Row{CRMSource: "arrivy", Status: "failed", Start: oct(2, 23, 0), End: ptr(day0(3).Add(-time.Microsecond)), RecordsProcessed: 1000},
		// Started on Oct 2, finished on Oct 3: in the charts by finish, not in frequency.
		Row{CRMSource: "five9", Start: oct(2, 22, 0), End: ptr(oct(3, 1, 0)), RecordsProcessed: 0},
		// Finished tomorrow (a clock ahead): not on any shown day.
		Row{CRMSource: "five9", Start: oct(9, 10, 0), End: ptr(oct(10, 0, 0)), RecordsProcessed: 99},
	)
	got, err := d.Charts(ctx(t), 7)
	if err != nil {
		t.Fatal(err)
	}
	labels := []string{"Oct 3", "Oct 4", "Oct 5", "Oct 6", "Oct 7", "Oct 8", "Oct 9"}
	want := dashboard.ChartsResponse{
		// Oct 3: 1 h (arrivy) and 3 h (five9, started the day before): 7200 s.
		SyncDurationTrend: dashboard.Trend{Labels: labels, Data: []*float64{f(7200), nil, nil, nil, nil, nil, f(110.3)}},
		SuccessRateTrend:  dashboard.Trend{Labels: labels, Data: []*float64{f(100), nil, nil, nil, f(100), nil, f(50)}},
		// Largest first; five9's only records finished tomorrow.
		RecordsByCRM: dashboard.Counts{Labels: []string{"HubSpot", "CallRail", "Genius", "Arrivy"}, Data: []int64{31, 7, 6, 4}},
		// Ties by source: callrail before genius.
		SyncFrequency: dashboard.Counts{Labels: []string{"HubSpot", "CallRail", "Genius", "Five9"}, Data: []int64{4, 2, 2, 1}},
		Days:          7,
		TimeZone:      "UTC",
	}
	got.Meta = dashboard.Meta{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("charts (-want +got):\n%s", diff)
	}
}

func chartsRounding(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	start := day0(8).Add(hour)
	fx.Insert(t,
		// Oct 8: durations 0.3 s and 0.4 s: the mean 0.35 rounds half away to 0.4 (a
		// float computation gives 0.3). Rate: 2 success of 3 = 66.67.
		Row{CRMSource: "hubspot", Start: start, End: ptr(start.Add(ms(300)))},
		Row{CRMSource: "hubspot", Start: start, End: ptr(start.Add(ms(400)))},
		Row{CRMSource: "hubspot", Status: "failed", Start: start, End: ptr(start.Add(ms(400)))},
		// Oct 9: 1 success of 8 = 12.5; durations of microseconds: 1 µs and 2 µs: 0.0.
		Row{CRMSource: "genius", Start: day0(9), End: ptr(day0(9).Add(time.Microsecond))},
		Row{CRMSource: "genius", Status: "partial", Start: day0(9), End: ptr(day0(9).Add(2 * time.Microsecond))},
		Row{CRMSource: "genius", Status: "failed", Start: day0(9), End: ptr(day0(9))},
		Row{CRMSource: "genius", Status: "failed", Start: day0(9), End: ptr(day0(9))},
		Row{CRMSource: "genius", Status: "failed", Start: day0(9), End: ptr(day0(9))},
		Row{CRMSource: "genius", Status: "partial", Start: day0(9), End: ptr(day0(9))},
		Row{CRMSource: "genius", Status: "partial", Start: day0(9), End: ptr(day0(9))},
		Row{CRMSource: "genius", Status: "partial", Start: day0(9), End: ptr(day0(9))},
	)
	got, err := d.Charts(ctx(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Oct 8", "Oct 9"}, got.SuccessRateTrend.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*float64{f(0.4), f(0)}, got.SyncDurationTrend.Data); diff != "" {
		t.Errorf("duration trend (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*float64{f(66.67), f(12.5)}, got.SuccessRateTrend.Data); diff != "" {
		t.Errorf("success rate trend (-want +got):\n%s", diff)
	}
}

func chartsTimeZone(t *testing.T, h Harness) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	// Daylight saving time ended on Sunday, Nov 2 2025 at 02:00 EDT: Nov 2 has 25 hours,
	// from 04:00Z to 05:00Z the next day.
	now := time.Date(2025, time.November, 3, 12, 0, 0, 0, time.UTC)
	d, fx := open(t, h, ny, now)
	utc := func(dom, hh, mm int) time.Time { return time.Date(2025, time.November, dom, hh, mm, 0, 0, time.UTC) }
	fx.Insert(t,
		Row{CRMSource: "hubspot", Start: utc(2, 3, 0), End: ptr(utc(2, 3, 59))},                    // Nov 1, 23:59 EDT
		Row{CRMSource: "hubspot", Status: "failed", Start: utc(2, 4, 0), End: ptr(utc(2, 4, 0))},   // Nov 2, 00:00 EDT
		Row{CRMSource: "hubspot", Start: utc(3, 4, 0), End: ptr(utc(3, 4, 30))},                    // Nov 2, 23:30 EST
		Row{CRMSource: "hubspot", Status: "partial", Start: utc(3, 5, 0), End: ptr(utc(3, 5, 0))},  // Nov 3, 00:00 EST
		Row{CRMSource: "hubspot", Status: "partial", Start: utc(1, 3, 0), End: ptr(utc(1, 3, 59))}, // Oct 31: not shown
	)
	got, err := d.Charts(ctx(t), 3)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Nov 1", "Nov 2", "Nov 3"}, got.SuccessRateTrend.Labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]*float64{f(100), f(50), f(0)}, got.SuccessRateTrend.Data); diff != "" {
		t.Errorf("success rate trend (-want +got):\n%s", diff)
	}
	if got.TimeZone != "America/New_York" {
		t.Errorf("got time zone %q, want America/New_York", got.TimeZone)
	}
}
