package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// TestEntitiesReadNullRecordsAsUnknown: both shapes declare records_processed NOT NULL,
// but a warehouse whose table was altered by hand may hold NULLs there. A NULL is
// unknown: nil in a run, and left out of the success records (a median of made-up zeros
// would be wrong).
func TestEntitiesReadNullRecordsAsUnknown(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeB)
	db.Exec(t, `ALTER TABLE orchestration.sync_history ALTER COLUMN records_processed DROP NOT NULL`)
	now := time.Date(2025, 10, 9, 10, 30, 0, 0, time.UTC)
	const insert = `INSERT INTO orchestration.sync_history (id, crm_source, sync_type, status, start_time, end_time,
			records_processed, records_created, records_updated, records_failed, performance_metrics, configuration, created_at)
		VALUES ($1, 'genius', 'leads', $2, $3, $3, $4, 0, 0, 0, '{}', '{}', $3)`
	db.Exec(t, insert, 1, "success", now.Add(-3*time.Hour), nil)
	db.Exec(t, insert, 2, "completed", now.Add(-5*time.Hour), 5)
	db.Exec(t, insert, 3, "running", now.Add(-2*time.Hour), nil)
	store := open(t, db.URL)
	ctx := context.Background()

	entities, err := store.Entities(ctx, syncs.EntityQuery{Since: now.Add(-30 * 24 * time.Hour), Successes: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(entities) != 1 || len(entities[0].RecentSuccesses) != 2 {
		t.Fatalf("got %+v, want genius leads with two successes", entities)
	}
	e := entities[0]
	if e.Latest.ID != 3 || e.Latest.RecordsProcessed != nil || e.RecentSuccesses[0].RecordsProcessed != nil ||
		e.RecentSuccesses[1].RecordsProcessed == nil || *e.RecentSuccesses[1].RecordsProcessed != 5 {
		t.Errorf("got latest %+v and successes %+v, want NULL records as nil and 5 as 5", e.Latest, e.RecentSuccesses)
	}
	values, err := store.SuccessRecords(ctx, "genius", "leads", now.Add(-24*time.Hour), now, 10)
	if err != nil || len(values) != 1 || values[0] != 5 {
		t.Errorf("success records: got %v, %v, want [5]: the NULL left out", values, err)
	}
	stuck, err := store.StuckRuns(ctx, now, 10)
	if err != nil || len(stuck) != 1 || stuck[0].RecordsProcessed != nil {
		t.Errorf("stuck runs: got %+v, %v, want run 3 with records unknown", stuck, err)
	}
}
