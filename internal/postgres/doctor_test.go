package postgres_test

import (
	"context"
	"testing"

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
				want := "CREATE INDEX CONCURRENTLY sync_history_end_time_idx ON orchestration.sync_history (end_time DESC);"
				if len(missing) != 1 || missing["end_time"] != want {
					t.Fatalf("shape B: got missing %v, want only end_time with %q", missing, want)
				}
				// The administrators run the statement; the doctor then finds the index.
				db.Exec(t, want)
				d, err := open(t, db.URL).Diagnose(context.Background())
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
