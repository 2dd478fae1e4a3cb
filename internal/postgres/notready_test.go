package postgres_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/postgres"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// A warehouse that is not as syncwatch needs it (a table, a column or a right missing, a
// column of another type) says so, with the fix, in its health and in the errors of the
// figures' questions; it is never taken for an outage or a bug.
func TestAWarehouseNotAsExpectedSaysWhatToFix(t *testing.T) {
	t.Parallel()
	grantsAll := []string{"GRANT USAGE ON SCHEMA orchestration TO %s",
		"GRANT SELECT ON orchestration.sync_history, orchestration.sync_schedule TO %s"}
	cases := []struct {
		name string
		// prepare makes the database and returns the URL syncwatch connects with.
		prepare func(t *testing.T) string
		// reason is what the health's error must say; "" when the figures are readable.
		reason  string
		warning string
	}{
		{"an empty database", func(t *testing.T) string { return pgtest.NewEmpty(t).URL },
			"table orchestration.sync_history does not exist", ""},
		{"a role without SELECT on the table", func(t *testing.T) string {
			db := pgtest.New(t, pgtest.ShapeA)
			return db.NewRole(t, "GRANT USAGE ON SCHEMA orchestration TO %s")
		}, "GRANT SELECT ON orchestration.sync_history TO sw_role_", ""},
		{"a role without USAGE on the schema", func(t *testing.T) string {
			db := pgtest.New(t, pgtest.ShapeA)
			return db.NewRole(t, "GRANT SELECT ON orchestration.sync_history, orchestration.sync_schedule TO %s")
		}, "GRANT USAGE ON SCHEMA orchestration TO", ""},
		{"a missing column", func(t *testing.T) string {
			db := pgtest.New(t, pgtest.ShapeA)
			db.Exec(t, "ALTER TABLE orchestration.sync_history DROP COLUMN records_failed")
			return db.URL
		}, "column records_failed is missing", ""},
		{"a column of another type", func(t *testing.T) string {
			db := pgtest.New(t, pgtest.ShapeA)
			db.Exec(t, "ALTER TABLE orchestration.sync_history ALTER COLUMN start_time TYPE text")
			return db.URL
		}, "column start_time is text, not timestamp with time zone", ""},
		{"a missing sync_schedule alone", func(t *testing.T) string {
			db := pgtest.New(t, pgtest.ShapeA)
			db.Exec(t, "DROP TABLE orchestration.sync_schedule")
			return db.URL
		}, "", "table orchestration.sync_schedule does not exist"},
		{"a sync_schedule without a column", func(t *testing.T) string {
			db := pgtest.New(t, pgtest.ShapeA)
			db.Exec(t, "ALTER TABLE orchestration.sync_schedule DROP COLUMN updated_at")
			return db.URL
		}, "", "orchestration.sync_schedule is not the table syncwatch knows (column updated_at is missing)"},
		{"a sync_schedule with a column of another type", func(t *testing.T) string {
			db := pgtest.New(t, pgtest.ShapeB)
			db.Exec(t, "ALTER TABLE orchestration.sync_schedule ALTER COLUMN enabled TYPE text")
			db.Exec(t, `INSERT INTO orchestration.sync_schedule (name, crm_source, model_name, mode, source_key,
				recurrence_type, every, period, enabled, options, created_at, updated_at)
				VALUES ('hubspot contacts', 'hubspot', 'contacts', 'delta', 'hubspot', 'interval', 15, 'minutes',
				'yes', '{}', now(), now())`)
			return db.URL
		}, "", "column enabled is text, not boolean"},
		{"a role that may not read sync_schedule", func(t *testing.T) string {
			db := pgtest.New(t, pgtest.ShapeB)
			return db.NewRole(t, "GRANT USAGE ON SCHEMA orchestration TO %s",
				"GRANT SELECT ON orchestration.sync_history TO %s")
		}, "", "may not read orchestration.sync_schedule"},
		{"everything in place", func(t *testing.T) string {
			db := pgtest.New(t, pgtest.ShapeB)
			return db.NewRole(t, grantsAll...)
		}, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			store, err := postgres.Open(ctx, c.prepare(t), postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer store.Close()
			h, err := store.Health(ctx)
			if !strings.HasPrefix(h.Label, "PostgreSQL 1") {
				t.Errorf("label %q, want the server's name and version", h.Label)
			}
			if c.reason == "" {
				if err != nil {
					t.Fatalf("health: %v", err)
				}
				if got := strings.Join(h.Warnings, "; "); (c.warning == "") != (got == "") || !strings.Contains(got, c.warning) {
					t.Errorf("warnings %q, want %q", got, c.warning)
				}
				// The figures' questions work (no schedules is no error).
				if _, err := store.LatestByCRM(ctx); err != nil {
					t.Errorf("latest by crm: %v", err)
				}
				if _, err := store.Schedules(ctx); err != nil {
					t.Errorf("schedules: %v", err)
				}
				return
			}
			why, ok := syncs.Reason(err)
			if !errors.Is(err, syncs.ErrNotReady) || !ok || !strings.Contains(why, c.reason) || !strings.Contains(why, "syncwatch doctor") {
				t.Fatalf("health: %v (reason %q), want not ready saying %q and to run the doctor", err, why, c.reason)
			}
			// A question of the figures fails the same way, never as an outage.
			_, err = store.FinishedSince(ctx, syncs.Window{From: time.Now().Add(-time.Hour), Since: time.Now().Add(-time.Hour), Until: time.Now(),
				DayBounds: []time.Time{time.Now().Add(-time.Hour), time.Now()}})
			if !errors.Is(err, syncs.ErrNotReady) || errors.Is(err, syncs.ErrUnavailable) {
				t.Errorf("a question of the figures: %v, want not ready", err)
			}
			if why, _ := syncs.Reason(err); strings.Contains(why, "\n") || len(why) > 300 {
				t.Errorf("reason %q is not one short line", why)
			}
		})
	}
}

func TestAnUnreachableDatabaseGivesOneShortReason(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Nothing listens on port 1; pgx tries TLS, then plain text, and reports both.
	store, err := postgres.Open(ctx, "postgres://nobody@127.0.0.1:1/x?connect_timeout=2", postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, err = store.Health(ctx)
	why, ok := syncs.Reason(err)
	if !errors.Is(err, syncs.ErrUnavailable) || !ok || why != "cannot connect to 127.0.0.1:1: connection refused" {
		t.Errorf("got %v, reason %q; want unavailable: cannot connect to 127.0.0.1:1: connection refused", err, why)
	}
}

func TestAnUnknownRoleIsNamedOnce(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := url.Parse(pgtest.New(t, pgtest.ShapeA).URL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User("no_such_role")
	store, err := postgres.Open(ctx, u.String(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	_, err = store.Health(ctx)
	why, _ := syncs.Reason(err)
	want := "cannot connect to " + u.Host + " as no_such_role: role \"no_such_role\" does not exist"
	if why != want {
		t.Errorf("reason %q, want %q", why, want)
	}
}

// A warehouse whose times are timestamp without time zone (read as UTC) is asked with
// bounds in UTC, whatever the zone of the times syncwatch computes with: pgx sends a
// time's wall clock to such a column and drops its zone.
func TestTimesWithoutZoneAreAskedInUTC(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	db.Exec(t, "ALTER TABLE orchestration.sync_history ALTER COLUMN start_time TYPE timestamp, ALTER COLUMN end_time TYPE timestamp")
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	midnight := time.Date(2025, 10, 9, 0, 0, 0, 0, berlin) // 2025-10-08 22:00 UTC
	start := midnight.Add(30 * time.Minute)
	db.Insert(t, storetest.Row{CRMSource: "hubspot", Start: start.UTC()}) // as written in UTC
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	store, err := postgres.Open(ctx, db.URL, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	counts, err := store.StartedByCRM(ctx, midnight, midnight.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts[0].Count != 1 {
		t.Errorf("rows started in the hour after midnight in Berlin: got %+v, want hubspot 1", counts)
	}
}
