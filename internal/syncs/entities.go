package syncs

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// MaxRecentSuccesses is the most success or partial rows of one entity that Entities
// returns: alerts compare the latest few (three by default) with what came before.
const MaxRecentSuccesses = 10

// EntityQuery says which entities Entities reports, and how much of each.
type EntityQuery struct {
	// Since: an entity is reported when it has a row whose start_time >= Since (the
	// dashboard passes now − 30 days). Every figure of Entity is over rows started at or
	// after Since; older rows are not read.
	Since time.Time
	// Successes is how many of each entity's latest success or partial rows to return,
	// from 0 to MaxRecentSuccesses.
	Successes int
}

// Check reports a query a store must refuse.
func (q EntityQuery) Check() error {
	if q.Successes < 0 || q.Successes > MaxRecentSuccesses {
		return fmt.Errorf("entities: successes is %d, want 0 to %d", q.Successes, MaxRecentSuccesses)
	}
	if q.Since.IsZero() {
		return fmt.Errorf("entities: since is not set")
	}
	return nil
}

// CheckLimit reports a limit a store must refuse: a negative one. (PostgreSQL refuses it
// and SQLite reads it as "no limit"; both stores refuse it before asking.)
func CheckLimit(what string, limit int) error {
	if limit < 0 {
		return fmt.Errorf("%s: limit is %d, want 0 or more", what, limit)
	}
	return nil
}

// Entity is what one refresh knows about one entity: one (crm_source, sync_type) pair,
// over its rows started since EntityQuery.Since. Rows are ordered by (start_time, id),
// "latest" being the greatest; statuses are canonical (aliases resolved).
type Entity struct {
	CRMSource, SyncType string
	// Latest is the row with the greatest start_time (ties: greatest id); its message is
	// not read.
	Latest Run
	// LastFinished is the latest row that is not running (whatever its other status);
	// its ErrorMessage is read, cut as CutMessage cuts it, when it failed, else nil. nil
	// when every row is running.
	LastFinished *Run
	// LastTimed is the latest row that is not running and whose duration is known
	// (end_time not NULL and end_time >= start_time; see Run.Duration); its message is
	// not read. nil when there is none.
	LastTimed *Run
	// LastSuccess is the greatest finished_at (end_time, else start_time) among the
	// success and partial rows; nil when there is none. The row that finished last need
	// not be the one that started last: the nightly cleanup ends old rows late.
	LastSuccess *time.Time
	// ConsecutiveFailures counts the failed rows that come after the latest success or
	// partial row, or every failed row when there is none. Rows of other statuses
	// (running, skipped, unknown words) neither count nor break the streak.
	ConsecutiveFailures int64
	// RecentSuccesses are the latest EntityQuery.Successes success or partial rows, newest
	// first; messages not read.
	RecentSuccesses []Run
	// FirstStart is the least start_time of the entity's rows (at or after
	// EntityQuery.Since): how long it has been running in the window, which sync_stale
	// needs for a CRM that has not succeeded in it.
	FirstStart time.Time
}

// EntityRow is one row a store reads for Entities: a run and the parts it plays in its
// entity. A store reads only the rows that play a part, and hands them to GatherEntities,
// so that both stores build their answers alike.
type EntityRow struct {
	// Run is the row. Its ErrorMessage, if read, is kept for LastFinished only.
	Run Run
	// Latest, LastFinished and LastTimed say whether the row is the entity's Latest,
	// LastFinished or LastTimed.
	Latest, LastFinished, LastTimed bool
	// SuccessRank is the row's place among the entity's RecentSuccesses (1 the newest),
	// 0 when it is not one of them.
	SuccessRank int
	// ConsecutiveFailures, LastSuccess and FirstStart are the entity's, the same on each
	// of its rows.
	ConsecutiveFailures int64
	LastSuccess         *time.Time
	FirstStart          time.Time
}

// GatherEntities joins the rows a store read into entities, ordered by crm_source, then
// sync_type, byte by byte: the same order whatever the database's collation. It fails on
// rows that contradict each other (a rank out of range or given twice, an entity without
// its latest row): a store's bug, better reported than shown.
func GatherEntities(rows []EntityRow, successes int) ([]Entity, error) {
	type key struct{ source, syncType string }
	type gathered struct {
		e         Entity
		hasLatest bool
		ranks     []bool
	}
	byKey := map[key]*gathered{}
	var order []*gathered
	for _, r := range rows {
		k := key{r.Run.CRMSource, r.Run.SyncType}
		g := byKey[k]
		if g == nil {
			g = &gathered{e: Entity{CRMSource: k.source, SyncType: k.syncType,
				ConsecutiveFailures: r.ConsecutiveFailures, LastSuccess: r.LastSuccess, FirstStart: r.FirstStart},
				ranks: make([]bool, successes)}
			if successes > 0 {
				g.e.RecentSuccesses = make([]Run, successes)
			}
			byKey[k] = g
			order = append(order, g)
		}
		run := r.Run
		message := run.ErrorMessage
		run.ErrorMessage = nil
		if r.Latest {
			g.e.Latest, g.hasLatest = run, true
		}
		if r.LastTimed {
			g.e.LastTimed = ptrTo(run)
		}
		if r.LastFinished {
			finished := run
			finished.ErrorMessage = message
			g.e.LastFinished = &finished
		}
		if r.SuccessRank != 0 {
			i := r.SuccessRank - 1
			if i < 0 || i >= successes || g.ranks[i] {
				return nil, fmt.Errorf("entities: %s %s: success rank %d repeated or out of 1 to %d",
					k.source, k.syncType, r.SuccessRank, successes)
			}
			g.e.RecentSuccesses[i], g.ranks[i] = run, true
		}
	}
	out := make([]Entity, 0, len(order))
	for _, g := range order {
		if !g.hasLatest {
			return nil, fmt.Errorf("entities: %s %s: no latest row", g.e.CRMSource, g.e.SyncType)
		}
		// The ranks read are the first n: an entity has fewer successes than asked for
		// only when it has no more.
		n := 0
		for n < len(g.ranks) && g.ranks[n] {
			n++
		}
		for _, seen := range g.ranks[n:] {
			if seen {
				return nil, fmt.Errorf("entities: %s %s: success rank %d missing", g.e.CRMSource, g.e.SyncType, n+1)
			}
		}
		g.e.RecentSuccesses = g.e.RecentSuccesses[:n:n]
		if n == 0 {
			g.e.RecentSuccesses = nil
		}
		out = append(out, g.e)
	}
	slices.SortFunc(out, func(a, b Entity) int {
		return cmp.Or(strings.Compare(a.CRMSource, b.CRMSource), strings.Compare(a.SyncType, b.SyncType))
	})
	return out, nil
}

func ptrTo[T any](v T) *T { return &v }
