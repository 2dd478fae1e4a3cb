package dashboard_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The drill-down's machinery over fakes: that viewers share computations and take turns,
// that a slow database gives an answer that says so, and that an export streams. The
// figures themselves are the contract suite's (internal/storetest), on real databases.

// gateStore is a warehouse without rows whose drill-down questions each wait at the
// gate: the first question of every drill-down computation (a run, a history page, a
// CRM's summary) announces itself on entered and waits for release.
type gateStore struct {
	nullStore
	entered chan struct{}
	release chan struct{}
	now     atomic.Int64
	most    atomic.Int64
}

func newGateStore() *gateStore {
	return &gateStore{entered: make(chan struct{}, 100), release: make(chan struct{})}
}

func (g *gateStore) gate(ctx context.Context) error {
	n := g.now.Add(1)
	defer g.now.Add(-1)
	for {
		most := g.most.Load()
		if n <= most || g.most.CompareAndSwap(most, n) {
			break
		}
	}
	g.entered <- struct{}{}
	select {
	case <-g.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (g *gateStore) RunByID(ctx context.Context, id int64) (syncs.RunDetail, bool, error) {
	return syncs.RunDetail{}, false, g.gate(ctx)
}
func (g *gateStore) OldestStart(ctx context.Context) (time.Time, bool, error) {
	return time.Time{}, false, g.gate(ctx)
}
func (g *gateStore) CRMSummary(ctx context.Context, _ syncs.CRMQuery) (syncs.CRMSummary, error) {
	return syncs.CRMSummary{}, g.gate(ctx)
}

// waitFor waits, without sleeping, until cond holds or fail says something went wrong.
func waitFor(t *testing.T, what string, cond func() bool, fail func() string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if msg := fail(); msg != "" {
			t.Fatal(msg)
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		runtime.Gosched()
	}
}

func TestDrillDownViewersShareComputationsAndTakeTurns(t *testing.T) {
	t.Parallel()
	g := newGateStore()
	d, err := dashboard.New(dashboard.Config{Store: g, RefreshInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// The default figures first: a CRM's page reads its header from them.
	if _, err := d.Stats(ctx); err != nil {
		t.Fatal(err)
	}
	before := d.Computations()

	// Ten viewers of each of these, arriving together: one computation per question.
	questions := []func() error{
		func() error { _, err := d.CRM(ctx, "genius", 7); return err },
		func() error { _, err := d.CRM(ctx, "genius", 30); return err },
		func() error { _, err := d.CRM(ctx, "hubspot", 7); return err },
		func() error { _, err := d.History(ctx, dashboard.HistoryQuery{Limit: 50}); return err },
		func() error {
			_, err := d.History(ctx, dashboard.HistoryQuery{Limit: 50, CRMSources: []string{"genius", "hubspot"}})
			return err
		},
		func() error {
			// The same filters in another order are the same question.
			_, err := d.History(ctx, dashboard.HistoryQuery{Limit: 50, CRMSources: []string{"hubspot", "genius"}})
			return err
		},
		func() error { _, err := d.History(ctx, dashboard.HistoryQuery{Limit: 50, Text: "timeout"}); return err },
		func() error {
			_, err := d.RunDetail(ctx, 1)
			if errors.Is(err, dashboard.ErrNotFound) {
				return nil
			}
			return err
		},
		func() error {
			_, err := d.RunDetail(ctx, 2)
			if errors.Is(err, dashboard.ErrNotFound) {
				return nil
			}
			return err
		},
	}
	const distinct = 8
	var wg sync.WaitGroup
	errs := make(chan error, 10*len(questions))
	for range 10 {
		for _, q := range questions {
			wg.Go(func() { errs <- q() })
		}
	}
	// Let the computations through one by one: while one is at the store, every other
	// waits for its turn, and none reaches the store beside it.
	for i := range distinct {
		<-g.entered
		waitFor(t, fmt.Sprintf("the other %d computations to wait for their turn", distinct-i-1),
			func() bool {
				return d.Computations()-before == distinct && d.WaitingForTurn() == int64(distinct-i-1)
			},
			func() string {
				if most := g.most.Load(); most > 1 {
					return fmt.Sprintf("%d drill-down questions at the store at once, want one at a time", most)
				}
				return ""
			})
		g.release <- struct{}{}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := d.Computations() - before; got != distinct {
		t.Errorf("90 viewers of %d questions: %d computations, want %d", distinct, got, distinct)
	}
	if most := g.most.Load(); most != 1 {
		t.Errorf("%d drill-down questions at the store at once, want one at a time", most)
	}
	// And from memory afterwards: no computation at all.
	for _, q := range questions {
		if err := q(); err != nil {
			t.Fatal(err)
		}
	}
	if got := d.Computations() - before; got != distinct {
		t.Errorf("after the answers were kept: %d computations, want still %d", got, distinct)
	}
}

func TestExportsTakeTurnsAndAreFewAtOnce(t *testing.T) {
	t.Parallel()
	g := newGateStore()
	d, err := dashboard.New(dashboard.Config{Store: g})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	results := make(chan error, 2)
	for range 2 {
		wg.Go(func() {
			var b bytes.Buffer
			results <- d.ExportHistoryCSV(ctx, &b, func() {}, dashboard.HistoryQuery{Limit: 10})
		})
	}
	// One export reads; the other waits for its turn.
	<-g.entered
	waitFor(t, "the second export to wait for its turn", func() bool { return d.WaitingForTurn() == 1 },
		func() string {
			if g.most.Load() > 1 {
				return "two exports read at once"
			}
			return ""
		})
	// A third, meanwhile, is refused at once, writing nothing.
	var b bytes.Buffer
	if err := d.ExportHistoryCSV(ctx, &b, func() {}, dashboard.HistoryQuery{Limit: 10}); !errors.Is(err, dashboard.ErrBusy) || b.Len() != 0 {
		t.Errorf("a third export: got %v and %d bytes, want ErrBusy and nothing written", err, b.Len())
	}
	g.release <- struct{}{}
	<-g.entered
	g.release <- struct{}{}
	wg.Wait()
	close(results)
	for err := range results {
		if err != nil {
			t.Error(err)
		}
	}
}

// memStore answers the history's questions from rows in memory, newest first, as a store
// would, and records the questions; a question whose number is in tooSlow fails as out
// of time.
type memStore struct {
	nullStore
	rows []syncs.Run

	mu      sync.Mutex
	asked   []syncs.HistoryQuery
	tooSlow map[int]bool
	events  *[]string
}

func (m *memStore) OldestStart(context.Context) (time.Time, bool, error) {
	if len(m.rows) == 0 {
		return time.Time{}, false, nil
	}
	return m.rows[len(m.rows)-1].Start, true, nil
}

func (m *memStore) History(_ context.Context, q syncs.HistoryQuery) ([]syncs.Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.asked = append(m.asked, q)
	if m.events != nil {
		*m.events = append(*m.events, fmt.Sprintf("history limit %d", q.Limit))
	}
	if m.tooSlow[len(m.asked)] {
		return nil, fmt.Errorf("history: %w: %w: canceling statement due to statement timeout", syncs.ErrUnavailable, syncs.ErrTooSlow)
	}
	var out []syncs.Run
	for _, r := range m.rows {
		if (!q.From.IsZero() && r.Start.Before(q.From)) || (!q.To.IsZero() && !r.Start.Before(q.To)) ||
			(q.Before != nil && !q.Before.Before(r.Start, r.ID)) ||
			(len(q.CRMSources) > 0 && !slices.Contains(q.CRMSources, r.CRMSource)) {
			continue
		}
		out = append(out, r)
		if len(out) == q.Limit {
			break
		}
	}
	return out, nil
}

// hourly is n rows of hubspot, one an hour back from now, newest first, ids n down to 1.
func hourly(now time.Time, n int) []syncs.Run {
	rows := make([]syncs.Run, n)
	for i := range rows {
		start := now.Add(-time.Duration(i) * time.Hour)
		end := start.Add(time.Minute)
		rows[i] = syncs.Run{ID: int64(n - i), CRMSource: "hubspot", SyncType: "contacts", Status: syncs.StatusSuccess,
			Start: start, End: &end}
	}
	return rows
}

func TestHistoryAnswersWhatItFoundWhenTheDatabaseIsTooSlow(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 10, 9, 10, 30, 0, 0, time.UTC)
	// 200 rows an hour apart; the third statement (the slice of days 3 to 7) runs out of
	// time.
	m := &memStore{rows: hourly(now, 200), tooSlow: map[int]bool{3: true}}
	d, err := dashboard.New(dashboard.Config{Store: m, Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r, err := d.History(ctx, dashboard.HistoryQuery{Limit: 150})
	if err != nil {
		t.Fatal(err)
	}
	// The slices [now−1d, ∞) and [now−3d, now−1d) were searched: 25 rows and 48.
	if len(r.Runs) != 73 || r.SearchedBackTo == nil || !r.SearchedBackTo.Equal(now.Add(-72*time.Hour)) ||
		r.Note == nil || !strings.Contains(*r.Note, "longer than allowed") || r.NextCursor == nil {
		t.Fatalf("got %d rows, searched back to %v, note %v, cursor %v: want the 73 rows of the first three days, saying so",
			len(r.Runs), r.SearchedBackTo, r.Note, r.NextCursor)
	}
	// The cursor searches on from there, losing nothing.
	cursor, err := dashboard.ParseCursor(*r.NextCursor)
	if err != nil {
		t.Fatal(err)
	}
	next, err := d.History(ctx, dashboard.HistoryQuery{Limit: 150, Cursor: &cursor})
	if err != nil {
		t.Fatal(err)
	}
	if len(next.Runs) != 127 || next.Runs[0].ID != 127 || next.NextCursor != nil {
		t.Errorf("next page: %d rows from id %d, cursor %v: want the other 127 from id 127, and the end",
			len(next.Runs), next.Runs[0].ID, next.NextCursor)
	}

	// Out of time before anything was searched: an error, not an empty page.
	slow := &memStore{rows: hourly(now, 10), tooSlow: map[int]bool{1: true}}
	d, err = dashboard.New(dashboard.Config{Store: slow, Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.History(ctx, dashboard.HistoryQuery{Limit: 5}); !errors.Is(err, syncs.ErrTooSlow) {
		t.Errorf("nothing searched: got %v, want the error", err)
	}
}

func TestExportStreamsInBatches(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 10, 9, 10, 30, 0, 0, time.UTC)
	var events []string
	m := &memStore{rows: hourly(now, 2500), events: &events}
	d, err := dashboard.New(dashboard.Config{Store: m, Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	flush := func() { events = append(events, fmt.Sprintf("flush %d lines", strings.Count(b.String(), "\n"))) }
	if err := d.ExportHistoryCSV(context.Background(), &b, flush, dashboard.HistoryQuery{Limit: 2200}); err != nil {
		t.Fatal(err)
	}
	// Each batch is read, then written and flushed, before the next is read: the rows
	// leave as they come, and no more than a batch is ever held.
	var flushes []string
	for i, e := range events {
		if strings.HasPrefix(e, "flush") {
			flushes = append(flushes, e)
			if i+2 < len(events) && !strings.HasPrefix(events[i+1], "history") {
				t.Errorf("after %q came %q, want the next batch's question", e, events[i+1])
			}
		}
	}
	if want := []string{"flush 1001 lines", "flush 2001 lines", "flush 2201 lines", "flush 2202 lines"}; !slices.Equal(flushes, want) {
		t.Errorf("flushes %v, want %v (three batches, then the note)", flushes, want)
	}
	for _, q := range m.asked {
		if q.Limit > 1001 {
			t.Errorf("a question for %d rows: want at most a batch (and one more)", q.Limit)
		}
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "# cut at 2200 rows") {
		t.Errorf("last line %q, want it to say the export was cut", last)
	}

	// A bound that is a whole number of batches: the batch after the last one looks for
	// one row more, finds it, and writes nothing; the cut continues from the last row
	// written.
	b.Reset()
	if err := d.ExportHistoryCSV(context.Background(), &b, func() {}, dashboard.HistoryQuery{Limit: 2000}); err != nil {
		t.Fatal(err)
	}
	lines = strings.Split(strings.TrimSpace(b.String()), "\n")
	lastRow := strings.Split(lines[len(lines)-2], ",")[0]
	if len(lines) != 2002 || !strings.HasPrefix(lines[2001], "# cut at 2000 rows") || lastRow != "501" {
		t.Fatalf("%d lines, the last rows %q: want the header, 2000 rows down to id 501, and the cut", len(lines), lines[len(lines)-2:])
	}
	cursor, err := dashboard.ParseCursor(lines[2001][strings.LastIndex(lines[2001], " ")+1:])
	if err != nil || cursor.ID != 501 {
		t.Errorf("the cut's cursor %v (%v), want the last row written, id 501", cursor, err)
	}
}

// daily is n rows of hubspot, one a day back from now, newest first, ids n down to 1.
func daily(now time.Time, n int) []syncs.Run {
	rows := hourly(now, n)
	for i := range rows {
		rows[i].Start = now.Add(-time.Duration(i) * 24 * time.Hour)
		end := rows[i].Start.Add(time.Minute)
		rows[i].End = &end
	}
	return rows
}

// An export of sparse rows does not search a day at a time again for each batch: the
// slices keep the width the rows' density needed.
func TestExportKeepsTheSlicesWidth(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 10, 9, 10, 30, 0, 0, time.UTC)
	m := &memStore{rows: daily(now, 2500)}
	d, err := dashboard.New(dashboard.Config{Store: m, Clock: clock.NewFake(now)})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := d.ExportHistoryCSV(context.Background(), &b, func() {}, dashboard.HistoryQuery{Limit: 3000}); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(b.String(), "\n"); n != 2501 {
		t.Fatalf("%d lines, want the header and 2500 rows", n)
	}
	// The first batch widens from a day to 512 days (ten slices); each later one needs a
	// slice or two of that width. Starting again from a day, each would need ten.
	if n := len(m.asked); n > 16 {
		t.Errorf("%d questions for three batches of daily rows, want at most 16", n)
	}
}
