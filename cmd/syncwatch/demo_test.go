package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
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

func TestDefaultSQLitePath(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"the XDG data directory", map[string]string{"XDG_DATA_HOME": "/data", "HOME": "/home/ann"}, "/data/syncwatch/demo.sqlite"},
		{"a relative XDG_DATA_HOME is ignored", map[string]string{"XDG_DATA_HOME": "data", "HOME": "/home/ann"}, "/home/ann/.local/share/syncwatch/demo.sqlite"},
		{"the home directory", map[string]string{"HOME": "/home/ann"}, "/home/ann/.local/share/syncwatch/demo.sqlite"},
		{"no home", map[string]string{}, filepath.Join(os.TempDir(), "syncwatch", "demo.sqlite")},
	}
	for _, c := range cases {
		if got := defaultSQLitePath(func(k string) string { return c.env[k] }); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}

// demoTestTimeout bounds a demo test against a hang, not for speed: under the race
// detector, on a busy machine, a 30-day fill alone can take a minute.
const demoTestTimeout = 5 * time.Minute

// demoFile is a demo database filled once for the package, on the real clock, when the
// first test asks for it: the tests that need a demo with history start from a copy,
// which openDemo brings up to now as it brings a demo started again later (here by the
// minutes since the fill), instead of filling a file each. TestOpenDemo fills a file of
// its own: it tests the fill.
var demoFile = demotest.NewTemplate(time.Now())

// TestOpenDemo opens the demo as serve does: a new file in a new directory is filled
// (the time it took is logged, not judged: BenchmarkHistory measures the generation),
// answers at once, moves while the simulator runs, and shows MarketSharp configured but
// disabled. When the simulator stops, its lock file goes.
func TestOpenDemo(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "share", "syncwatch", "demo.sqlite")
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithTimeout(context.Background(), demoTestTimeout)
	defer cancel()

	began := time.Now()
	fake := clock.NewFake(began)
	store, simulate, err := openDemoOn(ctx, path, true, time.Minute, fake, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	t.Logf("opened and filled the demo database in %v", time.Since(began))
	if simulate == nil || !strings.Contains(logs.String(), "demo database filled") {
		t.Errorf("got simulator %v, logs %q; want the file filled, with a simulator", simulate != nil, logs.String())
	}
	// The dashboard reads a clock of its own: the simulator's timer is the only waiter on fake.
	// Its computation is bounded against a hang, not for speed: under the race detector
	// one takes 20 s of CPU on the 30 days of the demo.
	d, err := dashboard.New(dashboard.Config{Store: store, Clock: clock.NewFake(began), ComputeTimeout: demoTestTimeout})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := d.Stats(ctx)
	if err != nil || stats.Overview.CompletedToday == 0 {
		t.Fatalf("got %+v (%v), want the demo's runs of the last day", stats.Overview, err)
	}
	checkMarketSharpDisabled(t, ctx, d)
	before, err := store.RecentRuns(ctx, syncs.RecentQuery{Limit: 5})
	if err != nil || len(before) != 5 {
		t.Fatalf("got %d recent runs (%v), want 5", len(before), err)
	}

	simCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { simulate(simCtx); close(done) }()
	// The simulator waits on a timer between looks: a waiter means a look is done. An
	// hour on, every CRM's hourly task has started.
	if err := fake.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	fake.Advance(time.Hour)
	if err := fake.BlockUntil(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + ".simulator"); err != nil {
		t.Errorf("no lock file while the simulator runs: %v", err)
	}
	stop()
	<-done
	after, err := store.RecentRuns(ctx, syncs.RecentQuery{Limit: 5})
	if err != nil {
		t.Fatal(err)
	}
	if after[0].ID == before[0].ID {
		t.Errorf("got the same newest run %d after the simulator ran, want a new one", after[0].ID)
	}
	if _, err := os.Stat(path + ".simulator"); !os.IsNotExist(err) {
		t.Errorf("after the simulator stopped: got %v, want its lock file removed", err)
	}
}

// checkMarketSharpDisabled checks MarketSharp as api/crm-status/ answers it: configured,
// no rows, no next sync, and its one schedule in the state "disabled".
func checkMarketSharpDisabled(t *testing.T, ctx context.Context, d *dashboard.Dashboard) {
	t.Helper()
	status, err := d.CRMStatus(ctx)
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(status)
	if err != nil {
		t.Fatal(err)
	}
	var answer struct {
		CRMs []struct {
			Source    string          `json:"source"`
			Status    string          `json:"status"`
			NextSync  json.RawMessage `json:"next_sync"`
			Schedules []struct {
				State   string          `json:"state"`
				NextRun json.RawMessage `json:"next_run"`
			} `json:"schedules"`
		} `json:"crms"`
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatal(err)
	}
	for _, c := range answer.CRMs {
		if c.Source != "marketsharp" {
			continue
		}
		if c.Status != "never" || string(c.NextSync) != "null" || len(c.Schedules) != 1 ||
			c.Schedules[0].State != "disabled" || string(c.Schedules[0].NextRun) != "null" {
			t.Errorf("marketsharp: got %+v, want no runs, no next sync and one disabled schedule", c)
		}
		return
	}
	t.Errorf("got no marketsharp in %s, want it among the configured CRMs", body)
}

// TestOpenDemoWithoutSimulator leaves a file that has rows as it is: they may be
// someone's own, seeded into it.
func TestOpenDemoWithoutSimulator(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "own.sqlite")
	ctx, cancel := context.WithTimeout(context.Background(), demoTestTimeout)
	defer cancel()
	db, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-72 * time.Hour)
	if _, err := db.InsertRuns(ctx, []sqlite.Row{{CRMSource: "acme", SyncType: "x", Status: "success", Start: at, End: &at}}); err != nil {
		t.Fatal(err)
	}
	db.Close()

	store, simulate, err := openDemo(ctx, path, false, time.Second, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if simulate != nil {
		t.Error("got a simulator, want none")
	}
	runs, err := store.RecentRuns(ctx, syncs.RecentQuery{Limit: 10})
	if err != nil || len(runs) != 1 || runs[0].CRMSource != "acme" {
		t.Errorf("got %+v (%v), want the one row that was there", runs, err)
	}
	if _, err := os.Stat(path + ".simulator"); !os.IsNotExist(err) {
		t.Errorf("got %v, want no lock file left without a simulator", err)
	}
}

// TestDemoProcessThatOnlyShowsNeverWrites opens a file another process has claimed (it is
// about to fill it, say), with and without a simulator asked for: neither open writes,
// not even the fill of an empty file, which would then be written twice.
func TestDemoProcessThatOnlyShowsNeverWrites(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "demo.sqlite")
	ctx, cancel := context.WithTimeout(context.Background(), demoTestTimeout)
	defer cancel()
	release, ok, err := demo.ClaimSimulator(path)
	if err != nil || !ok {
		t.Fatalf("claim: %v, %v", ok, err)
	}
	defer release()
	for _, simulate := range []bool{true, false} {
		store, sim, err := openDemo(ctx, path, simulate, time.Hour, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		runs, err := store.RecentRuns(ctx, syncs.RecentQuery{Limit: 1})
		store.Close()
		if err != nil || len(runs) != 0 || sim != nil {
			t.Errorf("simulate %v: got %d runs (%v), simulator %v; want the file left empty, no simulator", simulate, len(runs), err, sim != nil)
		}
	}
	if _, err := os.Stat(path + ".simulator"); err != nil {
		t.Errorf("the holder's lock file: %v, want it left in place", err)
	}
}

// TestOneSimulatorPerDemoFile opens one demo file twice, as two syncwatch processes would:
// only the first simulates (two would write every run twice); the second shows the file
// and says why it does not simulate. Once the first simulator stops, a new open may
// simulate again.
func TestOneSimulatorPerDemoFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "demo.sqlite")
	demoFile.CopyTo(t, path)
	ctx, cancel := context.WithTimeout(context.Background(), demoTestTimeout)
	defer cancel()

	first, simulate, err := openDemo(ctx, path, true, time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if simulate == nil {
		t.Fatal("the first open got no simulator")
	}
	simCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { simulate(simCtx); close(done) }()

	var logs bytes.Buffer
	second, again, err := openDemo(ctx, path, true, time.Hour, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if again != nil {
		t.Error("the second open of a simulated file got a simulator too")
	}
	if !strings.Contains(logs.String(), "another syncwatch simulates") {
		t.Errorf("the second open does not say why it does not simulate: %q", logs.String())
	}
	if runs, err := second.RecentRuns(ctx, syncs.RecentQuery{Limit: 1}); err != nil || len(runs) != 1 {
		t.Errorf("the second open shows %d runs (%v), want the demo's", len(runs), err)
	}
	second.Close()

	stop()
	<-done
	if _, err := os.Stat(path + ".simulator"); !os.IsNotExist(err) {
		t.Errorf("after the simulator stopped: got %v, want its lock file removed", err)
	}
	third, simulateAgain, err := openDemo(ctx, path, true, time.Hour, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	if simulateAgain == nil {
		t.Error("after the simulator stopped, a new open got no simulator")
	}
}
