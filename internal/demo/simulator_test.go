package demo_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/sqlite"
)

// stepUntil runs the simulator every 5 seconds of a fake clock, from `from` to `to`.
func stepUntil(t *testing.T, sim *demo.Simulator, from, to time.Time) {
	t.Helper()
	stepEvery(t, sim, 5*time.Second, from, to)
}

// stepEvery runs the simulator every `every` of a fake clock, from `from` to `to`.
func stepEvery(t *testing.T, sim *demo.Simulator, every time.Duration, from, to time.Time) {
	t.Helper()
	for at := from; !at.After(to); at = at.Add(every) {
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
	db := filledAtNow.Open(t)
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
// with the history's runs going: they finish as planned.
func TestSimulatorTakesOverRunningRuns(t *testing.T) {
	t.Parallel()
	db := filledAtNow.Open(t)
	start := now.Truncate(time.Hour).Add(time.Hour + 9*time.Minute) // genius's task is running
	if _, err := demo.Prepare(ctx(t), db, start); err != nil {
		t.Fatal(err)
	}
	running, err := db.RunningRuns(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(running) < 2 {
		t.Fatalf("got %d running rows, want genius's task and the stale row", len(running))
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

// TestSimulatorRestartFailsTheRunsAPreviousProcessLeft restarts the simulator twice. The
// runs a stopped simulator started by hand have no worker left: each is marked failed as
// cleanup_stale_syncs marks a dead worker's row (end_time the time of marking, the
// cleanup's suffix) at the first look after it has run for over 30 minutes: at once after
// a long stop, half an hour after its start after a short one. The fill's stale row, a
// dead worker's of the history, still waits for the nightly cleanup.
func TestSimulatorRestartFailsTheRunsAPreviousProcessLeft(t *testing.T) {
	t.Parallel()
	db := filledAtNow.Open(t)
	start := now // 10:30, far from the nightly cleanup at 03:30
	stale := rawQuery[int64](t, db, `SELECT id FROM sync_history WHERE status = 'in_progress' AND sync_type = 'prospect_sources'`)

	// A simulator that runs two minutes and stops, leaving runs of its own going.
	first := demo.NewSimulator(db, demo.SimulatorConfig{Since: start, Seed: 3})
	stopped := start.Add(2 * time.Minute)
	stepUntil(t, first, start.Add(5*time.Second), stopped)
	left := ownRunning(t, db)
	if len(left) == 0 {
		t.Fatal("the first simulator left no run of its own running; pick another seed")
	}

	// A short stop: the runs go on being shown running until they have run 30 minutes.
	// The second simulator looks every 30 s (the default is 5 s): fewer looks, the same
	// rule, and a test that is quick under the race detector. Its looks fall on the
	// moment the earliest run left has run exactly 30 minutes: not yet "over 30".
	const every = 30 * time.Second
	var restart time.Time
	for _, r := range left {
		if restart.IsZero() || r.Start.Before(restart) {
			restart = r.Start
		}
	}
	for !restart.After(stopped) {
		restart = restart.Add(every)
	}
	second := demo.NewSimulator(db, demo.SimulatorConfig{Since: restart, Seed: 7})
	stepEvery(t, second, every, restart, restart.Add(10*time.Minute))
	for id, r := range left {
		if got := outcome(t, db, id); got.status != "running" {
			t.Errorf("run %d, started %v: got %v ten minutes after the restart, want it still running", id, r.Start, got)
		}
	}
	last := restart.Add(35 * time.Minute)
	stepEvery(t, second, every, restart.Add(10*time.Minute+every), last)
	for id, r := range left {
		got := outcome(t, db, id)
		ran := got.end.Sub(r.Start)
		lookedAt := got.end.Sub(restart)%every == 0
		if got.status != "failed" || got.message != cleanupMessage || ran <= 30*time.Minute || ran > 30*time.Minute+every || !lookedAt {
			t.Errorf("run %d, started %v: got %v, want it failed with the cleanup's message at the first look after 30 minutes", id, r.Start, got)
		}
	}

	// A long stop: the runs the second simulator left are failed at the first look.
	left = ownRunning(t, db)
	if len(left) == 0 {
		t.Fatal("the second simulator left no run of its own running; pick another seed")
	}
	later := last.Add(2 * time.Hour)
	if _, err := demo.Prepare(ctx(t), db, later); err != nil {
		t.Fatal(err)
	}
	third := demo.NewSimulator(db, demo.SimulatorConfig{Since: later, Seed: 8})
	if err := third.Step(ctx(t), later); err != nil {
		t.Fatal(err)
	}
	for id := range left {
		if got := outcome(t, db, id); got != (runOutcome{"failed", later, cleanupMessage}) {
			t.Errorf("run %d: got %v at the first look after a long stop, want failed at %v with the cleanup's message", id, got, later)
		}
	}
	if got := outcome(t, db, stale); got.status != "in_progress" {
		t.Errorf("the fill's stale row: got %v, want it left to the nightly cleanup", got)
	}
}

const cleanupMessage = "Sync started (auto-marked failed by cleanup_stale_syncs; no heartbeat for too long)"

// ownRunning returns the simulator's own runs (those an administrator would start) that
// are running, by id.
func ownRunning(t *testing.T, db *sqlite.DB) map[int64]sqlite.Row {
	t.Helper()
	running, err := db.RunningRuns(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	own := map[int64]sqlite.Row{}
	for _, r := range running {
		if strings.Contains(r.Configuration, `"triggered_by": "admin"`) {
			own[r.ID] = r
		}
	}
	return own
}

type runOutcome struct {
	status  string // raw
	end     time.Time
	message string
}

func (o runOutcome) String() string {
	return fmt.Sprintf("%s at %s: %q", o.status, o.end.Format(time.RFC3339Nano), o.message)
}

func outcome(t *testing.T, db *sqlite.DB, id int64) runOutcome {
	t.Helper()
	q := `SELECT status || '|' || coalesce(end_time, 0) || '|' || coalesce(error_message, '') FROM sync_history WHERE id = ` + strconv.FormatInt(id, 10)
	parts := strings.SplitN(rawQuery[string](t, db, q), "|", 3)
	end, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	o := runOutcome{status: parts[0], message: parts[2]}
	if end != 0 {
		o.end = time.UnixMicro(end).UTC()
	}
	return o
}

// TestSimulatorCleansUpAtNight: at 03:30 UTC the nightly cleanup marks the runs left
// running for over 30 minutes failed: here the fill's stale row, when the demo, filled the
// morning before, is started again at 03:20.
func TestSimulatorCleansUpAtNight(t *testing.T) {
	t.Parallel()
	db := filledAtNow.Open(t)
	start := time.Date(2025, 10, 10, 3, 20, 0, 0, time.UTC)
	if _, err := demo.Prepare(ctx(t), db, start); err != nil {
		t.Fatal(err)
	}
	sim := demo.NewSimulator(db, demo.SimulatorConfig{Since: start, Seed: 5})
	stepUntil(t, sim, start.Add(5*time.Second), start.Add(11*time.Minute))
	got := rawQuery[string](t, db, `SELECT status || ' at ' || end_time || ': ' || error_message FROM sync_history WHERE sync_type = 'prospect_sources' AND start_time = `+
		strconv.FormatInt(filledAtNow.At().Add(-2*time.Hour-13*time.Minute).UnixMicro(), 10))
	want := "failed at " + strconv.FormatInt(time.Date(2025, 10, 10, 3, 30, 0, 0, time.UTC).UnixMicro(), 10) + ": Sync started (auto-marked failed by cleanup_stale_syncs; no heartbeat for too long)"
	if got != want {
		t.Errorf("got the stale row %q, want %q", got, want)
	}
}

// TestSimulatorRunStopsWithItsContext runs the simulator on a fake clock: it looks at
// once, again when its interval has passed, and returns when its context ends.
func TestSimulatorRunStopsWithItsContext(t *testing.T) {
	t.Parallel()
	db := filledAtNow.Open(t)
	fake := clock.NewFake(now)
	c, cancel := context.WithCancel(ctx(t))
	done := make(chan struct{})
	go func() {
		demo.NewSimulator(db, demo.SimulatorConfig{Every: time.Hour, Since: now, Clock: fake}).Run(c)
		close(done)
	}()
	// The simulator waits on a timer between looks: a waiter is the sign that a look
	// is done. An hour on, every CRM's hourly task has started its runs.
	if err := fake.BlockUntil(ctx(t), 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(time.Hour)
	if err := fake.BlockUntil(ctx(t), 1); err != nil {
		t.Fatal(err)
	}
	started := rawQuery[int](t, db, `SELECT count(DISTINCT crm_source) FROM sync_history WHERE start_time > `+strconv.FormatInt(now.UnixMicro(), 10))
	cancel()
	select {
	case <-done:
	case <-ctx(t).Done():
		t.Fatal("Run did not return after its context ended")
	}
	if fake.Waiters() != 0 {
		t.Errorf("got %d timers left after Run returned, want it to stop its timer", fake.Waiters())
	}
	if started != 9 {
		t.Errorf("got runs of %d CRMs started in the hour, want the 9 that write rows", started)
	}
}
