package main

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/pgtest"
)

// figures is what the fault tests read of the API.
type figures struct {
	status     int
	stale      bool
	staleSince string
	completed  int
	errorCode  string
	took       time.Duration
}

func readStats(t *testing.T, base string) figures {
	t.Helper()
	start := time.Now()
	status, body, _ := get(t, base+"api/stats/", nil)
	var r struct {
		Overview struct {
			CompletedToday int `json:"completed_today"`
		} `json:"overview"`
		Stale      bool   `json:"stale"`
		StaleSince string `json:"stale_since"`
		Error      struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("stats: %d %s: %v", status, body, err)
	}
	return figures{status, r.Stale, r.StaleSince, r.Overview.CompletedToday, r.Error.Code, time.Since(start)}
}

func databaseStatus(t *testing.T, base string) string {
	t.Helper()
	_, body, _ := get(t, base+"api/system-health/", nil)
	var h struct {
		Database struct {
			Status string `json:"status"`
		} `json:"database"`
	}
	if err := json.Unmarshal(body, &h); err != nil {
		t.Fatal(err)
	}
	return h.Database.Status
}

// eventually polls until ok holds, or fails after within.
func eventually(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", within, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func insertSuccess(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	// Every column, so it works on both table shapes.
	_, err := conn.Exec(context.Background(), `INSERT INTO orchestration.sync_history
		(crm_source, sync_type, start_time, end_time, status, records_processed, records_created,
		 records_updated, records_failed, performance_metrics, configuration, created_at)
		VALUES ('hubspot', 'contacts', now() - interval '1 minute', now(), 'success', 0, 0, 0, 0, '{}', '{}', now())`)
	if err != nil {
		t.Fatal(err)
	}
}

// TestDatabaseOutages stops, freezes, locks and restarts syncwatch's database under it,
// and checks at each step what a viewer gets. It runs alone, so that the goroutines it
// counts are its own.
func TestDatabaseOutages(t *testing.T) {
	goroutinesBefore := runtime.NumGoroutine()
	srv := pgtest.StartServer(t)
	url, writer := srv.Database(t, pgtest.ShapeA)
	insertSuccess(t, writer)

	const refresh = time.Second
	s := start(t, map[string]string{"DATABASE_URL": url}, "--addr", "127.0.0.1:0", "--refresh", "1s",
		"--health-interval", "500ms", "--health-timeout", "500ms", "--statement-timeout", "1s")

	t.Log("up: fresh figures")
	eventually(t, 5*time.Second, "fresh figures with one completed sync", func() bool {
		f := readStats(t, s.base)
		return f.status == 200 && !f.stale && f.completed == 1
	})

	t.Log("stopped: the last good figures, marked stale; the database red")
	srv.Stop(t)
	stoppedAt := time.Now()
	eventually(t, 5*time.Second, "stale figures while the database is down", func() bool {
		f := readStats(t, s.base)
		if f.took > time.Second {
			t.Errorf("a request took %v while the database was down", f.took)
		}
		return f.status == 200 && f.stale && f.staleSince != "" && f.completed == 1
	})
	eventually(t, 5*time.Second, "the database unhealthy", func() bool { return databaseStatus(t, s.base) == "unhealthy" })
	if f := readStats(t, s.base); f.staleSince != "" {
		since, err := time.Parse(time.RFC3339Nano, f.staleSince)
		if err != nil || since.Before(stoppedAt.Add(-refresh)) {
			t.Errorf("got stale_since %q, want about when the database stopped (%v)", f.staleSince, stoppedAt)
		}
	}

	t.Log("started again: fresh figures within a refresh interval or so, with the new row")
	srv.Start(t)
	insertSuccess(t, reconnect(t, url))
	eventually(t, 4*refresh+2*time.Second, "fresh figures after the database came back", func() bool {
		f := readStats(t, s.base)
		return f.status == 200 && !f.stale && f.completed == 2
	})
	eventually(t, 3*time.Second, "the database healthy again", func() bool { return databaseStatus(t, s.base) == "healthy" })

	t.Log("frozen (a hung host): answers stay immediate, figures go stale, then recover")
	srv.Freeze(t)
	eventually(t, 10*time.Second, "stale figures while the database is frozen", func() bool {
		f := readStats(t, s.base)
		if f.took > time.Second {
			t.Errorf("a request took %v while the database was frozen", f.took)
		}
		return f.status == 200 && f.stale
	})
	eventually(t, 5*time.Second, "the frozen database unhealthy", func() bool { return databaseStatus(t, s.base) == "unhealthy" })
	srv.Thaw(t)
	eventually(t, 10*time.Second, "fresh figures after the thaw", func() bool {
		f := readStats(t, s.base)
		return f.status == 200 && !f.stale
	})

	t.Log("locked by a migration: reads give up instead of queueing, then recover")
	locker := reconnect(t, url)
	tx, err := locker.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), `LOCK TABLE orchestration.sync_history IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "stale figures while the table is locked", func() bool {
		f := readStats(t, s.base)
		return f.status == 200 && f.stale
	})
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "fresh figures after the lock", func() bool {
		f := readStats(t, s.base)
		return f.status == 200 && !f.stale && f.completed == 2
	})

	t.Log("no connection leaks: at most the pool's four connections")
	var conns int
	if err := locker.QueryRow(context.Background(),
		`SELECT count(*) FROM pg_stat_activity WHERE application_name = 'syncwatch'`).Scan(&conns); err != nil {
		t.Fatal(err)
	}
	if conns > 4 {
		t.Errorf("got %d connections from syncwatch, want at most the pool's 4", conns)
	}

	t.Log("shut down: no goroutine left behind")
	s.cancel()
	if err := <-s.done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
	s.done <- nil
	eventually(t, 5*time.Second, fmt.Sprintf("goroutines back to about %d", goroutinesBefore), func() bool {
		return runtime.NumGoroutine() <= goroutinesBefore+3
	})
}

// TestDatabaseDownAtStart starts syncwatch before its database: it serves, says what it
// cannot reach, and keeps trying.
func TestDatabaseDownAtStart(t *testing.T) {
	srv := pgtest.StartServer(t)
	url, writer := srv.Database(t, pgtest.ShapeB)
	insertSuccess(t, writer)
	srv.Stop(t)

	s := start(t, map[string]string{"DATABASE_URL": url}, "--addr", "127.0.0.1:0", "--refresh", "1s",
		"--health-interval", "500ms", "--health-timeout", "500ms", "--statement-timeout", "1s")
	f := readStats(t, s.base)
	if f.status != 503 || f.errorCode != "unavailable" || f.took > 3*time.Second {
		t.Errorf("got %+v, want a quick 503 unavailable: no figures exist yet", f)
	}
	if status, body, _ := get(t, s.root+"/readyz", nil); status != 503 {
		t.Errorf("readyz: got %d %s, want 503", status, body)
	}
	if status, _, _ := get(t, s.root+"/healthz", nil); status != 200 {
		t.Errorf("healthz: got %d, want 200: the process is alive", status)
	}
	eventually(t, 5*time.Second, "the database reported unhealthy", func() bool { return databaseStatus(t, s.base) == "unhealthy" })
	if !strings.Contains(s.stderr.String(), "database") {
		t.Errorf("the log does not say the database cannot be reached:\n%s", s.stderr)
	}

	srv.Start(t)
	eventually(t, 10*time.Second, "figures once the database is up", func() bool {
		f := readStats(t, s.base)
		return f.status == 200 && !f.stale && f.completed == 1
	})
	// readyz follows the health monitor's database check, which runs on its own interval:
	// it may pass a moment after the figures do.
	eventually(t, 5*time.Second, "readyz 200 once the database is up", func() bool {
		status, _, _ := get(t, s.root+"/readyz", nil)
		return status == 200
	})
}

func reconnect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}
