package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

func hourly(source string, lastRun *time.Time) syncs.Schedule {
	minute, hour, any := "0", "*", "*"
	return syncs.Schedule{
		Name: "hourly", CRMSource: source, ModelName: "NA", Mode: "delta", SourceKey: source,
		RecurrenceType: "crontab", Minute: &minute, Hour: &hour, DayOfWeek: &any, DayOfMonth: &any,
		MonthOfYear: &any, Enabled: true, UpdatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		LastRunAt: lastRun,
	}
}

func TestSchedulesWhereverTheBeatTableIs(t *testing.T) {
	t.Parallel()
	lastRun := time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		// prepare changes the database after the schedule is inserted and returns the
		// URL the store connects with.
		prepare     func(t *testing.T, db *pgtest.DB) string
		wantLastRun bool
	}{
		{"beat table in public", func(t *testing.T, db *pgtest.DB) string { return db.URL }, true},
		{"beat table in the django schema of the application's search_path", func(t *testing.T, db *pgtest.DB) string {
			db.Exec(t, `CREATE SCHEMA django; ALTER TABLE public.django_celery_beat_periodictask SET SCHEMA django`)
			return db.URL
		}, true},
		{"beat table absent", func(t *testing.T, db *pgtest.DB) string {
			db.Exec(t, `DROP TABLE public.django_celery_beat_periodictask`)
			return db.URL
		}, false},
		{"beat table not readable by the monitoring user", func(t *testing.T, db *pgtest.DB) string {
			return db.NewRole(t, "GRANT USAGE ON SCHEMA orchestration TO %s",
				"GRANT SELECT ON ALL TABLES IN SCHEMA orchestration TO %s")
		}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t, pgtest.ShapeA)
			db.InsertSchedule(t, hourly("hubspot", &lastRun))
			store := open(t, c.prepare(t, db))
			got, err := store.Schedules(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].CRMSource != "hubspot" || *got[0].Minute != "0" || !got[0].Enabled {
				t.Fatalf("got %+v, want the one hourly hubspot schedule", got)
			}
			if gotRun := got[0].LastRunAt != nil && got[0].LastRunAt.Equal(lastRun); gotRun != c.wantLastRun {
				t.Errorf("got last run %v, want it read: %v", got[0].LastRunAt, c.wantLastRun)
			}
		})
	}
}

func TestNoScheduleTableMeansNoSchedules(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeB)
	db.Exec(t, `DROP TABLE orchestration.sync_schedule`)
	got, err := open(t, db.URL).Schedules(context.Background())
	if err != nil || len(got) != 0 {
		t.Errorf("got %v, %v; want no schedules and no error", got, err)
	}
}

func TestScheduleTableNotReadableMeansNoSchedules(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	db.InsertSchedule(t, hourly("hubspot", nil))
	url := db.NewRole(t, "GRANT USAGE ON SCHEMA orchestration TO %s",
		"GRANT SELECT ON orchestration.sync_history TO %s")
	got, err := open(t, url).Schedules(context.Background())
	if err != nil || len(got) != 0 {
		t.Errorf("got %v, %v; want no schedules and no error", got, err)
	}
}
