package dashboard

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The history (api/history/ and api/history.csv): every row, newest first, filtered, a
// page at a time with a cursor (keyset pagination: a page continues strictly after the
// (start_time, id) of the last row of the one before, so rows written meanwhile are
// neither repeated nor skipped, and the thousandth page reads what the first does).
//
// A page is searched from its cursor backwards in slices of start_time that double in
// width (a day, two, four, …), each slice one statement limited to the rows still
// wanted. However sparse the filters, every statement reads at most its slice's rows,
// and on shape A the indexes make it read only what it returns. Filters that no index
// serves (the text of the message, its error type, a minimum duration) search at most
// searchSpan of start_time per page unless a time range is given; and a page that runs
// out of its time budget stops.
// Either way the page says how far back it searched, and its cursor searches on: an
// answer, never a failure.

const (
	// MaxHistoryLimit and DefaultHistoryLimit bound a history page.
	MaxHistoryLimit     = 200
	DefaultHistoryLimit = 50
	// MaxExportRows and DefaultExportRows bound a CSV export.
	MaxExportRows     = 100_000
	DefaultExportRows = 100_000
	// MaxSearchText bounds the text searched for in messages, in characters.
	MaxSearchText = 200

	// firstSlice is the width of a page's first slice of start_time.
	firstSlice = 24 * time.Hour
	// searchSpan is how much start_time one page searches with a filter no index serves.
	searchSpan = 90 * 24 * time.Hour
	// candidateBatch is how many rows one statement returns for filters checked here.
	candidateBatch = 500
	// exportBatch is how many rows an export reads per turn.
	exportBatch = 1000
	// maxExports bounds the CSV exports running at once.
	maxExports = 2
)

// HistoryQuery is the parameters of api/history/ and api/history.csv, already validated.
// Empty fields do not filter.
type HistoryQuery struct {
	// CRMSources: the row's crm_source is one of them.
	CRMSources []string
	SyncType   string
	// Statuses are canonical: success also matches completed, running in_progress.
	Statuses []string
	// ErrorType keeps the failed rows whose message classifies as it.
	ErrorType string
	// From and To bound start_time to [From, To).
	From, To time.Time
	// MinDurationSeconds keeps the rows whose duration is known and above it.
	MinDurationSeconds *int64
	// Text keeps the rows whose shown (masked) message contains it, ignoring the case of
	// ASCII letters.
	Text string
	// Cursor continues after the row it names.
	Cursor *syncs.Position
	// Limit is the rows of a page (1 to MaxHistoryLimit), or of an export (1 to
	// MaxExportRows).
	Limit int
}

// normalized sorts and de-duplicates the lists, so that equal filters share a key.
func (q HistoryQuery) normalized() HistoryQuery {
	q.CRMSources = slices.Compact(slices.Sorted(slices.Values(q.CRMSources)))
	q.Statuses = slices.Compact(slices.Sorted(slices.Values(q.Statuses)))
	return q
}

func (q HistoryQuery) key() string {
	var b strings.Builder
	b.WriteString("history")
	for _, s := range q.CRMSources {
		b.WriteString("/c" + strconv.Quote(s))
	}
	for _, s := range q.Statuses {
		b.WriteString("/s" + strconv.Quote(s))
	}
	fmt.Fprintf(&b, "/t%q/e%q/q%q/l%d", q.SyncType, q.ErrorType, q.Text, q.Limit)
	if !q.From.IsZero() {
		b.WriteString("/f" + strconv.FormatInt(q.From.UnixMicro(), 10))
	}
	if !q.To.IsZero() {
		b.WriteString("/u" + strconv.FormatInt(q.To.UnixMicro(), 10))
	}
	if q.MinDurationSeconds != nil {
		b.WriteString("/d" + strconv.FormatInt(*q.MinDurationSeconds, 10))
	}
	if q.Cursor != nil {
		b.WriteString("/k" + FormatCursor(*q.Cursor))
	}
	return b.String()
}

// slowFilters reports whether q has a filter no index serves: without a From of its own,
// its pages search at most searchSpan each.
func (q HistoryQuery) slowFilters() bool {
	return q.Text != "" || q.ErrorType != "" || q.MinDurationSeconds != nil
}

// FormatCursor writes a position as a cursor: microseconds since the epoch, '_', id.
func FormatCursor(p syncs.Position) string {
	return strconv.FormatInt(p.Start.UnixMicro(), 10) + "_" + strconv.FormatInt(p.ID, 10)
}

// ParseCursor reads a cursor written by FormatCursor.
func ParseCursor(s string) (syncs.Position, error) {
	t, id, ok := strings.Cut(s, "_")
	if !ok {
		return syncs.Position{}, errors.New("cursor: no '_'")
	}
	us, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		return syncs.Position{}, fmt.Errorf("cursor: time: %w", err)
	}
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return syncs.Position{}, fmt.Errorf("cursor: id: %w", err)
	}
	// A cursor edited by hand may hold any number: outside the years every store and
	// driver can represent, PostgreSQL fails and pgx wraps around, so it is refused.
	start := time.UnixMicro(us).UTC()
	if start.Year() < 1 || start.Year() > 9998 {
		return syncs.Position{}, fmt.Errorf("cursor: time %d is outside the years 1 to 9998", us)
	}
	return syncs.Position{Start: start, ID: n}, nil
}

// History answers GET api/history/.
func (d *Dashboard) History(ctx context.Context, q HistoryQuery) (HistoryResponse, error) {
	q = q.normalized()
	v, meta, err := d.cache.get(ctx, q.key(), true, func(ctx context.Context) (any, time.Time, error) {
		r, err := d.historyPage(ctx, q)
		return r, r.Timestamp, err
	})
	if err != nil {
		return HistoryResponse{}, err
	}
	r := v.(HistoryResponse)
	r.Meta = meta
	return r, nil
}

// HistoryJSON is the JSON of History.
func (d *Dashboard) HistoryJSON(ctx context.Context, q HistoryQuery) ([]byte, error) {
	q = q.normalized()
	a, err := d.History(ctx, q)
	return d.answers.encode(q.key(), a.Meta, a, err)
}

func (d *Dashboard) historyPage(ctx context.Context, q HistoryQuery) (HistoryResponse, error) {
	now := d.now().UTC()
	r := HistoryResponse{Limit: q.Limit, Runs: []SyncRun{}, Meta: Meta{Timestamp: now}}
	found, err := d.searchHistory(ctx, q, q.Limit+1)
	if err != nil {
		return r, err
	}
	runs := found.runs
	switch {
	case len(runs) > q.Limit:
		runs = runs[:q.Limit]
		last := runs[len(runs)-1]
		r.NextCursor = ptr(FormatCursor(syncs.Position{Start: last.Start, ID: last.ID}))
	case !found.complete:
		r.NextCursor = ptr(FormatCursor(found.pos))
		r.SearchedBackTo = utc(&found.pos.Start)
		r.Note = ptr(found.note())
	}
	stuckBefore := now.Add(-d.cfg.StuckAfter)
	for _, run := range runs {
		r.Runs = append(r.Runs, syncRun(run, stuckBefore))
	}
	return r, nil
}

// searched is what a search found: the matching rows, newest first, and how far it got.
type searched struct {
	runs []syncs.Run
	// pos: every row strictly after pos (and before the start) was examined.
	pos syncs.Position
	// complete: every row before the start was examined (or enough were found).
	complete bool
	// capped: it stopped at searchSpan; tooSlow: it ran out of time.
	capped, tooSlow bool
	// width is the width of the last slice searched: how sparse the rows were, for a
	// search that goes on (the export's next batch) to start from.
	width time.Duration
}

// note says why a search stopped early, and what to do.
func (s searched) note() string {
	at := s.pos.Start.UTC().Format(time.RFC3339)
	if s.tooSlow {
		return "the search took longer than allowed and stopped at runs started " + at +
			"; narrow the filters or the time range, or ask for the next page to search further"
	}
	return "searched " + strconv.Itoa(int(searchSpan/(24*time.Hour))) + " days of runs, back to " + at +
		"; narrow the time range to search further, or ask for the next page"
}

// searchHistory finds up to want rows matching q, newest first, from q.Cursor backwards,
// slice by slice (see the top of this file).
func (d *Dashboard) searchHistory(ctx context.Context, q HistoryQuery, want int) (searched, error) {
	return d.searchHistoryFrom(ctx, q, want, firstSlice)
}

// searchHistoryFrom is searchHistory with the width of the first slice given.
func (d *Dashboard) searchHistoryFrom(ctx context.Context, q HistoryQuery, want int, width time.Duration) (s searched, _ error) {
	base := syncs.HistoryQuery{CRMSources: q.CRMSources, SyncType: q.SyncType}
	for _, st := range q.Statuses {
		base.RawStatuses = append(base.RawStatuses, syncs.RawStatuses(st)...)
	}
	if q.ErrorType != "" {
		// Only failed rows have an error type.
		if len(q.Statuses) > 0 && !slices.Contains(q.Statuses, syncs.StatusFailed) {
			s.complete = true
			return s, nil
		}
		base.RawStatuses = syncs.RawStatuses(syncs.StatusFailed)
	}
	if q.MinDurationSeconds != nil {
		// "Above N seconds": longer than N s, to the microsecond.
		base.MinDuration = ptr(time.Duration(*q.MinDurationSeconds) * time.Second)
	}
	if q.Text != "" {
		// The stored text is searched for the parts of the text between its stars: a star
		// in the shown text stands for a masked secret, which the stored text holds in
		// its place. Every row found is checked against the shown text below.
		for _, part := range strings.FieldsFunc(q.Text, func(r rune) bool { return r == '*' }) {
			base.MessageParts = append(base.MessageParts, part)
		}
	}
	checkHere := q.Text != "" || q.ErrorType != ""
	matches := func(run syncs.Run) bool {
		if q.ErrorType != "" && (run.Status != syncs.StatusFailed || string(errclass.Classify(run.ErrorMessage)) != q.ErrorType) {
			return false
		}
		if q.Text != "" {
			shown := showMessage(run.ErrorMessage)
			if shown == nil || !containsFoldASCII(*shown, q.Text) {
				return false
			}
		}
		return true
	}

	ctx, cancel := context.WithTimeout(ctx, d.cfg.SearchBudget)
	defer cancel()
	now := d.now().UTC()
	// The slices go down from the cursor, or from To, or from now (the first slice then
	// has no upper bound: a clock ahead of ours writes rows that start in the future).
	anchor := now
	if !q.To.IsZero() && q.To.Before(now) {
		anchor = q.To
	}
	// before is where the next statement continues: strictly before it.
	var before *syncs.Position
	if q.Cursor != nil {
		anchor = q.Cursor.Start
		before = q.Cursor
	}
	progressed := false
	stop := func(err error) (searched, error) {
		if errors.Is(err, syncs.ErrTooSlow) && progressed {
			s.tooSlow = true
			s.pos = *before
			return s, nil
		}
		return s, fmt.Errorf("history: %w", err)
	}
	floor := q.From
	if floor.IsZero() {
		oldest, any, err := d.cfg.Store.OldestStart(ctx)
		if err != nil {
			return stop(err)
		}
		if !any {
			s.complete = true
			return s, nil
		}
		floor = oldest
	}
	// Without a range of its own, a filter no index serves searches searchSpan a page; a
	// range that was asked for is searched whole, within the time budget.
	capAt := time.Time{}
	if q.slowFilters() && q.From.IsZero() && anchor.Add(-searchSpan).After(floor) {
		capAt = anchor.Add(-searchSpan)
		floor = capAt
	}
	width = max(width, firstSlice)
	lo := anchor.Add(-width)
	defer func() { s.width = width }()
	for {
		last := !lo.After(floor)
		if last {
			lo = floor
		}
		for {
			sq := base
			sq.From, sq.To, sq.Before = lo, q.To, before
			sq.Limit = want - len(s.runs)
			if checkHere {
				sq.Limit = candidateBatch
			}
			runs, err := d.cfg.Store.History(ctx, sq)
			if err != nil {
				return stop(err)
			}
			for _, run := range runs {
				before = &syncs.Position{Start: run.Start, ID: run.ID}
				progressed = true
				if matches(run) {
					s.runs = append(s.runs, run)
					if len(s.runs) == want {
						s.pos, s.complete = *before, true
						return s, nil
					}
				}
			}
			if len(runs) < sq.Limit {
				break // the slice is done
			}
		}
		before, progressed = ptr(syncs.Floor(lo)), true
		if last {
			s.pos = *before
			s.complete = capAt.IsZero()
			s.capped = !capAt.IsZero()
			return s, nil
		}
		width *= 2
		lo = lo.Add(-width)
	}
}

// containsFoldASCII reports whether s contains sub, ignoring the case of ASCII letters
// only (as SQLite's LIKE does; PostgreSQL's ILIKE folds more, and is only a first sieve).
func containsFoldASCII(s, sub string) bool {
	return strings.Contains(lowerASCII(s), lowerASCII(sub))
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
