package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

const (
	minute = time.Minute
	hour   = time.Hour
	day    = 24 * time.Hour
)

func statsWindow(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	fx.Insert(t,
		// success: finished exactly 24 h ago (in), a microsecond earlier (out), exactly
		// now (in), a second in the future (out).
		Row{CRMSource: "hubspot", Start: at(-24*hour - 10*minute), End: end(-24 * hour)},
		Row{CRMSource: "hubspot", Start: at(-24*hour - 10*minute), End: end(-24*hour - time.Microsecond)},
		Row{CRMSource: "hubspot", Start: at(-5 * minute), End: end(0)},
		Row{CRMSource: "hubspot", Start: at(-5 * minute), End: end(time.Second)},
		// failed and partial in the window.
		Row{CRMSource: "callrail", Status: "failed", Start: at(-90 * minute), End: end(-hour)},
		Row{CRMSource: "callrail", Status: "partial", Start: at(-150 * minute), End: end(-2 * hour)},
		// the "completed" alias counts as success; an unknown status counts as nothing.
		Row{CRMSource: "genius", Status: "completed", Start: at(-4 * hour), End: end(-3 * hour)},
		Row{CRMSource: "genius", Status: "skipped", Start: at(-4 * hour), End: end(-3 * hour)},
		// a finished row without end_time finishes at its start_time.
		Row{CRMSource: "arrivy", Start: at(-5 * hour)},
		Row{CRMSource: "arrivy", Start: at(-25 * hour)},
		// started three days ago, marked failed by the cleanup an hour ago: in the window.
		Row{CRMSource: "five9", Status: "failed", Start: at(-3 * day), End: end(-hour)},
		// running: stuck only when started more than 60 minutes ago.
		Row{CRMSource: "salesrabbit", Status: "running", Start: at(-10 * minute)},
		Row{CRMSource: "salesrabbit", Status: "in_progress", Start: at(-2 * hour)},
		Row{CRMSource: "hubspot", Status: "running", Start: at(-61 * minute)},
		Row{CRMSource: "hubspot", Status: "running", Start: at(-60 * minute)},
		Row{CRMSource: "hubspot", Status: "running", Start: at(-59 * minute)},
	)
	got, err := d.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := dashboard.Overview{
		ActiveSyncs: 5, StuckSyncs: 2,
		CompletedToday: 4, FailedToday: 2, PartialToday: 1,
		SuccessRate: ptr(57.14), // 100 × 4 / 7
	}
	if diff := cmp.Diff(want, got.Overview); diff != "" {
		t.Errorf("overview (-want +got):\n%s", diff)
	}
	if !got.Timestamp.Equal(Now) || got.Stale {
		t.Errorf("got timestamp %v stale %v, want %v and not stale", got.Timestamp, got.Stale, Now)
	}
}

func statsEmpty(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	// Only rows outside the window and a running one.
	fx.Insert(t,
		Row{CRMSource: "hubspot", Start: at(-3 * day), End: end(-3 * day)},
		Row{CRMSource: "hubspot", Status: "running", Start: at(-time.Minute)},
	)
	got, err := d.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	want := dashboard.Overview{ActiveSyncs: 1}
	if diff := cmp.Diff(want, got.Overview); diff != "" {
		t.Errorf("overview (-want +got):\n%s", diff)
	}
}
