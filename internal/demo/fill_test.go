package demo_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/demotest"
	"github.com/syncwatch/syncwatch/internal/sqlite"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// ctx bounds a call against a hang, not for speed: under the race detector, on a busy
// machine, a 30-day fill alone can take a minute.
func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return c
}

// filledAtNow is an empty demo database that demo.Prepare filled at now, once for the
// package: a fill takes about 16 s of CPU under the race detector.
// TestPrepareFillsAnEmptyDatabase checks that fill; the other tests start from copies of
// it, and demo.Prepare brings a copy to a later time as it brings a demo started again.
var filledAtNow = demotest.NewTemplate(now)

// rawQuery reads the file as another program would.
func rawQuery[T any](t *testing.T, db *sqlite.DB, q string) T {
	t.Helper()
	raw, err := sql.Open("sqlite", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var v T
	if err := raw.QueryRow(q).Scan(&v); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return v
}

// dashboardAt is a dashboard over db whose clock stands at at. It computes its figures
// once, at the first question, and answers the others from them. A computation is bounded
// against a hang, not for speed: under the race detector one takes 20 s of CPU on the 30
// days of the demo, more on a busy machine.
func dashboardAt(t *testing.T, db *sqlite.DB, at time.Time) *dashboard.Dashboard {
	t.Helper()
	d, err := dashboard.New(dashboard.Config{Store: db, Clock: clock.NewFake(at), ComputeTimeout: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// checkLooksAlive checks what a visitor of the demo sees at `at`: every configured CRM
// with its latest run and its next one, none overdue, figures on every shown day. It
// returns the dashboard it looked through, for more questions at the same time.
func checkLooksAlive(t *testing.T, db *sqlite.DB, at time.Time) *dashboard.Dashboard {
	t.Helper()
	d := dashboardAt(t, db, at)
	crms, err := d.CRMStatus(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(crms.CRMs) != 10 {
		t.Errorf("got %d CRMs, want the 10 configured ones", len(crms.CRMs))
	}
	for _, c := range crms.CRMs {
		switch {
		case c.Overdue:
			t.Errorf("%s: got overdue at %v, want every schedule kept", c.Source, at)
		case c.Source == "marketsharp":
			if c.Status != "never" || len(c.Schedules) != 1 || c.Schedules[0].State != "disabled" {
				t.Errorf("marketsharp: got status %q, schedules %+v, want never and one disabled schedule", c.Status, c.Schedules)
			}
		case c.Status == "never" || c.NextSync == nil || c.LastSuccess == nil:
			t.Errorf("%s: got status %q, next %v, last success %v; want a run, a next one and a success", c.Source, c.Status, c.NextSync, c.LastSuccess)
		}
	}
	charts, err := d.Charts(ctx(t), 7)
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range charts.SuccessRateTrend.Data {
		if v == nil || charts.SyncDurationTrend.Data[i] == nil {
			t.Errorf("day %s: got no success rate or duration, want figures every day", charts.SuccessRateTrend.Labels[i])
		}
	}
	return d
}

// TestPrepareFillsAnEmptyDatabase checks what demo.Prepare made of an empty file at now
// (filledAtNow), in a copy of it.
func TestPrepareFillsAnEmptyDatabase(t *testing.T) {
	t.Parallel()
	p := filledAtNow.Prepared(t)
	db := filledAtNow.Open(t)
	t.Logf("filled %d rows in %v", p.Inserted, p.Took)
	// How long it took is logged, not judged: a busy machine under the race detector
	// takes a minute; BenchmarkHistory measures the generation.
	if !p.Filled || p.Inserted < 30*1200 {
		t.Errorf("got %+v, want about 30 days of rows written", p)
	}
	// The file holds the seed's 30 days, every row as generated, and the stale row.
	var want struct{ rows, starts, records, failed int64 }
	h := demo.NewHistory(demo.Seed, now.Add(-demo.FillDays*24*time.Hour), now)
	for {
		r, ok := h.Next()
		if !ok {
			break
		}
		want.rows++
		want.starts += r.Start.Sub(now).Microseconds()
		want.records += r.RecordsProcessed
		if r.Status == "failed" {
			want.failed++
		}
	}
	want.rows++ // the stale row: no records, in_progress
	want.starts += (-2*time.Hour - 13*time.Minute).Microseconds()
	// Start times are summed from now: summed from 1970 they would overflow.
	got := rawQuery[string](t, db, `SELECT count(*) || ' ' || sum(start_time - `+strconv.FormatInt(now.UnixMicro(), 10)+`) || ' ' ||
		sum(records_processed) || ' ' || sum(status = 'failed') FROM sync_history`)
	if w := fmt.Sprint(want.rows, want.starts, want.records, want.failed); got != w || p.Inserted != want.rows {
		t.Errorf("got %d rows inserted, and rows, sum of starts, of records and failures %s; want %s: the seed's history and the stale row", p.Inserted, got, w)
	}
	d := checkLooksAlive(t, db, now)
	stats, err := d.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if o := stats.Overview; o.StuckSyncs < 1 || o.FailedToday < 1 || o.CompletedToday < 1000 || o.SuccessRate == nil {
		t.Errorf("got %+v, want a stuck run, failures and over a thousand successes in the last day", o)
	}
	running, err := d.RecentSyncs(ctx(t), dashboard.RecentQuery{Limit: 200, Status: "running"})
	if err != nil {
		t.Fatal(err)
	}
	var stale bool
	for _, r := range running.Syncs {
		stale = stale || (r.SyncType == "prospect_sources" && r.StartTime.Before(now.Add(-time.Hour)))
	}
	if !stale {
		t.Errorf("got running rows %+v, want a stale in_progress genius row", running.Syncs)
	}
	errs, err := d.Errors(ctx(t), 7)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs.RecentErrors) != 10 || len(errs.ErrorDistribution.Labels) < 5 || len(errs.ProblematicCRMs) == 0 {
		t.Errorf("got %d recent errors, %d error types, %d problematic CRMs: want ten, several and some",
			len(errs.RecentErrors), len(errs.ErrorDistribution.Labels), len(errs.ProblematicCRMs))
	}
	if n := rawQuery[int](t, db, `SELECT count(*) FROM sync_history WHERE status = 'completed'`); n == 0 {
		t.Error("got no completed rows, want the alias written by the newer Genius engine")
	}
}

// TestPrepareCatchesUp opens a demo database again hours and days later: the history
// continues as if the engines had kept running, without a row written twice.
func TestPrepareCatchesUp(t *testing.T) {
	t.Parallel()
	db := filledAtNow.Open(t)
	// The next hour, a minute after genius's hourly task began: its runs are going on.
	first := now.Truncate(time.Hour).Add(time.Hour + 9*time.Minute)
	if p, err := demo.Prepare(ctx(t), db, first); err != nil || p.Filled || p.Inserted == 0 {
		t.Fatalf("got %+v (%v), want the 39 minutes since the fill added", p, err)
	}
	later := first.Add(5*time.Hour + 7*time.Minute)
	p, err := demo.Prepare(ctx(t), db, later)
	if err != nil {
		t.Fatal(err)
	}
	var want int64
	h := demo.NewHistory(demo.Seed, first.Add(-26*time.Hour), later)
	for {
		r, ok := h.Next()
		if !ok {
			break
		}
		if !r.Start.Before(first) {
			want++
		}
	}
	if p.Filled || p.Inserted != want || p.Finished == 0 {
		t.Errorf("got %+v, want %d rows inserted and the runs left running finished", p, want)
	}
	if dup := rawQuery[int](t, db, `SELECT count(*) - count(DISTINCT crm_source || sync_type || start_time) FROM sync_history`); dup != 0 {
		t.Errorf("got %d rows written twice, want none", dup)
	}
	checkLooksAlive(t, db, later)

	// Two days on, the nightly cleanup has passed: the stale row is failed, as the
	// warehouse's cleanup would have marked it.
	days := later.Add(2 * 24 * time.Hour)
	if _, err := demo.Prepare(ctx(t), db, days); err != nil {
		t.Fatal(err)
	}
	msg := rawQuery[string](t, db, `SELECT status || ': ' || error_message FROM sync_history WHERE sync_type = 'prospect_sources' AND start_time = `+
		strconv.FormatInt(filledAtNow.At().Add(-2*time.Hour-13*time.Minute).UnixMicro(), 10))
	if !strings.HasPrefix(msg, "failed: Sync started (auto-marked failed by cleanup_stale_syncs") {
		t.Errorf("got the stale row as %q, want it failed by the cleanup", msg)
	}
	if n := rawQuery[int](t, db, `SELECT count(*) FROM sync_history WHERE status IN ('running', 'in_progress') AND start_time < `+
		strconv.FormatInt(days.Add(-24*time.Hour).UnixMicro(), 10)); n != 0 {
		t.Errorf("got %d rows running since before the last cleanup, want none", n)
	}
	checkLooksAlive(t, db, days)
}

func TestSchedulesAreBeats(t *testing.T) {
	t.Parallel()
	got := map[string]syncs.Schedule{}
	for _, s := range demo.Schedules(now) {
		got[s.CRMSource+"/"+s.Name] = s
	}
	cases := []struct {
		key     string
		enabled bool
		lastRun *time.Time
	}{
		{"hubspot/hourly delta sync", true, at(10, 0)},
		{"genius/hourly delta sync", true, at(10, 8)},
		{"salesrabbit/hourly delta sync", true, at(10, 16)},
		{"hubspot/nightly full sync", true, at(2, 30)},
		{"salespro/weekday morning full sync", true, at(6, 0)},
		{"gsheet/marketing leads every 4 hours", true, at(9, 44)},
		{"marketsharp/hourly delta sync", false, nil},
	}
	for _, c := range cases {
		s, ok := got[c.key]
		if !ok {
			t.Errorf("%s: missing", c.key)
			continue
		}
		if s.Enabled != c.enabled || (s.LastRunAt == nil) != (c.lastRun == nil) || (c.lastRun != nil && !s.LastRunAt.Equal(*c.lastRun)) {
			t.Errorf("%s: got enabled %v, last run %v; want %v, %v", c.key, s.Enabled, s.LastRunAt, c.enabled, c.lastRun)
		}
	}
	if s := got["genius/weekly force7 resync"]; s.Enabled || s.LastRunAt == nil || s.LastRunAt.Weekday() != time.Sunday {
		t.Errorf("genius weekly: got %+v, want disabled after a last Sunday run", s)
	}
}

// at is a time of day on the day of now.
func at(hh, mm int) *time.Time {
	t := time.Date(now.Year(), now.Month(), now.Day(), hh, mm, 0, 0, time.UTC)
	return &t
}
