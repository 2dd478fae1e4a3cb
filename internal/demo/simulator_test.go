package demo_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/sqlite"
)

// stepUntil runs the simulator every 5 seconds of a fake clock, from `from` to `to`.
func stepUntil(t *testing.T, sim *demo.Simulator, from, to time.Time) {
	t.Helper()
	for at := from; !at.After(to); at = at.Add(5 * time.Second) {
		if err := sim.Step(ctx(t), at); err != nil {
			t.Fatalf("step at %v: %v", at, err)
		}
	}
}

type snapshot struct {
	Overview dashboard.Overview
	Recent   []int64
}

func snap(t *testing.T, db *sqlite.DB, at time.Time) snapshot {
	t.Helper()
	d := dashboardAt(t, db, at)
	stats, err := d.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	recent, err := d.RecentSyncs(ctx(t), dashboard.RecentQuery{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	s := snapshot{Overview: stats.Overview}
	for _, r := range recent.Syncs {
		s.Recent = append(s.Recent, r.ID)
	}
	return s
}

// TestSimulatorMovesTheFigures: within a minute of the demo's start the figures change;
// an hour on, every schedule was kept, beat's sends are recorded, and the runs it
// started have finished.
func TestSimulatorMovesTheFigures(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	if _, err := demo.Prepare(ctx(t), db, now); err != nil {
		t.Fatal(err)
	}
	sim := demo.NewSimulator(db, demo.SimulatorConfig{Since: now, Seed: 3})
	before := snap(t, db, now)
	minute := now.Add(time.Minute)
	stepUntil(t, sim, now.Add(5*time.Second), minute)
	after := snap(t, db, minute)
	if cmp.Equal(before, after) {
		t.Errorf("got the same figures after a minute, want them to move: %+v", after)
	}

	later := now.Add(50 * time.Minute) // 11:20, after every CRM's 11 o'clock task
	stepUntil(t, sim, minute.Add(5*time.Second), later)
	checkLooksAlive(t, db, later)
	schedules, err := db.Schedules(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range schedules {
		if s.Enabled && s.Name == "hourly delta sync" && (s.LastRunAt == nil || s.LastRunAt.Hour() != 11 || strconv.Itoa(s.LastRunAt.Minute()) != *s.Minute) {
			t.Errorf("%s: got last run %v, want 11:%s", s.CRMSource, s.LastRunAt, *s.Minute)
		}
	}
	running, err := db.RunningRuns(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range running {
		if r.Start.Before(later.Add(-20*time.Minute)) && r.SyncType != "prospect_sources" {
			t.Errorf("got %s/%s running since %v, want the simulator to have finished it", r.CRMSource, r.SyncType, r.Start)
		}
	}
	if dup := rawQuery[int](t, db, `SELECT count(*) - count(DISTINCT crm_source || sync_type || start_time) FROM sync_history`); dup != 0 {
		t.Errorf("got %d rows written twice, want none", dup)
	}
}

// TestSimulatorTakesOverRunningRuns starts a simulator on a database another one left
// with runs going: the history's runs finish as planned, and so do recent unknown ones.
func TestSimulatorTakesOverRunningRuns(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	start := now.Truncate(time.Hour).Add(9 * time.Minute) // genius's task is running
	if _, err := demo.Prepare(ctx(t), db, start); err != nil {
		t.Fatal(err)
	}
	// A run of a simulator that stopped: not in the history.
	if _, err := db.InsertRuns(ctx(t), []sqlite.Row{{CRMSource: "arrivy", SyncType: "tasks", Status: "running", Start: start.Add(-time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	running, err := db.RunningRuns(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(running) < 3 {
		t.Fatalf("got %d running rows, want genius's task, the stopped simulator's run and the stale row", len(running))
	}
	sim := demo.NewSimulator(db, demo.SimulatorConfig{Since: start, Seed: 4})
	stepUntil(t, sim, start.Add(time.Second), start.Add(20*time.Minute))
	running, err = db.RunningRuns(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range running {
		if r.Start.Before(start) && r.SyncType != "prospect_sources" {
			t.Errorf("got %s/%s still running since %v, want it finished", r.CRMSource, r.SyncType, r.Start)
		}
	}
}

// TestSimulatorCleansUpAtNight: at 03:30 UTC the nightly cleanup marks the runs left
// running for over 30 minutes failed.
func TestSimulatorCleansUpAtNight(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	start := time.Date(2025, 10, 9, 3, 20, 0, 0, time.UTC)
	if _, err := demo.Prepare(ctx(t), db, start); err != nil {
		t.Fatal(err)
	}
	sim := demo.NewSimulator(db, demo.SimulatorConfig{Since: start, Seed: 5})
	stepUntil(t, sim, start.Add(5*time.Second), start.Add(11*time.Minute))
	got := rawQuery[string](t, db, `SELECT status || ' at ' || end_time || ': ' || error_message FROM sync_history WHERE sync_type = 'prospect_sources' AND start_time = `+
		strconv.FormatInt(start.Add(-2*time.Hour-13*time.Minute).UnixMicro(), 10))
	want := "failed at " + strconv.FormatInt(time.Date(2025, 10, 9, 3, 30, 0, 0, time.UTC).UnixMicro(), 10) + ": Sync started (auto-marked failed by cleanup_stale_syncs; no heartbeat for too long)"
	if got != want {
		t.Errorf("got the stale row %q, want %q", got, want)
	}
}

// TestRunStopsWithItsContext runs the simulator on the real clock.
func TestRunStopsWithItsContext(t *testing.T) {
	t.Parallel()
	db := openDB(t)
	began := time.Now()
	if _, err := demo.Prepare(ctx(t), db, began); err != nil {
		t.Fatal(err)
	}
	before, err := db.CountRuns(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(ctx(t))
	done := make(chan struct{})
	go func() {
		demo.NewSimulator(db, demo.SimulatorConfig{Every: 10 * time.Millisecond, Since: began}).Run(c)
		close(done)
	}()
	time.Sleep(300 * time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	after, err := db.CountRuns(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if after <= before {
		t.Errorf("got %d rows after running, %d before: want runs started", after, before)
	}
}
