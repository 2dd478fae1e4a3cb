package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/sqlite"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// open opens a new database file in the test's temporary directory.
func open(t testing.TB) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// fixture writes storetest's rows through the writer API.
type fixture struct{ db *sqlite.DB }

func (f fixture) Insert(t testing.TB, rows ...storetest.Row) []int64 {
	t.Helper()
	runs := make([]sqlite.Row, len(rows))
	for i, r := range rows {
		r = r.WithDefaults()
		orEmpty := func(s *string) string {
			if s == nil {
				return "{}"
			}
			return *s
		}
		runs[i] = sqlite.Row{
			ID: r.ID, CRMSource: r.CRMSource, SyncType: r.SyncType, Status: r.Status,
			Start: r.Start, End: r.End, RecordsProcessed: r.RecordsProcessed,
			RecordsCreated: r.RecordsCreated, RecordsUpdated: r.RecordsUpdated,
			RecordsFailed: r.RecordsFailed, ErrorMessage: r.ErrorMessage, Endpoint: r.Endpoint,
			PerformanceMetrics: orEmpty(r.PerformanceMetrics), Configuration: orEmpty(r.Configuration),
			CreatedAt: storetest.Now,
		}
	}
	ids, err := f.db.InsertRuns(context.Background(), runs)
	if err != nil {
		t.Fatalf("insert: %v", err)
	}
	return ids
}

func (f fixture) InsertSchedule(t testing.TB, s syncs.Schedule) {
	t.Helper()
	if _, err := f.db.InsertSchedule(context.Background(), s); err != nil {
		t.Fatalf("insert schedule: %v", err)
	}
}

// TestContract runs the behaviour every store must show.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (syncs.Store, storetest.Fixture) {
		// The harness's caller closes the store; the file goes with the directory.
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "contract.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		return db, fixture{db}
	})
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestOpenIsIdempotentAndKeepsRows(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "again.sqlite")
	now := time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
	for i := range 3 {
		db, err := sqlite.Open(ctx(t), path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if _, err := db.InsertRuns(ctx(t), []sqlite.Row{{CRMSource: "hubspot", SyncType: "contacts", Status: "success", Start: now, End: &now}}); err != nil {
			t.Fatalf("insert %d: %v", i, err)
		}
		n, err := db.CountRuns(ctx(t))
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(i+1) {
			t.Errorf("after open %d: got %d rows, want %d", i, n, i+1)
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	raw := rawOpen(t, path)
	var version int
	if err := raw.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		t.Fatal(err)
	}
	var mode string
	if err := raw.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if version != 1 || mode != "wal" {
		t.Errorf("got user_version %d, journal_mode %q, want 1 and wal", version, mode)
	}
}

func TestOpenRefusesWhatItCannotRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	newer := filepath.Join(dir, "newer.sqlite")
	raw := rawOpen(t, newer)
	if _, err := raw.Exec("PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	notADatabase := filepath.Join(dir, "text.sqlite")
	if err := os.WriteFile(notADatabase, []byte(strings.Repeat("not a database\n", 100)), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path, want string
	}{
		{"a file from a newer syncwatch", newer, "newer syncwatch"},
		{"a directory that does not exist", filepath.Join(dir, "missing", "x.sqlite"), "unable to open"},
		{"a file that is not a database", notADatabase, "not a database"},
	}
	for _, c := range cases {
		db, err := sqlite.Open(ctx(t), c.path)
		if err == nil {
			db.Close()
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

func TestOpenAnyPath(t *testing.T) {
	t.Parallel()
	// Characters that mean something in a URI: the file must still be the one named.
	dir := filepath.Join(t.TempDir(), "my data #1 ?x=1 %20 ü")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "demo&test.sqlite")
	db, err := sqlite.Open(ctx(t), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := os.Stat(path); err != nil {
		t.Errorf("got %v, want the file at %q", err, path)
	}
	if db.Path() != path {
		t.Errorf("got path %q, want %q", db.Path(), path)
	}
}

func TestStoreConnectionsCannotWrite(t *testing.T) {
	t.Parallel()
	db := open(t)
	for _, stmt := range []string{
		`INSERT INTO sync_history (crm_source, sync_type, start_time, created_at) VALUES ('x', 'y', 0, 0)`,
		`DELETE FROM sync_history`,
		`CREATE TABLE evil (id INTEGER)`,
	} {
		err := sqlite.ExecForTest(ctx(t), db, stmt)
		if err == nil || !strings.Contains(err.Error(), "readonly") {
			t.Errorf("%s: got %v, want the read pool to refuse a write", stmt, err)
		}
	}
}

// TestMessagesAreCutAsOnPostgreSQL checks the message cut where SQLite and PostgreSQL
// could differ: characters, not bytes; invalid UTF-8; a NUL, which PostgreSQL cannot
// store and SQLite's text functions stop at.
func TestMessagesAreCutAsOnPostgreSQL(t *testing.T) {
	t.Parallel()
	db := open(t)
	long := strings.Repeat("é", syncs.MessageHead) + strings.Repeat("x", 500) + strings.Repeat("ü", syncs.MessageTail)
	cases := []struct {
		name, stored, want string
	}{
		{"short text is whole", "HTTP 429: Too Many Requests", "HTTP 429: Too Many Requests"},
		{"a long text keeps its first and last characters, not bytes",
			long, strings.Repeat("é", syncs.MessageHead) + "\n… [500 characters cut] …\n" + strings.Repeat("ü", syncs.MessageTail)},
		{"invalid UTF-8 is replaced", "bad \xff\xfe byte", "bad \uFFFD byte"},
		{"text after a NUL is kept", "before\x00after", "before\x00after"},
		{"a long text with a NUL is cut all the same",
			"\x00" + long, "\x00" + strings.Repeat("é", syncs.MessageHead-1) + "\n… [501 characters cut] …\n" + strings.Repeat("ü", syncs.MessageTail)},
	}
	start := time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
	rows := make([]sqlite.Row, len(cases))
	for i, c := range cases {
		rows[i] = sqlite.Row{CRMSource: "hubspot", SyncType: "contacts", Status: "failed",
			Start: start.Add(time.Duration(i) * time.Minute), ErrorMessage: &c.stored}
	}
	ids, err := db.InsertRuns(ctx(t), rows)
	if err != nil {
		t.Fatal(err)
	}
	runs, err := db.RecentRuns(ctx(t), syncs.RecentQuery{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for _, r := range runs {
		if r.ErrorMessage != nil {
			got[r.ID] = *r.ErrorMessage
		}
	}
	for i, c := range cases {
		if got[ids[i]] != c.want {
			t.Errorf("%s: got %q (%d bytes), want %q (%d bytes)", c.name, abbreviate(got[ids[i]]), len(got[ids[i]]), abbreviate(c.want), len(c.want))
		}
	}
}

func abbreviate(s string) string {
	if len(s) > 60 {
		return s[:30] + "…" + s[len(s)-30:]
	}
	return s
}

// handMadeStore opens a file whose sync_history was made by hand, as a user might make
// one: columns without types or constraints, filled by the inserts given.
func handMadeStore(t *testing.T, inserts ...string) *sqlite.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "handmade.sqlite")
	raw := rawOpen(t, path)
	stmts := append([]string{`CREATE TABLE sync_history (id INTEGER PRIMARY KEY, crm_source, sync_type, endpoint,
			start_time, end_time, status, records_processed, records_created, records_updated,
			records_failed, error_message, performance_metrics, configuration, created_at)`}, inserts...)
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	db, err := sqlite.Open(ctx(t), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestHandMadeTableWithNullsAndOddValues opens a file whose sync_history was made by
// hand, without types or constraints, holding NULL in every column that allows it and
// text that is not UTF-8: every question is answered, and the dashboard's figures are
// computed from the answers.
func TestHandMadeTableWithNullsAndOddValues(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 10, 9, 10, 30, 0, 0, time.UTC)
	us := func(d time.Duration) int64 { return now.Add(d).UnixMicro() }
	db := handMadeStore(t,
		fmt.Sprintf(`INSERT INTO sync_history (crm_source, sync_type, status, start_time, end_time, records_processed)
			VALUES (NULL, NULL, NULL, %d, NULL, NULL)`, us(-time.Hour)),
		fmt.Sprintf(`INSERT INTO sync_history (crm_source, sync_type, status, start_time, end_time, error_message)
			VALUES ('hub'||x'ff', 'contacts', 'failed', %d, %d, x'ff41ff')`, us(-2*time.Hour), us(-time.Hour)),
		fmt.Sprintf(`INSERT INTO sync_history (crm_source, sync_type, status, start_time, end_time, records_processed, error_message)
			VALUES ('genius', 42, 'completed', %d, %d, 7, 'Sync stopped by user')`, us(-3*time.Hour), us(-2*time.Hour)),
		fmt.Sprintf(`INSERT INTO sync_history (crm_source, sync_type, status, start_time) VALUES ('genius', 'all', 'in_progress', %d)`, us(-90*time.Minute)),
	)

	runs, err := db.RecentRuns(ctx(t), syncs.RecentQuery{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != 4 {
		t.Fatalf("got %d runs, want 4", len(runs))
	}
	for _, r := range runs {
		if r.ErrorMessage != nil && !utf8.ValidString(*r.ErrorMessage) {
			t.Errorf("run %d: got message %q, want valid UTF-8", r.ID, *r.ErrorMessage)
		}
		if r.ID == 1 && (r.RecordsProcessed != nil || r.CRMSource != "" || r.Status != "") {
			t.Errorf("run 1: got %+v, want NULLs read as unknown", r)
		}
	}
	d, err := dashboard.New(dashboard.Config{Store: db, Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	stats, err := d.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if stats.Overview.ActiveSyncs != 1 || stats.Overview.StuckSyncs != 1 || stats.Overview.CompletedToday != 1 || stats.Overview.FailedToday != 1 {
		t.Errorf("got overview %+v, want 1 active and stuck, 1 completed, 1 failed", stats.Overview)
	}
	if _, err := d.CRMStatus(ctx(t)); err != nil {
		t.Errorf("crm status: %v", err)
	}
	if _, err := d.Charts(ctx(t), 7); err != nil {
		t.Errorf("charts: %v", err)
	}
	errs, err := d.Errors(ctx(t), 7)
	if err != nil {
		t.Errorf("errors: %v", err)
	}
	if len(errs.RecentErrors) != 1 || errs.RecentErrors[0].ErrorMessage == nil || !utf8.ValidString(*errs.RecentErrors[0].ErrorMessage) {
		t.Errorf("got recent errors %+v, want the failed row with a valid message", errs.RecentErrors)
	}
}

// TestReadWhileWriting reads while another connection holds a write transaction open,
// and while the writer inserts and updates as the simulator does: in WAL mode no read
// waits for a writer, and every read sees only committed rows.
func TestReadWhileWriting(t *testing.T) {
	t.Parallel()
	db := open(t)
	start := time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
	if _, err := db.InsertRuns(ctx(t), []sqlite.Row{{CRMSource: "hubspot", SyncType: "contacts", Status: "success", Start: start, End: &start}}); err != nil {
		t.Fatal(err)
	}

	// Another process's writer, mid-transaction.
	raw := rawOpen(t, db.Path())
	tx, err := raw.BeginTx(ctx(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO sync_history (crm_source, sync_type, status, start_time, created_at) VALUES ('genius', 'all', 'running', 1, 1)`); err != nil {
		t.Fatal(err)
	}
	readCtx, cancel := context.WithTimeout(ctx(t), 2*time.Second) // well under the busy timeout
	defer cancel()
	runs, err := db.RecentRuns(readCtx, syncs.RecentQuery{Limit: 10})
	if err != nil || len(runs) != 1 {
		t.Errorf("during another writer's transaction: got %d runs, %v; want the 1 committed row", len(runs), err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}

	// The writer inserts and finishes runs while readers compute figures. Each round of
	// a reader waits for one more run written, so reads and writes interleave for the
	// whole test, whatever the machine's speed, instead of for as long as a sleep lasts.
	writeCtx, stopWriting := context.WithCancel(ctx(t))
	var mu sync.Mutex
	progress := sync.NewCond(&mu)
	written, writerDone := 0, false
	var writer, readers sync.WaitGroup
	writer.Go(func() {
		defer func() {
			mu.Lock()
			writerDone = true
			progress.Broadcast()
			mu.Unlock()
		}()
		for i := 0; writeCtx.Err() == nil; i++ {
			at := start.Add(time.Duration(i) * time.Second)
			ids, err := db.InsertRuns(writeCtx, []sqlite.Row{{CRMSource: "callrail", SyncType: "calls", Status: "running", Start: at}})
			if err != nil {
				if writeCtx.Err() == nil {
					t.Errorf("insert: %v", err)
				}
				return
			}
			end := at.Add(time.Second)
			err = db.UpdateRun(writeCtx, sqlite.Row{ID: ids[0], CRMSource: "callrail", SyncType: "calls", Status: "success", Start: at, End: &end, RecordsProcessed: 1})
			if err != nil {
				if writeCtx.Err() == nil {
					t.Errorf("update: %v", err)
				}
				return
			}
			mu.Lock()
			written++
			progress.Broadcast()
			mu.Unlock()
		}
	})
	d, err := dashboard.New(dashboard.Config{Store: db, Clock: clock.NewFake(start.Add(time.Hour))})
	if err != nil {
		t.Fatal(err)
	}
	const rounds = 20
	for range 4 {
		readers.Go(func() {
			for round := range rounds {
				mu.Lock()
				for written <= round && !writerDone {
					progress.Wait()
				}
				stopped := writerDone
				mu.Unlock()
				if stopped {
					return // the writer failed and said why
				}
				if _, err := d.Stats(ctx(t)); err != nil {
					t.Errorf("stats while writing: %v", err)
					return
				}
				runs, err := db.RecentRuns(ctx(t), syncs.RecentQuery{Limit: 50, Status: "running", CRMSource: "callrail"})
				if err != nil {
					t.Errorf("recent runs while writing: %v", err)
					return
				}
				// The writer inserts a run and finishes it before the next: a read sees
				// at most the one it has committed and not yet finished.
				if len(runs) > 1 {
					t.Errorf("got %d callrail runs running, want at most 1", len(runs))
				}
			}
		})
	}
	readers.Wait()
	stopWriting()
	writer.Wait()
	if written < rounds {
		t.Errorf("got %d runs written while reading, want at least %d", written, rounds)
	}
}

// TestSlowReadIsUnavailable: a read that does not finish before its deadline is
// interrupted and reported unavailable, so the dashboard keeps its last figures.
func TestSlowReadIsUnavailable(t *testing.T) {
	t.Parallel()
	db := open(t)
	c, cancel := context.WithTimeout(ctx(t), 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := sqlite.ExecForTest(c, db, `WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) SELECT count(*) FROM n`)
	if !errors.Is(err, syncs.ErrUnavailable) || time.Since(began) > 3*time.Second {
		t.Errorf("got %v after %v, want an error wrapping syncs.ErrUnavailable soon after the deadline", err, time.Since(began))
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	db := open(t)
	h, err := db.Health(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if h.ConnectionCount < 1 || h.ResponseTime <= 0 || h.ResponseTime > 5*time.Second {
		t.Errorf("got %+v, want at least one open connection and a positive round trip", h)
	}
}

// TestDayIndex checks the day search at, just before and just after every boundary, for
// every number of days the dashboard may ask for.
func TestDayIndex(t *testing.T) {
	t.Parallel()
	raw := rawOpen(t, filepath.Join(t.TempDir(), "days.sqlite"))
	for days := 1; days <= 91; days++ {
		n := days + 1
		bounds := make([]any, n)
		for i := range bounds {
			bounds[i] = int64(1000 + 10*i)
		}
		stmt, err := raw.Prepare(`SELECT ` + sqlite.DayIndexSQL("?1", n, 2))
		if err != nil {
			t.Fatal(err)
		}
		defer stmt.Close()
		check := func(x int64, want int) {
			var got int
			if err := stmt.QueryRow(append([]any{x}, bounds...)...).Scan(&got); err != nil {
				t.Fatalf("%d days: %v", days, err)
			}
			if got != want {
				t.Errorf("%d days, x=%d: got day %d, want %d", days, x, got, want)
			}
		}
		check(999, -1)
		for i := range days {
			check(int64(1000+10*i), i)
			check(int64(1000+10*i+9), i)
		}
		check(int64(1000+10*days), -1)
	}
}

// rawOpen opens the file with the driver alone, as another program would.
func rawOpen(t testing.TB, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

// TestInsertRunsReturnsEachRowsID writes batches of every size the writer splits, with
// and without ids named, and reads each row back by the id it was given.
func TestInsertRunsReturnsEachRowsID(t *testing.T) {
	t.Parallel()
	db := open(t)
	start := time.Date(2025, 10, 9, 0, 0, 0, 0, time.UTC)
	var all []sqlite.Row
	batch := func(n int, named func(i int) int64) []sqlite.Row {
		rows := make([]sqlite.Row, n)
		for i := range rows {
			rows[i] = sqlite.Row{ID: named(i), CRMSource: "hubspot", SyncType: "contacts", Status: "success",
				Start: start.Add(time.Duration(len(all)+i) * time.Second)}
		}
		all = append(all, rows...)
		return rows
	}
	none := func(int) int64 { return 0 }
	cases := []struct {
		name string
		rows []sqlite.Row
	}{
		{"one row", batch(1, none)},
		{"fewer rows than a statement holds", batch(63, none)},
		{"several statements and a remainder", batch(200, none)},
		{"rows that name their ids among others", batch(5, func(i int) int64 {
			if i%2 == 1 {
				return int64(10_000 + i)
			}
			return 0
		})},
	}
	byStart := map[time.Time]int64{}
	for _, c := range cases {
		ids, err := db.InsertRuns(ctx(t), c.rows)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if len(ids) != len(c.rows) {
			t.Fatalf("%s: got %d ids for %d rows", c.name, len(ids), len(c.rows))
		}
		for i, r := range c.rows {
			if r.ID != 0 && ids[i] != r.ID {
				t.Errorf("%s: row %d: got id %d, want the named %d", c.name, i, ids[i], r.ID)
			}
			byStart[r.Start] = ids[i]
		}
	}
	runs, err := db.RecentRuns(ctx(t), syncs.RecentQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(runs) != len(all) {
		t.Fatalf("got %d rows, want %d", len(runs), len(all))
	}
	for _, r := range runs {
		if byStart[r.Start] != r.ID {
			t.Errorf("row started at %v: got id %d from InsertRuns, %d in the table", r.Start, byStart[r.Start], r.ID)
		}
	}
}
