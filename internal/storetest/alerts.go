package storetest

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/alerts"
	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// firstSnapshot runs the dashboard until it has published a snapshot with its figures
// (the page's and the per-entity ones, which Run computes at its start), and returns it.
func firstSnapshot(t *testing.T, d *dashboard.Dashboard) dashboard.Snapshot {
	t.Helper()
	sub := d.Subscribe()
	defer sub.Close()
	runCtx, stop := context.WithCancel(ctx(t))
	ran := make(chan struct{})
	go func() {
		defer close(ran)
		d.Run(runCtx)
	}()
	defer func() { stop(); <-ran }()
	for {
		select {
		case snap, ok := <-sub.C():
			if !ok {
				t.Fatal("the dashboard stopped before publishing its figures")
			}
			if snap.RefreshError != nil {
				t.Fatalf("snapshot without figures: %v", snap.RefreshError)
			}
			if snap.HasFigures {
				return snap
			}
		case <-runCtx.Done():
			t.Fatal("no snapshot with figures before the test's deadline")
		}
	}
}

// firingAt computes the dashboard's figures at Now and returns the alerts the default
// rules fire on them, as "name{label=value,…}", sorted: the same rows in must give the
// same alerts out on every store.
func firingAt(t *testing.T, d *dashboard.Dashboard) []string {
	t.Helper()
	snap := firstSnapshot(t, d)
	e, err := alerts.New(context.Background(), alerts.Config{Rules: alerts.DefaultRules(), Clock: clock.NewFake(Now)})
	if err != nil {
		t.Fatal(err)
	}
	e.Evaluate(snap)
	var out []string
	for _, a := range e.View().Firing {
		var labels []string
		for k, v := range a.Labels {
			labels = append(labels, k+"="+v)
		}
		sort.Strings(labels)
		out = append(out, a.Name+"{"+strings.Join(labels, ",")+"}")
	}
	slices.Sort(out)
	return out
}

func checkFiring(t *testing.T, d *dashboard.Dashboard, want []string) {
	t.Helper()
	slices.Sort(want)
	if diff := cmp.Diff(want, firingAt(t, d)); diff != "" {
		t.Errorf("firing alerts (-want +got):\n%s", diff)
	}
}

func alertsFailing(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	failed := func(crm, entity string, start time.Duration) Row {
		return Row{CRMSource: crm, SyncType: entity, Status: "failed", Start: at(start), End: end(start + 5*minute)}
	}
	ok := func(crm, entity, status string, start time.Duration) Row {
		return Row{CRMSource: crm, SyncType: entity, Status: status, Start: at(start), End: end(start + 5*minute), RecordsProcessed: 5}
	}
	fx.Insert(t,
		// Two failures after a success: fires.
		ok("hubspot", "contacts", "success", -5*hour), failed("hubspot", "contacts", -2*hour), failed("hubspot", "contacts", -hour),
		// One failure: fewer than N, does not.
		ok("hubspot", "deals", "success", -5*hour), failed("hubspot", "deals", -hour),
		// A skipped row neither counts nor breaks the streak: fires.
		ok("hubspot", "companies", "success", -6*hour), failed("hubspot", "companies", -3*hour),
		Row{CRMSource: "hubspot", SyncType: "companies", Status: "skipped", Start: at(-2 * hour), End: end(-2 * hour)},
		failed("hubspot", "companies", -hour),
		// The latest finished row is skipped: still two failures in a row, with no error
		// to show.
		ok("hubspot", "tickets", "success", -6*hour), failed("hubspot", "tickets", -3*hour), failed("hubspot", "tickets", -2*hour),
		Row{CRMSource: "hubspot", SyncType: "tickets", Status: "skipped", Start: at(-hour), End: end(-hour)},
		// The completed alias is a success: it breaks the streak.
		failed("genius", "appointments", -3*hour), failed("genius", "appointments", -2*hour), ok("genius", "appointments", "completed", -hour),
		// A run in progress (the in_progress alias) is not finished: two failures still.
		ok("genius", "users", "success", -6*hour), failed("genius", "users", -3*hour), failed("genius", "users", -2*hour),
		Row{CRMSource: "genius", SyncType: "users", Status: "in_progress", Start: at(-10 * minute)},
		// Failures of rows started before the 30 days do not count, even ending inside.
		Row{CRMSource: "genius", SyncType: "jobs", Status: "failed", Start: at(-31 * day), End: end(-29 * day)},
		Row{CRMSource: "genius", SyncType: "jobs", Status: "failed", Start: at(-31*day + hour), End: end(-29 * day)},
		// Never succeeded, two failures: fires; its CRM is not stale, having run for two
		// hours only (sync_stale counts from its first run in the 30 days).
		failed("callrail", "calls", -2*hour), failed("callrail", "calls", -hour),
		// Placed by start: the success started first and ended last; the two failures
		// that started after it fire.
		Row{CRMSource: "arrivy", SyncType: "tasks", Start: at(-2 * hour), End: end(-10 * minute), RecordsProcessed: 5},
		failed("arrivy", "tasks", -90*minute), failed("arrivy", "tasks", -70*minute),
	)
	checkFiring(t, d, []string{
		"sync_failing{crm=hubspot,sync_type=contacts}",
		"sync_failing{crm=hubspot,sync_type=companies}",
		"sync_failing{crm=hubspot,sync_type=tickets}",
		"sync_failing{crm=genius,sync_type=users}",
		"sync_failing{crm=callrail,sync_type=calls}",
		"sync_failing{crm=arrivy,sync_type=tasks}",
	})
}

func alertsStale(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	fx.Insert(t,
		// Last success longer than 24 h ago: stale.
		Row{CRMSource: "hubspot", Start: at(-25*hour - minute), End: end(-25 * hour)},
		// Exactly 24 h ago: not stale.
		Row{CRMSource: "callrail", Start: at(-24*hour - minute), End: end(-24 * hour)},
		// A partial run 2 h ago counts as a success.
		Row{CRMSource: "genius", Start: at(-3 * day), End: end(-3 * day)},
		Row{CRMSource: "genius", Status: "partial", Start: at(-2 * hour), End: end(-2 * hour)},
		// Last row 40 days ago: not expected to run, not stale.
		Row{CRMSource: "arrivy", Start: at(-40 * day), End: end(-40 * day)},
		// Ran today and failed; its last success is 40 days old: stale.
		Row{CRMSource: "leadconduit", Start: at(-40 * day), End: end(-40 * day)},
		Row{CRMSource: "leadconduit", Status: "failed", Start: at(-2 * hour), End: end(-2 * hour)},
		// Never succeeded; its first row in the 30 days started 2 days ago: stale.
		Row{CRMSource: "salesrabbit", Status: "failed", Start: at(-2 * day), End: end(-2 * day)},
		Row{CRMSource: "salesrabbit", SyncType: "users", Status: "running", Start: at(-hour)},
		// New: its first run, an hour ago, failed; the second runs. Not stale yet.
		Row{CRMSource: "marketsharp", Status: "failed", Start: at(-hour), End: end(-hour + minute)},
		Row{CRMSource: "marketsharp", Status: "running", Start: at(-10 * minute)},
		// five9 and the other listed sources never ran: not stale.
	)
	checkFiring(t, d, []string{"sync_stale{crm=hubspot}", "sync_stale{crm=leadconduit}", "sync_stale{crm=salesrabbit}"})
}

func alertsStuck(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	fx.Insert(t,
		Row{CRMSource: "genius", SyncType: "users", Start: at(-3 * hour), End: end(-3 * hour)},
		Row{CRMSource: "hubspot", Start: at(-3 * hour), End: end(-3 * hour)},
		Row{ID: 9001, CRMSource: "genius", SyncType: "users", Status: "running", Start: at(-2 * hour)},
		Row{ID: 9002, CRMSource: "genius", SyncType: "jobs", Status: "in_progress", Start: at(-61 * minute)},
		Row{ID: 9003, CRMSource: "hubspot", Status: "running", Start: at(-59 * minute)},
		// Started long before the 30 days, still running: stuck all the same.
		Row{ID: 9004, CRMSource: "callrail", SyncType: "calls", Status: "running", Start: at(-40 * day)},
	)
	checkFiring(t, d, []string{
		"sync_stuck{crm=callrail,run_id=9004,sync_type=calls}",
		"sync_stuck{crm=genius,run_id=9001,sync_type=users}",
		"sync_stuck{crm=genius,run_id=9002,sync_type=jobs}",
	})
}

func alertsOverdue(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now) // 10:30
	genius := cron("genius", "hourly", "8", "*", "*")
	genius.ModelName, genius.LastRunAt = "Genius_Appointment", ptr(at(-22*minute))
	fx.InsertSchedule(t, genius)
	// A disabled schedule is never overdue.
	off := cron("genius", "nightly", "0", "*", "*")
	off.ModelName, off.Enabled = "Genius_Lead", false
	fx.InsertSchedule(t, off)
	// hubspot's run started on time.
	hubspot := cron("hubspot", "hourly", "0", "*", "*")
	hubspot.LastRunAt = ptr(at(-30 * minute))
	fx.InsertSchedule(t, hubspot)
	fx.Insert(t,
		Row{CRMSource: "genius", Start: at(-3 * hour), End: end(-170 * minute)},
		Row{CRMSource: "hubspot", Start: at(-30*minute + 5*time.Second), End: end(-20 * minute)},
	)
	checkFiring(t, d, []string{"schedule_overdue{crm=genius,sync_type=Genius_Appointment}"})
}

func alertsEmpty(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	run := func(entity string, start time.Duration, records int64) Row {
		return Row{CRMSource: "callrail", SyncType: entity, Start: at(start), End: end(start + minute), RecordsProcessed: records}
	}
	fx.Insert(t,
		// Usually about 100 records, then three successes with none: fires.
		run("calls", -10*day, 100), run("calls", -9*day, 120), run("calls", -8*day, 90),
		run("calls", -3*hour, 0), run("calls", -2*hour, 0), run("calls", -hour, 0),
		// Always nothing: the median before is 0, does not fire.
		run("users", -10*day, 0), run("users", -3*hour, 0), run("users", -2*hour, 0), run("users", -hour, 0),
		// Two empty successes are fewer than K = 3.
		run("leads", -10*day, 50), run("leads", -2*hour, 0), run("leads", -hour, 0),
	)
	checkFiring(t, d, []string{"empty_runs{crm=callrail,sync_type=calls}"})
}
