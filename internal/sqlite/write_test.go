package sqlite_test

import (
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/sqlite"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// TestFailRunsMarksOnlyTheNamedRunningRows: the rows named that still run become failed
// at the time given, their message (or the base) with the suffix; a named row that
// finished meanwhile and a running row not named are left as they are.
func TestFailRunsMarksOnlyTheNamedRunningRows(t *testing.T) {
	t.Parallel()
	db := open(t)
	start := time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
	end := start.Add(time.Minute)
	said := "Fetching page 3"
	ids, err := db.InsertRuns(ctx(t), []sqlite.Row{
		{CRMSource: "arrivy", SyncType: "tasks", Status: "running", Start: start},
		{CRMSource: "genius", SyncType: "prospect_sources", Status: "in_progress", Start: start, ErrorMessage: &said},
		{CRMSource: "hubspot", SyncType: "deals", Status: "success", Start: start, End: &end, RecordsProcessed: 7},
		{CRMSource: "five9", SyncType: "agents", Status: "running", Start: start},
	})
	if err != nil {
		t.Fatal(err)
	}
	at := start.Add(40 * time.Minute)
	n, err := db.FailRuns(ctx(t), at, ids[:3], "Sync started", " (marked)")
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("got %d rows marked, want the 2 named running ones", n)
	}
	runs, err := db.RecentRuns(ctx(t), syncs.RecentQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		status  string
		end     string
		message string
	}
	want := map[int64]outcome{
		ids[0]: {syncs.StatusFailed, at.Format(time.RFC3339), "Sync started (marked)"},
		ids[1]: {syncs.StatusFailed, at.Format(time.RFC3339), "Fetching page 3 (marked)"},
		ids[2]: {syncs.StatusSuccess, end.Format(time.RFC3339), ""},
		ids[3]: {syncs.StatusRunning, "", ""},
	}
	for _, r := range runs {
		got := outcome{status: r.Status}
		if r.End != nil {
			got.end = r.End.Format(time.RFC3339)
		}
		if r.ErrorMessage != nil {
			got.message = *r.ErrorMessage
		}
		if got != want[r.ID] {
			t.Errorf("row %d (%s): got %+v, want %+v", r.ID, r.CRMSource, got, want[r.ID])
		}
	}
	if n, err := db.FailRuns(ctx(t), at, nil, "x", "y"); n != 0 || err != nil {
		t.Errorf("no ids: got %d, %v; want nothing done", n, err)
	}
}

// TestRunningRunsTellTheirConfiguration: the simulator tells its own runs from the
// history's by their configuration.
func TestRunningRunsTellTheirConfiguration(t *testing.T) {
	t.Parallel()
	db := open(t)
	start := time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
	const config = `{"triggered_by": "admin"}`
	if _, err := db.InsertRuns(ctx(t), []sqlite.Row{{CRMSource: "arrivy", SyncType: "tasks", Status: "running", Start: start, Configuration: config}}); err != nil {
		t.Fatal(err)
	}
	running, err := db.RunningRuns(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(running) != 1 || running[0].Configuration != config || !running[0].Start.Equal(start) {
		t.Errorf("got %+v, want the one running row with its configuration", running)
	}
}
