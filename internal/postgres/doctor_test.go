package postgres_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/pgtest"
)

func TestDiagnose(t *testing.T) {
	t.Parallel()
	for _, shape := range pgtest.Shapes {
		t.Run("shape "+string(shape), func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t, shape)
			db.Exec(t, "ANALYZE orchestration.sync_history")
			d, err := open(t, db.URL).Diagnose(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if d.Shape != string(shape) || !d.ReadOnly || !d.CanWrite || !d.HasSchedules ||
				d.BeatTable != `"public"."django_celery_beat_periodictask"` || d.LastAnalyzed.IsZero() {
				t.Errorf("got %+v, want shape %s, a read-only session of a role that could write, the schedule and beat tables, analyzed", d, shape)
			}
			missing := map[string]string{}
			for _, ix := range d.Indexes {
				if ix.Found == "" {
					missing[ix.Column] = ix.Create
				}
			}
			switch shape {
			case pgtest.ShapeA:
				if len(missing) != 0 {
					t.Errorf("shape A: got missing indexes %v, want none", missing)
				}
			case pgtest.ShapeB:
				// The end_time index the refresh needs, and the two that bound the
				// drill-down's pages (shape B has neither, only single-column indexes).
				want := map[string]string{
					"end_time": "CREATE INDEX CONCURRENTLY sync_history_end_time_idx ON orchestration.sync_history (end_time DESC);",
					"crm_source, sync_type, start_time": "CREATE INDEX CONCURRENTLY sync_history_crm_entity_start_idx " +
						"ON orchestration.sync_history (crm_source, sync_type, start_time DESC);",
					"status, start_time": "CREATE INDEX CONCURRENTLY sync_history_status_start_idx " +
						"ON orchestration.sync_history (status, start_time DESC);",
				}
				if diff := cmp.Diff(want, missing); diff != "" {
					t.Fatalf("shape B: missing indexes (-want +got):\n%s", diff)
				}
				// Indexes that cannot serve an ordered read do not count: a column that is
				// only INCLUDEd, a BRIN index.
				db.Exec(t, "CREATE INDEX status_incl ON orchestration.sync_history (status) INCLUDE (start_time)")
				db.Exec(t, "CREATE INDEX end_brin ON orchestration.sync_history USING brin (end_time)")
				d, err := open(t, db.URL).Diagnose(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, ix := range d.Indexes {
					if ix.Found != "" && want[ix.Column] != "" {
						t.Errorf("%s: found in %s, which cannot serve an ordered read", ix.Column, ix.Found)
					}
				}
				// The administrators run the statements; the doctor then finds the indexes.
				for _, stmt := range want {
					db.Exec(t, stmt)
				}
				d, err = open(t, db.URL).Diagnose(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				for _, ix := range d.Indexes {
					if ix.Found == "" {
						t.Errorf("after creating it: %s still missing", ix.Column)
					}
				}
			}
		})
	}
}
