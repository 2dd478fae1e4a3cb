package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/seed"
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
trials: the nine CRMs that write rows and their entities, hourly runs at each CRM's
minute, a few percent of failures with real message shapes. The history ends at --end
and reaches back --days, or as far as --rows takes it (about 1,350 rows a day). A table
that has rows is refused unless --append is given.

An empty sync_schedule also gets the demo's schedules, one of them for MarketSharp, the
tenth CRM: as in the warehouse, it is configured but writes no rows yet, so its schedule
is disabled and it gets no history. The dashboard shows it with no runs and its
schedule's state "disabled".

The target is a PostgreSQL database named by --database-url (never taken from
DATABASE_URL, so that the warehouse is not filled by mistake), or else the SQLite file of
--sqlite-path.

--create-schema A|B creates the warehouse's tables in that PostgreSQL database when they
are absent, with sync_history in one of the two shapes it has in the wild:
  A  the hand-written migration: serial id, database defaults, and indexes on
     (crm_source, sync_type, start_time), start_time, (status, start_time) and end_time.
  B  the table Django generates: bigint identity id, no database defaults, NOT NULL jsonb
     columns, and fewer indexes: (crm_source, sync_type), start_time and status, none
     on end_time.
sync_schedule and django-celery-beat's periodic task table are the same in both.

Flags:
`

func seedCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
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
		"PostgreSQL: create the warehouse's tables when absent, sync_history in shape A (the hand-written migration) or B (Django's generated table): see above")
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
		if _, err := seed.WarehouseSchema(cfg.createSchema); err != nil {
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
	opts := seed.Options{Append: cfg.appendRows, CreateSchema: cfg.createSchema, Progress: prog.update, Note: prog.note}
	if cfg.databaseURL != "" {
		written, target, err = seed.Postgres(ctx, cfg.databaseURL, history, to, opts)
	} else {
		written, target, err = seed.SQLite(ctx, cfg.sqlitePath, history, to, opts)
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
