package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// snapshotEntities checks what the dashboard makes of the store's entities in its
// snapshots, which alerts and metrics read: display names, exact durations, the latest
// failure classified and masked, the failure streak, the empty-runs mark and stuck runs.
func snapshotEntities(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	end := func(d time.Duration) *time.Time { t := at(d); return &t }
	secret := "HTTP 429: Too Many Requests for url: https://api.example/v1?api_key=s3cr3t"
	fx.Insert(t,
		// hubspot/contacts: records before, then three successes with nothing.
		Row{CRMSource: "hubspot", SyncType: "contacts", Start: at(-50 * time.Hour), End: end(-50*time.Hour + time.Minute), RecordsProcessed: 90},
		Row{CRMSource: "hubspot", SyncType: "contacts", Start: at(-40 * time.Hour), End: end(-40*time.Hour + time.Minute), RecordsProcessed: 110},
		Row{CRMSource: "hubspot", SyncType: "contacts", Status: "partial", Start: at(-30 * time.Hour), End: end(-30*time.Hour + time.Minute), RecordsProcessed: 0},
		Row{CRMSource: "hubspot", SyncType: "contacts", Status: "completed", Start: at(-20 * time.Hour), End: end(-20*time.Hour + time.Minute), RecordsProcessed: 0},
		Row{CRMSource: "hubspot", SyncType: "contacts", Start: at(-10 * time.Hour), End: end(-10*time.Hour + 1316515*time.Microsecond), RecordsProcessed: 0},
		// genius/jobs: a success, two failures around a skipped run, then one running.
		Row{CRMSource: "genius", SyncType: "jobs", Start: at(-4 * time.Hour), End: end(-4*time.Hour + time.Minute), RecordsProcessed: 5},
		Row{CRMSource: "genius", SyncType: "jobs", Status: "failed", Start: at(-3 * time.Hour), End: end(-3*time.Hour + time.Minute)},
		Row{CRMSource: "genius", SyncType: "jobs", Status: "skipped", Start: at(-150 * time.Minute), End: end(-149 * time.Minute)},
		Row{CRMSource: "genius", SyncType: "jobs", Status: "failed", Start: at(-2 * time.Hour), End: end(-2*time.Hour + 30*time.Second), ErrorMessage: &secret},
		Row{CRMSource: "genius", SyncType: "jobs", Status: "in_progress", Start: at(-90 * time.Minute)},
		// an entity older than 30 days is not one.
		Row{CRMSource: "arrivy", SyncType: "tasks", Start: at(-31 * 24 * time.Hour), End: end(-31*24*time.Hour + time.Minute)},
	)
	s := firstSnapshot(t, d)
	atp := func(d time.Duration) *time.Time { t := at(d).UTC(); return &t }
	msg := "HTTP 429: Too Many Requests for url: https://api.example/v1?api_key=***"
	want := []dashboard.EntityStatus{
		{
			CRMSource: "genius", Name: "Genius", SyncType: "jobs",
			LastRun:      dashboard.EntityRun{Status: "running", StartTime: at(-90 * time.Minute).UTC()},
			LastFinished: &dashboard.EntityRun{Status: "failed", StartTime: at(-2 * time.Hour).UTC(), EndTime: atp(-2*time.Hour + 30*time.Second)},
			LastSuccess:  atp(-4*time.Hour + time.Minute), LastDurationSeconds: ptr(30.0), LastRecordsProcessed: ptr(int64(0)),
			ConsecutiveFailures: 2, FirstStart: at(-4 * time.Hour).UTC(),
			LastFailure: &dashboard.ErrorEntry{CRMSource: "genius", Name: "Genius", SyncType: "jobs",
				FailedAt: at(-2*time.Hour + 30*time.Second).UTC(), ErrorType: "rate_limit", ErrorMessage: &msg},
		},
		{
			CRMSource: "hubspot", Name: "HubSpot", SyncType: "contacts",
			LastRun:      dashboard.EntityRun{Status: "success", StartTime: at(-10 * time.Hour).UTC(), EndTime: atp(-10*time.Hour + 1316515*time.Microsecond)},
			LastFinished: &dashboard.EntityRun{Status: "success", StartTime: at(-10 * time.Hour).UTC(), EndTime: atp(-10*time.Hour + 1316515*time.Microsecond)},
			LastSuccess:  atp(-10*time.Hour + 1316515*time.Microsecond), LastDurationSeconds: ptr(1.316515), LastRecordsProcessed: ptr(int64(0)),
			EmptyRuns: true, EmptyRunsMedian: ptr(100.0), FirstStart: at(-50 * time.Hour).UTC(),
		},
	}
	ignoreIDs := cmp.Transformer("noIDs", func(r dashboard.EntityRun) dashboard.EntityRun { r.ID = 0; return r })
	ignoreErrorIDs := cmp.Transformer("noErrorIDs", func(e dashboard.ErrorEntry) dashboard.ErrorEntry { e.ID = 0; return e })
	if diff := cmp.Diff(want, s.Entities, ignoreIDs, ignoreErrorIDs); diff != "" {
		t.Errorf("snapshot entities (-want +got):\n%s", diff)
	}
	// The running row started 90 minutes ago, past the 60-minute threshold.
	if len(s.StuckRuns) != 1 || s.StuckRuns[0].CRMSource != "genius" || !s.StuckRuns[0].Stuck || s.StuckRuns[0].Status != "running" {
		t.Errorf("stuck runs %+v, want genius's running row", s.StuckRuns)
	}
}
