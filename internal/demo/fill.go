package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/syncwatch/syncwatch/internal/sqlite"
)

// Seed is the random seed of the demo's history: whoever runs the demo at a given hour
// sees the same runs.
const Seed = 20251009

// FillDays is how much history an empty demo database gets.
const FillDays = 30

// staleAge is how long before the fill the demo's stale row started: over the stuck
// threshold (60 minutes), and before the nightly cleanup could have marked it.
const staleAge = 2*time.Hour + 13*time.Minute

// Prepared says what Prepare did.
type Prepared struct {
	// Inserted is the number of rows written; Finished and Cleaned the number of
	// running rows finished as planned and failed as the nightly cleanup would.
	Inserted, Finished, Cleaned int64
	// Filled is true when the database was empty and got FillDays of history.
	Filled bool
	// Took is how long it all took.
	Took time.Duration
}

// Prepare makes the demo database current at now. An empty one gets FillDays of history,
// the schedules, and the quirks of real data that the history does not make on its own
// every time (a row stuck in_progress for over an hour). One that a demo wrote before is
// brought up to now as if the sync engines had kept running: the runs it left running
// are finished as planned, the nightly cleanup that passed marks the dead ones failed,
// and the history since its last row is added (at most FillDays of it).
func Prepare(ctx context.Context, db *sqlite.DB, now time.Time) (Prepared, error) {
	began := time.Now()
	now = now.UTC()
	var p Prepared
	if err := prepareSchedules(ctx, db, now); err != nil {
		return p, err
	}
	latest, found, err := db.LatestStart(ctx)
	if err != nil {
		return p, fmt.Errorf("demo: %w", err)
	}
	from := now.Add(-FillDays * 24 * time.Hour)
	if !found {
		p.Filled = true
		p.Inserted, err = insertHistory(ctx, db, NewHistory(Seed, from, now), time.Time{})
		if err != nil {
			return p, err
		}
		if _, err := db.InsertRuns(ctx, []sqlite.Row{staleRow(now)}); err != nil {
			return p, fmt.Errorf("demo: %w", err)
		}
		p.Inserted++
	} else if latest.Before(now) {
		if p.Finished, err = finishPlanned(ctx, db, now); err != nil {
			return p, err
		}
		if at := lastCleanup(now); latest.Before(at) {
			if p.Cleaned, err = db.FailStale(ctx, at, at.Add(-30*time.Minute), cleanupBase, cleanupSuffix); err != nil {
				return p, fmt.Errorf("demo: %w", err)
			}
		}
		since := latest.Truncate(time.Hour).Add(-lookback)
		if since.Before(from) {
			since = from // a gap: the demo was not running, nor were the engines
		}
		p.Inserted, err = insertHistory(ctx, db, NewHistory(Seed, since, now), latest)
		if err != nil {
			return p, err
		}
	}
	if p.Inserted > 0 {
		if err := db.Analyze(ctx); err != nil {
			return p, fmt.Errorf("demo: %w", err)
		}
	}
	p.Took = time.Since(began)
	return p, nil
}

// FillIfEmpty gives an empty database FillDays of history and the schedules, as Prepare
// does, and leaves one that has rows as it is: for an embedded database that no
// simulator keeps moving, whose rows may be someone's own.
func FillIfEmpty(ctx context.Context, db *sqlite.DB, now time.Time) (Prepared, error) {
	empty, err := db.Empty(ctx)
	if err != nil || !empty {
		return Prepared{}, wrapDemo(err)
	}
	return Prepare(ctx, db, now)
}

func wrapDemo(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("demo: %w", err)
}

// prepareSchedules writes the demo's schedules into an empty table, and otherwise moves
// the last run of each one found there up to the last time beat would have sent it.
func prepareSchedules(ctx context.Context, db *sqlite.DB, now time.Time) error {
	have, err := db.Schedules(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	want := Schedules(now)
	if len(have) == 0 {
		for _, s := range want {
			if _, err := db.InsertSchedule(ctx, s); err != nil {
				return fmt.Errorf("demo: %w", err)
			}
		}
		return nil
	}
	for _, h := range have {
		for _, w := range want {
			if h.CRMSource == w.CRMSource && h.Name == w.Name && w.Enabled && w.LastRunAt != nil &&
				(h.LastRunAt == nil || h.LastRunAt.Before(*w.LastRunAt)) {
				if err := db.SetLastRunAt(ctx, h.ID, *w.LastRunAt); err != nil {
					return fmt.Errorf("demo: %w", err)
				}
			}
		}
	}
	return nil
}

// insertHistory writes the rows of h that started after after, in batches, and returns
// how many it wrote.
func insertHistory(ctx context.Context, db *sqlite.DB, h *History, after time.Time) (int64, error) {
	const batchSize = 5000
	batch := make([]sqlite.Row, 0, batchSize)
	var n int64
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		if _, err := db.InsertRuns(ctx, batch); err != nil {
			return fmt.Errorf("demo: %w", err)
		}
		n += int64(len(batch))
		batch = batch[:0]
		return nil
	}
	for {
		r, ok := h.Next()
		if !ok {
			break
		}
		if !r.Start.After(after) {
			continue
		}
		batch = append(batch, r.SQLite())
		if len(batch) == batchSize {
			if err := flush(); err != nil {
				return n, err
			}
		}
	}
	return n, flush()
}

// finishPlanned finishes the running rows of the history whose planned end has passed,
// as the engines would have while no demo ran.
func finishPlanned(ctx context.Context, db *sqlite.DB, now time.Time) (int64, error) {
	running, err := db.RunningRuns(ctx)
	if err != nil {
		return 0, fmt.Errorf("demo: %w", err)
	}
	var n int64
	for _, r := range running {
		planned, ok := plannedRow(Seed, r)
		if !ok || planned.End.After(now) {
			continue
		}
		final := planned.SQLite()
		final.ID = r.ID
		if err := db.UpdateRun(ctx, final); err != nil {
			return n, fmt.Errorf("demo: %w", err)
		}
		n++
	}
	return n, nil
}

// plannedRow finds the history's final form of a row found running: the generated row of
// the same CRM, entity and start time.
func plannedRow(seed uint64, r sqlite.Row) (Row, bool) {
	c := crmBySource(r.CRMSource)
	if c == nil {
		return Row{}, false
	}
	var buf []Row
	for h := r.Start.Truncate(time.Hour); !h.Before(r.Start.Add(-lookback)); h = h.Add(-time.Hour) {
		buf = generateHour(seed, h, c, buf[:0])
		for _, g := range buf {
			if g.SyncType == r.SyncType && g.Start.Equal(r.Start) {
				return g, true
			}
		}
	}
	return Row{}, false
}

// lastCleanup is the last run of the nightly cleanup (03:30 UTC) at or before now.
func lastCleanup(now time.Time) time.Time {
	y, m, d := now.UTC().Date()
	at := time.Date(y, m, d, 3, 30, 0, 0, time.UTC)
	if at.After(now) {
		at = at.Add(-24 * time.Hour)
	}
	return at
}

// staleRow is a run of the newer Genius engine whose worker died over two hours before
// now: it says in_progress, and the dashboard counts it stuck until the nightly cleanup.
func staleRow(now time.Time) sqlite.Row {
	start := now.Add(-staleAge).Truncate(time.Microsecond)
	return sqlite.Row{CRMSource: "genius", SyncType: "prospect_sources", Status: "in_progress",
		Start: start, PerformanceMetrics: "{}", Configuration: configuration("delta", start)}
}

// SQLite is the row as the embedded database's writer takes it.
func (r Row) SQLite() sqlite.Row {
	var endpoint *string
	if r.Endpoint != "" {
		endpoint = &r.Endpoint
	}
	return sqlite.Row{CRMSource: r.CRMSource, SyncType: r.SyncType, Endpoint: endpoint,
		Status: r.Status, Start: r.Start, End: r.End, RecordsProcessed: r.RecordsProcessed,
		RecordsCreated: r.RecordsCreated, RecordsUpdated: r.RecordsUpdated,
		RecordsFailed: r.RecordsFailed, ErrorMessage: r.ErrorMessage,
		PerformanceMetrics: r.PerformanceMetrics, Configuration: r.Configuration, CreatedAt: r.Start}
}
