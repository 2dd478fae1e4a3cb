package sqlite_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// TestEntitiesOnAHandMadeTable asks the per-entity questions of a file whose sync_history
// was made by hand, without constraints: a NULL records_processed is unknown (nil in a
// run, left out of the success records), and NULL statuses or sources stop nothing.
func TestEntitiesOnAHandMadeTable(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 10, 9, 10, 30, 0, 0, time.UTC)
	us := func(d time.Duration) int64 { return now.Add(d).UnixMicro() }
	db := handMadeStore(t,
		fmt.Sprintf(`INSERT INTO sync_history (id, crm_source, sync_type, status, start_time, end_time, records_processed)
			VALUES (1, 'genius', 'leads', 'success', %d, %d, NULL)`, us(-3*time.Hour), us(-2*time.Hour)),
		fmt.Sprintf(`INSERT INTO sync_history (id, crm_source, sync_type, status, start_time, end_time, records_processed)
			VALUES (2, 'genius', 'leads', 'partial', %d, %d, 5)`, us(-5*time.Hour), us(-4*time.Hour)),
		fmt.Sprintf(`INSERT INTO sync_history (id, crm_source, sync_type, status, start_time, end_time)
			VALUES (3, NULL, NULL, NULL, %d, NULL)`, us(-time.Hour)),
		fmt.Sprintf(`INSERT INTO sync_history (id, crm_source, sync_type, status, start_time, end_time)
			VALUES (5, 'genius', 'leads', NULL, %d, %d)`, us(-4*time.Hour), us(-210*time.Minute)),
		fmt.Sprintf(`INSERT INTO sync_history (id, crm_source, sync_type, status, start_time)
			VALUES (4, 'genius', 'all', 'in_progress', %d)`, us(-90*time.Minute)),
	)

	entities, err := db.Entities(ctx(t), syncs.EntityQuery{Since: now.Add(-30 * 24 * time.Hour), Successes: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(entities) != 3 {
		t.Fatalf("got %d entities %+v, want 3: the NULL one, genius all and genius leads", len(entities), entities)
	}
	nulls, leads := entities[0], entities[2]
	if nulls.CRMSource != "" || nulls.Latest.ID != 3 || nulls.LastFinished != nil || nulls.LastSuccess != nil {
		t.Errorf("the row of NULLs: got %+v, want an entity of its own whose latest row is neither running nor finished", nulls)
	}
	if leads.LastFinished == nil || leads.LastFinished.ID != 1 || leads.LastTimed == nil || leads.LastTimed.ID != 1 {
		t.Errorf("genius leads: got last finished %+v, last timed %+v, want run 1 for both", leads.LastFinished, leads.LastTimed)
	}
	if len(leads.RecentSuccesses) != 2 || leads.RecentSuccesses[0].RecordsProcessed != nil ||
		leads.RecentSuccesses[1].RecordsProcessed == nil || *leads.RecentSuccesses[1].RecordsProcessed != 5 {
		t.Errorf("genius leads: got successes %+v, want run 1 with records unknown, then run 2 with 5", leads.RecentSuccesses)
	}
	values, err := db.SuccessRecords(ctx(t), "genius", "leads", now.Add(-24*time.Hour), now, 10)
	if err != nil || len(values) != 1 || values[0] != 5 {
		t.Errorf("success records: got %v, %v, want [5]: the NULL left out", values, err)
	}
	stuck, err := db.StuckRuns(ctx(t), now.Add(-time.Hour), 10)
	if err != nil || len(stuck) != 1 || stuck[0].ID != 4 || stuck[0].RecordsProcessed != nil {
		t.Errorf("stuck runs: got %+v, %v, want run 4 with records unknown", stuck, err)
	}
}
