package main

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/sqlite"
)

// seedEnd is where the tests' histories end.
const seedEnd = "2025-10-09T10:30:00Z"

// runSeed runs "syncwatch seed" with args, as main would, and returns its output.
func runSeed(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	// A guard against a hang, not a measure: under -race on a busy machine, a seed of
	// 25,000 rows into SQLite has taken over two minutes.
	ctx, cancel := context.WithTimeout(context.Background(), demoTestTimeout)
	defer cancel()
	err = run(ctx, append([]string{"seed"}, args...), func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), errOut.String(), err
}

func pgCount(t *testing.T, db *pgtest.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.Conn().QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// TestSeedPostgres fills both table shapes: the exact number of rows asked for, the
// demo's schedules with beat's last runs, a refusal to add to rows without --append.
func TestSeedPostgres(t *testing.T) {
	t.Parallel()
	for _, shape := range pgtest.Shapes {
		t.Run("shape "+string(shape), func(t *testing.T) {
			t.Parallel()
			db := pgtest.New(t, shape)
			out, errOut, err := runSeed(t, nil, "--database-url", db.URL, "--rows", "5000", "--seed", "3", "--end", seedEnd)
			if err != nil {
				t.Fatalf("seed: %v\n%s", err, errOut)
			}
			if !strings.Contains(out, "wrote 5,000 rows") || !strings.Contains(out, "--seed 3 --end 2025-10-09T10:30:00Z") {
				t.Errorf("got output %q, want the rows written and how to write them again", out)
			}
			if n := pgCount(t, db, `SELECT count(*) FROM orchestration.sync_history`); n != 5000 {
				t.Errorf("got %d rows, want 5000", n)
			}
			if n := pgCount(t, db, `SELECT count(*) FROM orchestration.sync_schedule s
					JOIN public.django_celery_beat_periodictask b ON b.id = s.periodic_task_id
					WHERE s.enabled AND b.last_run_at IS NOT NULL`); n < 10 {
				t.Errorf("got %d enabled schedules with a last run, want the demo's", n)
			}
			if n := pgCount(t, db, `SELECT count(*) FROM orchestration.sync_history WHERE start_time >= '`+seedEnd+`'`); n != 0 {
				t.Errorf("got %d rows starting at or after the end, want none", n)
			}

			_, _, err = runSeed(t, nil, "--database-url", db.URL, "--rows", "10")
			if err == nil || !strings.Contains(err.Error(), "--append") {
				t.Errorf("into a table with rows: got %v, want a refusal naming --append", err)
			}
			if _, errOut, err := runSeed(t, nil, "--database-url", db.URL, "--rows", "10", "--append"); err != nil {
				t.Fatalf("--append: %v\n%s", err, errOut)
			}
			if n := pgCount(t, db, `SELECT count(*) FROM orchestration.sync_history`); n != 5010 {
				t.Errorf("after --append: got %d rows, want 5010", n)
			}
		})
	}
}

// TestSeedCreatesTheSchema seeds an empty database with --create-schema: the tables of
// the shape asked for, with their indexes, built after the rows went in.
func TestSeedCreatesTheSchema(t *testing.T) {
	t.Parallel()
	cases := []struct {
		shape     string
		idType    string
		indexes   int64
		typeWidth int64
	}{
		{"A", "integer", 4, 50},
		{"b", "bigint", 3, 100},
	}
	for _, c := range cases {
		t.Run("shape "+c.shape, func(t *testing.T) {
			t.Parallel()
			db := pgtest.NewEmpty(t)
			if _, errOut, err := runSeed(t, nil, "--database-url", db.URL, "--create-schema", c.shape, "--days", "2", "--seed", "9", "--end", seedEnd); err != nil {
				t.Fatalf("seed: %v\n%s", err, errOut)
			}
			want := demo.NewHistory(9, mustTime(t, seedEnd).Add(-48*time.Hour), mustTime(t, seedEnd)).Len()
			if n := pgCount(t, db, `SELECT count(*) FROM orchestration.sync_history`); n != want {
				t.Errorf("got %d rows, want the %d of two days", n, want)
			}
			var idType string
			var width int64
			err := db.Conn().QueryRow(context.Background(), `SELECT
					(SELECT data_type FROM information_schema.columns WHERE table_schema = 'orchestration' AND table_name = 'sync_history' AND column_name = 'id'),
					(SELECT character_maximum_length FROM information_schema.columns WHERE table_schema = 'orchestration' AND table_name = 'sync_history' AND column_name = 'sync_type')`).
				Scan(&idType, &width)
			if err != nil {
				t.Fatal(err)
			}
			indexes := pgCount(t, db, `SELECT count(*) FROM pg_indexes WHERE schemaname = 'orchestration' AND tablename = 'sync_history' AND indexname <> 'sync_history_pkey'`)
			if idType != c.idType || width != c.typeWidth || indexes != c.indexes {
				t.Errorf("got id %s, sync_type varchar(%d), %d indexes; want %s, varchar(%d), %d", idType, width, indexes, c.idType, c.typeWidth, c.indexes)
			}
		})
	}
	t.Run("without --create-schema", func(t *testing.T) {
		t.Parallel()
		db := pgtest.NewEmpty(t)
		_, _, err := runSeed(t, nil, "--database-url", db.URL, "--rows", "10")
		if err == nil || !strings.Contains(err.Error(), "--create-schema") {
			t.Errorf("got %v, want an error saying how to create the tables", err)
		}
		if n := pgCount(t, db, `SELECT count(*) FROM pg_tables WHERE schemaname = 'orchestration'`); n != 0 {
			t.Errorf("got %d tables, want none created", n)
		}
	})
}

// TestSeedSQLite fills a SQLite file named by the environment, in a directory that does
// not exist yet.
func TestSeedSQLite(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "new", "dir", "seed.sqlite")
	env := map[string]string{"SYNCWATCH_SQLITE_PATH": path}
	out, errOut, err := runSeed(t, env, "--rows", "25000", "--seed", "4", "--end", seedEnd)
	if err != nil {
		t.Fatalf("seed: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "SQLite file "+path) {
		t.Errorf("got output %q, want it to name the file", out)
	}
	// Not a terminal: a line per tenth, the last at 100%.
	lines := strings.Split(strings.TrimSpace(errOut), "\n")
	if len(lines) != 10 || !strings.HasPrefix(lines[9], "seed: 100%  25,000 of 25,000 rows") {
		t.Errorf("got progress %q, want ten lines ending at 100%%", errOut)
	}
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n, err := db.CountRuns(context.Background()); err != nil || n != 25000 {
		t.Errorf("got %d rows (%v), want 25000", n, err)
	}
	if s, err := db.Schedules(context.Background()); err != nil || len(s) == 0 {
		t.Errorf("got %d schedules (%v), want the demo's", len(s), err)
	}
	_, _, err = runSeed(t, env, "--rows", "10")
	if err == nil || !strings.Contains(err.Error(), "--append") {
		t.Errorf("into a file with rows: got %v, want a refusal naming --append", err)
	}
	if _, errOut, err := runSeed(t, env, "--rows", "10", "--append", "--sqlite-path", path); err != nil {
		t.Fatalf("--append: %v\n%s", err, errOut)
	}
	if n, err := db.CountRuns(context.Background()); err != nil || n != 25010 {
		t.Errorf("after --append: got %d rows (%v), want 25010", n, err)
	}
}

// TestSeedIsDeterministic: the same seed and end write the same rows, into PostgreSQL
// and SQLite alike; another seed writes others.
func TestSeedIsDeterministic(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	seedFile := func(name, seed string) []string {
		path := filepath.Join(dir, name)
		if _, errOut, err := runSeed(t, nil, "--sqlite-path", path, "--rows", "3000", "--seed", seed, "--end", seedEnd); err != nil {
			t.Fatalf("seed: %v\n%s", err, errOut)
		}
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		return rowsOf(t, func(q string) ([][]any, error) {
			rs, err := raw.Query(q)
			if err != nil {
				return nil, err
			}
			defer rs.Close()
			var out [][]any
			for rs.Next() {
				var source, syncType, status string
				var start, processed int64
				var msg sql.NullString
				if err := rs.Scan(&source, &syncType, &status, &start, &processed, &msg); err != nil {
					return nil, err
				}
				out = append(out, []any{source, syncType, status, time.UnixMicro(start).UTC(), processed, msg.String})
			}
			return out, rs.Err()
		})
	}
	a, b, c := seedFile("a.sqlite", "11"), seedFile("b.sqlite", "11"), seedFile("c.sqlite", "12")
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, two files: rows differ (-a +b):\n%s", diff)
	}
	if cmp.Equal(a, c) {
		t.Error("seeds 11 and 12: got the same rows, want different ones")
	}

	db := pgtest.New(t, pgtest.ShapeA)
	if _, errOut, err := runSeed(t, nil, "--database-url", db.URL, "--rows", "3000", "--seed", "11", "--end", seedEnd); err != nil {
		t.Fatalf("seed: %v\n%s", err, errOut)
	}
	pg := rowsOf(t, func(q string) ([][]any, error) {
		q = strings.ReplaceAll(q, "FROM sync_history", "FROM orchestration.sync_history")
		rs, err := db.Conn().Query(context.Background(), q)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rs, func(row pgx.CollectableRow) ([]any, error) {
			var source, syncType, status string
			var start time.Time
			var processed int64
			var msg *string
			err := row.Scan(&source, &syncType, &status, &start, &processed, &msg)
			m := ""
			if msg != nil {
				m = *msg
			}
			return []any{source, syncType, status, start.UTC(), processed, m}, err
		})
	})
	if diff := cmp.Diff(a, pg); diff != "" {
		t.Errorf("same seed, SQLite and PostgreSQL: rows differ (-sqlite +postgres):\n%s", diff)
	}
}

func rowsOf(t *testing.T, query func(string) ([][]any, error)) []string {
	t.Helper()
	rows, err := query(`SELECT crm_source, sync_type, status, start_time, records_processed, error_message FROM sync_history ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprint(r...)
	}
	return out
}

func TestSeedRefusesBadFlags(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.sqlite")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"rows and days", []string{"--rows", "5", "--days", "1"}, "not both"},
		{"negative rows", []string{"--rows", "-5"}, "negative"},
		{"a bad end", []string{"--end", "yesterday"}, "RFC 3339"},
		{"an unknown shape", []string{"--database-url", "postgres://x@127.0.0.1:1/x", "--create-schema", "C"}, "unknown table shape"},
		{"a shape for SQLite", []string{"--create-schema", "A"}, "PostgreSQL"},
		{"two targets", []string{"--database-url", "postgres://x@127.0.0.1:1/x", "--sqlite-path", path}, "not both"},
		{"a bad URL, without its password", []string{"--database-url", "postgres://u:s3cret@host:notaport/db"}, "not a valid PostgreSQL URL"},
	}
	// Should a case get through, it writes here, not into the user's data directory.
	env := map[string]string{"SYNCWATCH_SQLITE_PATH": path}
	for _, c := range cases {
		_, _, err := runSeed(t, env, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.want)
		}
	}
}

func TestProgressBar(t *testing.T) {
	t.Parallel()
	cases := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 1000, 0, "[..........]   0%  0 / 1,000 rows  0 rows/s  — left"},
		{250_000, 1_000_000, 2 * time.Second, "[##........]  25%  250,000 / 1,000,000 rows  125,000 rows/s  6s left"},
		{10_000_000, 10_000_000, 100 * time.Second, "[##########] 100%  10,000,000 / 10,000,000 rows  100,000 rows/s  0s left"},
	}
	for _, c := range cases {
		if got := bar(c.done, c.total, c.elapsed, 10); got != c.want {
			t.Errorf("bar(%d, %d, %v): got %q, want %q", c.done, c.total, c.elapsed, got, c.want)
		}
	}
}

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestSeedHelpExplainsItself: "seed -h" says what --create-schema's shapes are and what
// becomes of MarketSharp, without another document.
func TestSeedHelpExplainsItself(t *testing.T) {
	t.Parallel()
	_, help, _ := runSeed(t, nil, "-h")
	var missing []string
	for _, want := range []string{
		"A  the hand-written migration: serial id", "and end_time.",
		"B  the table Django generates: bigint identity id", "NOT NULL jsonb", "none\n     on end_time",
		"the nine CRMs that write rows", "MarketSharp", `state "disabled"`,
	} {
		if !strings.Contains(help, want) {
			missing = append(missing, want)
		}
	}
	if len(missing) > 0 {
		t.Errorf("seed -h lacks %q:\n%s", missing, help)
	}
	if strings.Contains(help, "the ten CRMs") {
		t.Errorf("seed -h still promises rows for the ten CRMs:\n%s", help)
	}
}
