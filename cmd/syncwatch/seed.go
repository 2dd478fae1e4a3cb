package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/sqlite"
)

// seedConfig is the configuration of "syncwatch seed".
type seedConfig struct {
	rows         int64
	days         int
	end          string
	seed         uint64
	databaseURL  string
	sqlitePath   string
	appendRows   bool
	createSchema string
}

const seedUsage = `Usage: syncwatch seed [flags]

Fills orchestration.sync_history with realistic generated history, for benchmarks and
trials: the ten CRMs and their entities, hourly runs at each CRM's minute, a few percent
of failures with real message shapes. The history ends at --end and reaches back --days,
or as far as --rows takes it (about 1,350 rows a day). A table that has rows is refused
unless --append is given; an empty sync_schedule also gets the demo's schedules.

The target is a PostgreSQL database named by --database-url (never taken from
DATABASE_URL, so that the warehouse is not filled by mistake), or else the SQLite file of
--sqlite-path.

Flags:
`

func seed(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg seedConfig
	e := &env{getenv: getenv}
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.Int64Var(&cfg.rows, "rows", 0, "how many rows to write, ending at --end (e.g. 10_000_000)")
	fs.IntVar(&cfg.days, "days", 0, "how many days of history to write, ending at --end (default 30 unless --rows is given)")
	fs.StringVar(&cfg.end, "end", "", "when the history ends, RFC 3339 (default now)")
	fs.Uint64Var(&cfg.seed, "seed", 0, "random seed: the same seed and --end write the same rows (default a random one, printed)")
	fs.StringVar(&cfg.databaseURL, "database-url", "", "the PostgreSQL database to fill")
	fs.StringVar(&cfg.sqlitePath, "sqlite-path", e.str("SYNCWATCH_SQLITE_PATH", defaultSQLitePath(getenv)),
		"the SQLite file to fill when no --database-url is given (env SYNCWATCH_SQLITE_PATH)")
	fs.BoolVar(&cfg.appendRows, "append", false, "add rows to a table that already has some")
	fs.StringVar(&cfg.createSchema, "create-schema", "",
		"PostgreSQL: create the warehouse's tables when absent, in shape A (django-schema.sql) or B (Django's generated table)")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), seedUsage)
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })

	to := time.Now().UTC()
	if cfg.end != "" {
		t, err := time.Parse(time.RFC3339Nano, cfg.end)
		if err != nil {
			return fmt.Errorf("--end: %q is not an RFC 3339 time such as 2025-10-09T10:30:00Z", cfg.end)
		}
		to = t.UTC()
	}
	var history *demo.History
	switch {
	case cfg.rows < 0 || cfg.days < 0:
		return errors.New("--rows and --days must not be negative")
	case cfg.rows > 0 && cfg.days > 0:
		return errors.New("give --rows or --days, not both")
	case cfg.rows > 1_000_000_000:
		return errors.New("--rows: at most 1,000,000,000")
	case cfg.days > 100*366:
		return errors.New("--days: at most a hundred years")
	}
	if cfg.seed == 0 {
		cfg.seed = rand.Uint64N(1_000_000) + 1 // short enough to type again
	}
	if cfg.rows > 0 {
		history = demo.LastRows(cfg.seed, cfg.rows, to)
	} else {
		if cfg.days == 0 {
			cfg.days = 30
		}
		history = demo.NewHistory(cfg.seed, to.Add(-time.Duration(cfg.days)*24*time.Hour), to)
	}
	if cfg.createSchema != "" {
		if cfg.databaseURL == "" {
			return errors.New("--create-schema applies to PostgreSQL (--database-url); a SQLite file always gets its tables")
		}
		if _, err := demo.WarehouseSchema(cfg.createSchema); err != nil {
			return fmt.Errorf("--create-schema: %w", err)
		}
	}
	if cfg.databaseURL != "" && given["sqlite-path"] {
		return errors.New("give --database-url or --sqlite-path, not both")
	}

	prog := newProgress(stderr, history.Len())
	began := time.Now()
	var written int64
	var target string
	var err error
	if cfg.databaseURL != "" {
		written, target, err = seedPostgres(ctx, cfg, history, to, prog, stderr)
	} else {
		written, target, err = seedSQLite(ctx, cfg, history, to, prog)
	}
	prog.done(written)
	if err != nil {
		if written > 0 && cfg.databaseURL == "" {
			return fmt.Errorf("seed: %w (%d rows were written before)", err, written)
		}
		return fmt.Errorf("seed: %w", err)
	}
	took := time.Since(began)
	fmt.Fprintf(stdout, "wrote %s rows into %s in %s (%s rows/s); the same rows again: --seed %d --end %s\n",
		thousands(written), target, took.Round(time.Millisecond), thousands(perSecond(written, took)),
		cfg.seed, to.Format(time.RFC3339Nano))
	return nil
}

// seedColumns are the columns seed writes, in COPY's order; id and its sequence are left
// to the database, as the sync engines leave them.
var seedColumns = []string{"crm_source", "sync_type", "endpoint", "status", "start_time", "end_time",
	"records_processed", "records_created", "records_updated", "records_failed", "error_message",
	"performance_metrics", "configuration", "created_at"}

// seedPostgres writes the history through its own connection: syncwatch's store opens
// read-only sessions, and must stay unable to write.
func seedPostgres(ctx context.Context, cfg seedConfig, h *demo.History, to time.Time, prog *progress, stderr io.Writer) (int64, string, error) {
	connCfg, err := pgx.ParseConfig(cfg.databaseURL)
	if err != nil {
		// pgx's parse errors can quote the URL, password included.
		return 0, "", errors.New("--database-url is not a valid PostgreSQL URL or DSN")
	}
	connCfg.RuntimeParams["application_name"] = "syncwatch seed"
	connCfg.RuntimeParams["TimeZone"] = "UTC"
	conn, err := pgx.ConnectConfig(ctx, connCfg)
	if err != nil {
		return 0, "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	target := fmt.Sprintf("PostgreSQL database %q (orchestration.sync_history)", connCfg.Database)

	var exists bool
	if err := conn.QueryRow(ctx, `SELECT to_regclass('orchestration.sync_history') IS NOT NULL`).Scan(&exists); err != nil {
		return 0, target, fmt.Errorf("find orchestration.sync_history: %w", err)
	}
	if !exists && cfg.createSchema == "" {
		return 0, target, errors.New("orchestration.sync_history does not exist: add --create-schema A or B to create the warehouse's tables")
	}
	if exists && cfg.createSchema != "" {
		fmt.Fprintln(stderr, "seed: orchestration.sync_history exists; --create-schema leaves it as it is")
	}
	if exists {
		var hasRows bool
		if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orchestration.sync_history)`).Scan(&hasRows); err != nil {
			return 0, target, fmt.Errorf("look for rows: %w", err)
		}
		if hasRows && !cfg.appendRows {
			return 0, target, errors.New("orchestration.sync_history already has rows: add --append to add more")
		}
	}

	// One transaction: the tables when they are new, one COPY, then their indexes. An
	// interrupted seed leaves the database as it found it.
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, target, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	var indexes []string
	if !exists {
		schema, _ := demo.WarehouseSchema(cfg.createSchema)
		var tables string
		tables, indexes = splitHistoryIndexes(schema)
		if _, err := tx.Exec(ctx, tables); err != nil {
			return 0, target, fmt.Errorf("create the tables of shape %s: %w", strings.ToUpper(cfg.createSchema), err)
		}
	}
	src := &copySource{history: h, prog: prog}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"orchestration", "sync_history"}, seedColumns, src)
	if err != nil {
		return 0, target, fmt.Errorf("copy: %w", err)
	}
	// Building an index over rows already there is several times faster than keeping
	// it up to date row by row; more sort memory than the default keeps a build of ten
	// million rows in memory.
	prog.update(n)
	if len(indexes) > 0 {
		prog.note(fmt.Sprintf("building %d indexes on %s rows", len(indexes), thousands(n)))
		if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
			return 0, target, fmt.Errorf("create index: %w", err)
		}
	}
	for _, stmt := range indexes {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return 0, target, fmt.Errorf("create index: %w", err)
		}
	}
	if err := seedPostgresSchedules(ctx, tx, to); err != nil {
		return 0, target, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, target, fmt.Errorf("commit: %w", err)
	}
	// Fresh statistics, so the dashboard's first queries are planned for the rows that
	// are there, not for an empty table (autovacuum would catch up only later).
	if _, err := conn.Exec(ctx, `ANALYZE orchestration.sync_history`); err != nil {
		return n, target, fmt.Errorf("analyze: %w", err)
	}
	return n, target, nil
}

// splitHistoryIndexes separates the statements that index orchestration.sync_history
// from the rest of a schema, so that they run after the table is filled. In the schema
// files each of them is one line.
func splitHistoryIndexes(schema string) (rest string, indexes []string) {
	var b strings.Builder
	for _, line := range strings.SplitAfter(schema, "\n") {
		if strings.HasPrefix(line, "CREATE INDEX") && strings.Contains(line, " ON orchestration.sync_history ") {
			indexes = append(indexes, strings.TrimSpace(line))
			continue
		}
		b.WriteString(line)
	}
	return b.String(), indexes
}

// copySource streams the history into COPY, one row at a time.
type copySource struct {
	history *demo.History
	row     demo.Row
	n       int64
	prog    *progress
}

func (s *copySource) Next() bool {
	r, ok := s.history.Next()
	if !ok {
		return false
	}
	s.row = r
	s.n++
	if s.n%4096 == 0 {
		s.prog.update(s.n)
	}
	return true
}

func (s *copySource) Values() ([]any, error) {
	r := s.row
	var endpoint any
	if r.Endpoint != "" {
		endpoint = r.Endpoint
	}
	return []any{r.CRMSource, r.SyncType, endpoint, r.Status, r.Start, r.End,
		r.RecordsProcessed, r.RecordsCreated, r.RecordsUpdated, r.RecordsFailed, r.ErrorMessage,
		r.PerformanceMetrics, r.Configuration, r.Start}, nil
}

func (s *copySource) Err() error { return nil }

// seedPostgresSchedules gives an empty orchestration.sync_schedule the demo's schedules,
// each with a django-celery-beat periodic task holding its last run where that table
// exists, so that the dashboard shows next runs.
func seedPostgresSchedules(ctx context.Context, tx pgx.Tx, to time.Time) error {
	var hasTable, hasBeat bool
	err := tx.QueryRow(ctx, `SELECT to_regclass('orchestration.sync_schedule') IS NOT NULL,
		to_regclass('public.django_celery_beat_periodictask') IS NOT NULL`).Scan(&hasTable, &hasBeat)
	if err != nil || !hasTable {
		return wrapIf("find orchestration.sync_schedule", err)
	}
	var hasRows bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM orchestration.sync_schedule)`).Scan(&hasRows); err != nil || hasRows {
		return wrapIf("look for schedules", err)
	}
	for _, s := range demo.Schedules(to) {
		var taskID *int64
		if hasBeat {
			taskID = new(int64)
			err := tx.QueryRow(ctx, `INSERT INTO public.django_celery_beat_periodictask
					(name, task, enabled, last_run_at, total_run_count, one_off, date_changed)
				VALUES ($1, 'ingestion.tasks.run_sync', $2, $3, 0, false, $4)
				ON CONFLICT (name) DO UPDATE SET last_run_at = EXCLUDED.last_run_at
				RETURNING id`,
				s.SourceKey+":"+s.Mode+":"+s.Name, s.Enabled, s.LastRunAt, s.UpdatedAt).Scan(taskID)
			if err != nil {
				return fmt.Errorf("insert periodic task: %w", err)
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO orchestration.sync_schedule
				(name, crm_source, model_name, mode, source_key, recurrence_type, every, period,
				 minute, hour, day_of_week, day_of_month, month_of_year, start_at, end_at, enabled,
				 options, periodic_task_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, '{}', $17, $18, $18)`,
			s.Name, s.CRMSource, s.ModelName, s.Mode, s.SourceKey, s.RecurrenceType, s.Every, s.Period,
			s.Minute, s.Hour, s.DayOfWeek, s.DayOfMonth, s.MonthOfYear, s.StartAt, s.EndAt, s.Enabled,
			taskID, s.UpdatedAt)
		if err != nil {
			return fmt.Errorf("insert schedule: %w", err)
		}
	}
	return nil
}

// seedSQLite writes the history into a SQLite file, creating it (and its directory) when
// absent. It commits every batch: a transaction of millions of rows would grow the
// write-ahead log by gigabytes.
func seedSQLite(ctx context.Context, cfg seedConfig, h *demo.History, to time.Time, prog *progress) (int64, string, error) {
	if err := os.MkdirAll(filepath.Dir(cfg.sqlitePath), 0o700); err != nil {
		return 0, "", fmt.Errorf("create the directory of --sqlite-path: %w", err)
	}
	db, err := sqlite.Open(ctx, cfg.sqlitePath)
	if err != nil {
		return 0, "", err
	}
	defer db.Close()
	target := fmt.Sprintf("SQLite file %s", db.Path())
	empty, err := db.Empty(ctx)
	if err != nil {
		return 0, target, err
	}
	if !empty && !cfg.appendRows {
		return 0, target, errors.New("sync_history already has rows: add --append to add more")
	}
	// Batches of ten thousand rows, or fewer when there are few, so that the progress
	// report still has steps.
	batchSize := int(min(max(h.Len()/50, 1000), 10_000))
	batch := make([]sqlite.Row, 0, batchSize)
	var n int64
	for {
		r, ok := h.Next()
		if ok {
			batch = append(batch, r.SQLite())
		}
		if len(batch) == batchSize || (!ok && len(batch) > 0) {
			if _, err := db.InsertRuns(ctx, batch); err != nil {
				return n, target, err
			}
			n += int64(len(batch))
			batch = batch[:0]
			prog.update(n)
		}
		if !ok {
			break
		}
	}
	schedules, err := db.Schedules(ctx)
	if err != nil {
		return n, target, err
	}
	if len(schedules) == 0 {
		for _, s := range demo.Schedules(to) {
			if _, err := db.InsertSchedule(ctx, s); err != nil {
				return n, target, err
			}
		}
	}
	return n, target, db.Analyze(ctx)
}

func wrapIf(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// progress reports how far a seed has come on stderr: on a terminal, a bar redrawn in
// place with the rate and the time left; otherwise (a log, a pipe) one line per tenth.
type progress struct {
	w       io.Writer
	tty     bool
	total   int64
	began   time.Time
	drawn   time.Time
	printed int64 // the last tenth printed
}

func newProgress(w io.Writer, total int64) *progress {
	p := &progress{w: w, total: total, began: time.Now()}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.tty = true
		}
	}
	return p
}

func (p *progress) update(done int64) {
	if p.total <= 0 || done > p.total {
		return
	}
	now := time.Now()
	if p.tty {
		if now.Sub(p.drawn) >= 100*time.Millisecond {
			p.drawn = now
			fmt.Fprint(p.w, "\r"+bar(done, p.total, now.Sub(p.began), 30)+"\x1b[K")
		}
		return
	}
	if tenth := done * 10 / p.total; tenth > p.printed {
		p.printed = tenth
		fmt.Fprintf(p.w, "seed: %3d%%  %s of %s rows  %s rows/s\n", tenth*10,
			thousands(done), thousands(p.total), thousands(perSecond(done, now.Sub(p.began))))
	}
}

// note reports a step that has no rows to count.
func (p *progress) note(what string) {
	if p.tty {
		fmt.Fprint(p.w, "\r"+bar(p.total, p.total, time.Since(p.began), 30)+"\x1b[K\n")
		p.tty = false // the bar is finished; what follows is lines
	}
	fmt.Fprintf(p.w, "seed: %s\n", what)
}

// done ends the report with the final state: the bar on a terminal, the last tenth in
// a log.
func (p *progress) done(written int64) {
	switch {
	case written <= 0:
	case p.tty:
		fmt.Fprint(p.w, "\r"+bar(written, max(p.total, written), time.Since(p.began), 30)+"\x1b[K\n")
	case written*10/max(p.total, 1) > p.printed:
		p.update(written)
	}
}

// bar draws "[#####.....]  50%  5,000 / 10,000 rows  2,500 rows/s  2s left".
func bar(done, total int64, elapsed time.Duration, width int) string {
	filled := int(done * int64(width) / total)
	rate := perSecond(done, elapsed)
	left := "—"
	if rate > 0 {
		left = (time.Duration(float64(total-done)/float64(rate)) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s%s] %3d%%  %s / %s rows  %s rows/s  %s left",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), done*100/total,
		thousands(done), thousands(total), thousands(rate), left)
}

func perSecond(n int64, d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(float64(n) / d.Seconds())
}

// thousands writes n with a comma between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
