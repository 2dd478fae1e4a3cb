package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/sqlite"
)

// SimulatorConfig configures a Simulator. Zero values take the defaults.
type SimulatorConfig struct {
	// Every is how often the simulator looks at the clock (default 5 s): it starts the
	// history's runs that are due and finishes those that are done, records beat's sends,
	// and, every other look on average, starts a run of its own, as an administrator
	// pressing "sync now" would, which finishes within seconds and fails more often.
	Every time.Duration
	// Since is the time up to which Prepare wrote the history (default: the first look).
	Since time.Time
	// Clock is the time the simulator reads and waits on (default the system's).
	Clock clock.Clock
	// Seed drives the simulator's own runs (default: a random seed).
	Seed   uint64
	Logger *slog.Logger
}

// Simulator keeps the demo database moving: it writes what the sync engines and Celery
// beat would write, as the time comes. It holds a *sqlite.DB, the only database it can
// write: it can never write to the warehouse.
type Simulator struct {
	db  *sqlite.DB
	cfg SimulatorConfig
	rng *rand.Rand

	started   bool
	last      time.Time           // the previous look
	generated time.Time           // the history is queued up to this hour (exclusive)
	queue     []Row               // history rows not yet started, by start time
	sends     []trigger           // beat's sends not yet recorded, by time
	plans     map[int64]Row       // final form of the rows it will finish, by id
	orphans   map[int64]time.Time // runs a previous process left, by id: when they pass staleAfter
	schedules map[[2]string]int64 // (source, name) → schedule id
}

// NewSimulator returns a simulator writing to db.
func NewSimulator(db *sqlite.DB, cfg SimulatorConfig) *Simulator {
	if cfg.Every <= 0 {
		cfg.Every = 5 * time.Second
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.Seed == 0 {
		cfg.Seed = rand.Uint64()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Simulator{db: db, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.Seed, cfg.Seed>>1|1)),
		plans: make(map[int64]Row), orphans: make(map[int64]time.Time), schedules: make(map[[2]string]int64)}
}

// Run looks at the clock at once and then cfg.Every after each look, until ctx ends. A
// look that fails is logged and the next one tries again: a demo that cannot write for a
// moment (a seed into the same file holds the lock) must not stop.
//
// It waits on a new timer after each look rather than on a ticker, so that looks never
// queue up behind a slow one, and so that a test's fake clock has a waiter again only
// once a look is done (clock.Fake.BlockUntil is then the signal that it is).
func (s *Simulator) Run(ctx context.Context) {
	s.cfg.Logger.Info("demo simulator running", "every", s.cfg.Every, "file", s.db.Path())
	for {
		if err := s.Step(ctx, s.cfg.Clock.Now()); err != nil && ctx.Err() == nil {
			s.cfg.Logger.Warn("demo simulator", "err", err)
		}
		next := s.cfg.Clock.NewTimer(s.cfg.Every)
		select {
		case <-ctx.Done():
			next.Stop()
			return
		case <-next.C():
		}
	}
}

// Step does what is due at now: the first step takes over the running rows it finds.
func (s *Simulator) Step(ctx context.Context, now time.Time) error {
	now = now.UTC()
	if !s.started {
		if err := s.start(ctx, now); err != nil {
			return err
		}
		s.started = true
	}
	if now.Before(s.last) {
		return nil // the clock went back; wait for it
	}
	s.queueHistory(now)
	var errs []error
	errs = append(errs, s.recordSends(ctx, now), s.startDue(ctx, now))
	if s.rng.IntN(2) == 0 {
		errs = append(errs, s.startOwnRun(ctx, now))
	}
	errs = append(errs, s.finishDone(ctx, now), s.failOrphans(ctx, now), s.cleanup(ctx, now))
	s.last = now
	return errors.Join(errs...)
}

// start learns the schedules and takes over the rows left running by a previous
// process. The history's runs finish as planned: the demo's sync engines ran on while no
// demo did (its dead workers' rows, too, wait for the nightly cleanup as in the
// warehouse). The runs a previous simulator started by hand died with its process: the
// claim this one holds proves that process gone, and no worker runs them any more. They
// get what cleanup_stale_syncs gives a dead worker's row, by its rule: once a run has
// been running for over staleAfter (Celery's hard time limit, which would have killed
// it anyway) it is marked failed, end_time the moment of marking, the cleanup's suffix
// appended to its message. The warehouse's cleanup waits for 03:30; the demo marks them
// when the rule first allows, so that a restart never leaves runs running for hours.
// Any other row found running (the fill's stale row, a seed's) is a dead worker's, left
// to the nightly cleanup.
func (s *Simulator) start(ctx context.Context, now time.Time) error {
	schedules, err := s.db.Schedules(ctx)
	if err != nil {
		return fmt.Errorf("demo simulator: %w", err)
	}
	for _, sc := range schedules {
		s.schedules[[2]string{sc.CRMSource, sc.Name}] = sc.ID
	}
	running, err := s.db.RunningRuns(ctx)
	if err != nil {
		return fmt.Errorf("demo simulator: %w", err)
	}
	for _, r := range running {
		if planned, ok := plannedRow(Seed, r); ok {
			s.plans[r.ID] = planned
			continue
		}
		if startedByHand(r.Configuration) {
			s.orphans[r.ID] = r.Start.Add(staleAfter)
		}
	}
	s.last = s.cfg.Since.UTC()
	if s.last.IsZero() || s.last.After(now) {
		s.last = now
	}
	s.generated = s.last.Truncate(time.Hour).Add(-lookback)
	return nil
}

// staleAfter is how long a run may go on before cleanup_stale_syncs takes it for dead.
const staleAfter = 30 * time.Minute

// startedByHand reports whether a row's configuration is that of a run an administrator
// started ("sync now"), as the simulator's own runs are.
func startedByHand(configuration string) bool {
	var c struct {
		TriggeredBy string `json:"triggered_by"`
	}
	return json.Unmarshal([]byte(configuration), &c) == nil && c.TriggeredBy == "admin"
}

// failOrphans marks failed, at now, the runs a previous process left that have been
// running for over staleAfter.
func (s *Simulator) failOrphans(ctx context.Context, now time.Time) error {
	var due []int64
	for id, deadline := range s.orphans {
		if deadline.Before(now) {
			due = append(due, id)
		}
	}
	if len(due) == 0 {
		return nil
	}
	n, err := s.db.FailRuns(ctx, now, due, cleanupBase, cleanupSuffix)
	if err != nil {
		return fmt.Errorf("demo simulator: fail the runs a previous process left: %w", err)
	}
	for _, id := range due {
		delete(s.orphans, id)
	}
	if n > 0 {
		s.cfg.Logger.Info("demo simulator: marked failed the runs a previous process left running", "runs", n)
	}
	return nil
}

// queueHistory generates the history's hours up to now's and queues what is to come.
func (s *Simulator) queueHistory(now time.Time) {
	var triggers []trigger
	var rows []Row
	for ; !s.generated.After(now); s.generated = s.generated.Add(time.Hour) {
		triggers = triggersOf(s.generated, nil, triggers[:0])
		for _, t := range triggers {
			if t.at.After(s.last) {
				s.sends = append(s.sends, t)
			}
		}
		for _, r := range generateTriggers(Seed, triggers, rows[:0]) {
			// Prepare wrote the rows that started before s.last: the rest are to come.
			if !r.Start.Before(s.last) {
				s.queue = append(s.queue, r)
			}
		}
	}
	slices.SortStableFunc(s.queue, func(a, b Row) int { return a.Start.Compare(b.Start) })
	slices.SortStableFunc(s.sends, func(a, b trigger) int { return a.at.Compare(b.at) })
}

// recordSends sets the last run of each schedule beat has sent since the last look.
func (s *Simulator) recordSends(ctx context.Context, now time.Time) error {
	var errs []error
	for len(s.sends) > 0 && !s.sends[0].at.After(now) {
		t := s.sends[0]
		s.sends = s.sends[1:]
		if id, ok := s.schedules[[2]string{t.crm.source, t.schedule}]; ok {
			errs = append(errs, s.db.SetLastRunAt(ctx, id, t.at))
		}
	}
	return errors.Join(errs...)
}

// startDue writes the history's rows that have started by now, and plans the end of
// those still running.
func (s *Simulator) startDue(ctx context.Context, now time.Time) error {
	n := 0
	for n < len(s.queue) && s.queue[n].Start.Before(now) {
		n++
	}
	if n == 0 {
		return nil
	}
	due := s.queue[:n]
	rows := make([]sqlite.Row, n)
	for i, r := range due {
		at, _ := r.At(now)
		rows[i] = at.SQLite()
	}
	ids, err := s.db.InsertRuns(ctx, rows)
	if err != nil {
		return fmt.Errorf("demo simulator: start runs: %w", err)
	}
	for i, r := range due {
		if rows[i].End == nil {
			s.plans[ids[i]] = r
		}
	}
	s.queue = s.queue[n:]
	return nil
}

// startOwnRun starts a run of a random CRM's entity, as "sync now" would.
func (s *Simulator) startOwnRun(ctx context.Context, now time.Time) error {
	c := crms[s.rng.IntN(len(crms))]
	e := c.hourly[s.rng.IntN(len(c.hourly))]
	start := now.Truncate(time.Microsecond)
	final := s.ownRun(c, e, start, now)
	running, _ := final.At(start.Add(time.Microsecond))
	ids, err := s.db.InsertRuns(ctx, []sqlite.Row{running.SQLite()})
	if err != nil {
		return fmt.Errorf("demo simulator: start a run: %w", err)
	}
	s.plans[ids[0]] = final
	return nil
}

// ownRun plans a run started by hand: the history's model of a run of the entity, sped
// up to finish within one or two of the dashboard's refreshes, and failing more often,
// so that a viewer sees the figures move.
func (s *Simulator) ownRun(c *crm, e entity, start, now time.Time) Row {
	t := trigger{at: start, crm: c, mode: "manual", schedule: "manual"}
	row := runOf(s.rng, t, e, start, busyness(start), configuration("manual", start), 0, false)
	if s.rng.Float64() < 0.07 && row.Status != "failed" {
		k := c.sporadic[s.rng.IntN(len(c.sporadic))]
		row.Status = "failed"
		row.ErrorMessage = k.message(s.rng, c, e, start)
		row.RecordsProcessed, row.RecordsFailed = row.RecordsProcessed/3, 0
		row.RecordsCreated = row.RecordsProcessed / 10
		row.RecordsUpdated = row.RecordsProcessed - row.RecordsCreated
	}
	end := now.Add(between(s.rng, 2*time.Second, 75*time.Second)).Truncate(time.Microsecond)
	if end.Before(start) {
		end = start
	}
	row.End = &end
	row.PerformanceMetrics = metrics(s.rng, c, row)
	if s.rng.Float64() < 0.003 {
		die(&row) // now and then a worker dies here too
	}
	return row
}

// finishDone writes the final form of the runs whose end has come.
func (s *Simulator) finishDone(ctx context.Context, now time.Time) error {
	var errs []error
	for id, final := range s.plans {
		if final.End.After(now) {
			continue
		}
		r := final.SQLite()
		r.ID = id
		if err := s.db.UpdateRun(ctx, r); err != nil {
			errs = append(errs, fmt.Errorf("demo simulator: finish a run: %w", err))
			continue
		}
		delete(s.plans, id)
	}
	return errors.Join(errs...)
}

// cleanup runs the nightly cleanup when its time (03:30 UTC) came since the last look.
func (s *Simulator) cleanup(ctx context.Context, now time.Time) error {
	at := lastCleanup(now)
	if !at.After(s.last) {
		return nil
	}
	n, err := s.db.FailStale(ctx, at, at.Add(-30*time.Minute), cleanupBase, cleanupSuffix)
	if err != nil {
		return fmt.Errorf("demo simulator: cleanup: %w", err)
	}
	s.cfg.Logger.Info("demo simulator: nightly cleanup marked stale runs failed", "runs", n)
	return nil
}
