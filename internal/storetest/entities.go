package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The questions alerts and metrics ask once per refresh (Entities, StuckRuns,
// SuccessRecords) are asked of the store itself: the figures built on them live in other
// packages, which rely on these answers being the same on every store.

// openStore returns an empty store and its fixture; the store is closed when t ends.
func openStore(t *testing.T, h Harness) (syncs.Store, Fixture) {
	t.Helper()
	store, fx := h(t)
	t.Cleanup(func() { _ = store.Close() })
	return store, fx
}

// fixtureRows inserts rows that all carry an id, and returns them by id.
func fixtureRows(t *testing.T, fx Fixture, rows ...Row) map[int64]Row {
	t.Helper()
	byID := map[int64]Row{}
	for _, r := range rows {
		if r.ID == 0 || byID[r.ID].ID != 0 {
			t.Fatalf("fixture row %+v: every row needs its own id", r)
		}
		byID[r.ID] = r.WithDefaults()
	}
	fx.Insert(t, rows...)
	return byID
}

// storedRun is a fixture row as a store returns it: aliases resolved, no message.
func storedRun(r Row, id int64) syncs.Run {
	r = r.WithDefaults()
	return syncs.Run{
		ID: id, CRMSource: r.CRMSource, SyncType: r.SyncType, Status: canonicalStatus(r.Status),
		Start: r.Start, End: r.End,
		RecordsProcessed: ptr(r.RecordsProcessed), RecordsCreated: ptr(r.RecordsCreated),
		RecordsUpdated: ptr(r.RecordsUpdated), RecordsFailed: ptr(r.RecordsFailed),
	}
}

// storedMessage is a message as a store returns it: whole, or cut as syncs.CutMessage
// says.
func storedMessage(m *string) *string {
	if m == nil {
		return nil
	}
	n := utf8.RuneCountInString(*m)
	if n <= syncs.MessageHead+syncs.MessageTail {
		return ptr(*m)
	}
	r := []rune(*m)
	return ptr(syncs.CutMessage(string(r[:syncs.MessageHead]), string(r[n-syncs.MessageTail:]), n))
}

func entitiesAtEveryEdge(t *testing.T, h Harness) {
	store, fx := openStore(t, h)
	since := at(-30 * day)
	long := "Traceback (most recent call last):\n" + strings.Repeat("  File \"zürich.py\", line 9, in run\n", 200) +
		"requests.exceptions.ReadTimeout: read timeout=30"
	short := "HTTP 429: Too Many Requests"
	rows := fixtureRows(t, fx,
		// hubspot contacts: a streak of failures that a skipped row does not break, after
		// a success written with the completed alias; the latest row runs (in_progress).
		// The success that started before since, however late it finished, is not read.
		Row{ID: 101, CRMSource: "hubspot", Start: since.Add(-time.Microsecond), End: end(-29 * day), RecordsProcessed: 5},
		Row{ID: 102, CRMSource: "hubspot", Status: "completed", Start: at(-3 * day), End: end(-3*day + 10*minute), RecordsProcessed: 40},
		Row{ID: 103, CRMSource: "hubspot", Status: "failed", Start: at(-2 * day), End: end(-2*day + 5*minute), ErrorMessage: &short},
		Row{ID: 104, CRMSource: "hubspot", Status: "skipped", Start: at(-day), End: end(-day - minute)},   // ends before it starts
		Row{ID: 105, CRMSource: "hubspot", Status: "failed", Start: at(-20 * hour), ErrorMessage: &short}, // no end_time
		Row{ID: 106, CRMSource: "hubspot", Status: "in_progress", Start: at(-10 * minute), RecordsProcessed: 3},
		// hubspot deals: its one row started exactly at since (read); another a
		// microsecond before (not read). No end_time: finished at its start, no duration.
		Row{ID: 110, CRMSource: "hubspot", SyncType: "deals", Start: since, RecordsProcessed: 8},
		Row{ID: 111, CRMSource: "hubspot", SyncType: "deals", Status: "failed", Start: since.Add(-time.Microsecond)},
		// genius appointments: a failure and a success start at the same instant; the
		// greater id is the later row. The success that finished last started earliest
		// (and finishes after now: a clock ahead). Four successes, of which three are read.
		Row{ID: 203, CRMSource: "genius", SyncType: "appointments", Status: "success", Start: at(-8 * hour), End: end(-7 * hour), RecordsProcessed: 1},
		Row{ID: 204, CRMSource: "genius", SyncType: "appointments", Status: "completed", Start: at(-7 * hour), End: end(hour), RecordsProcessed: 0},
		Row{ID: 205, CRMSource: "genius", SyncType: "appointments", Status: "partial", Start: at(-6 * hour), End: end(-5*hour - 30*minute), RecordsProcessed: 12, RecordsFailed: 2},
		Row{ID: 210, CRMSource: "genius", SyncType: "appointments", Status: "success", Start: at(-5 * hour), End: end(-4 * hour), RecordsProcessed: 7},
		Row{ID: 211, CRMSource: "genius", SyncType: "appointments", Status: "failed", Start: at(-5 * hour), End: end(-4*hour - 30*minute), ErrorMessage: &long},
		// salesrabbit: only running rows.
		Row{ID: 301, CRMSource: "salesrabbit", Status: "running", Start: at(-3 * hour)},
		Row{ID: 302, CRMSource: "salesrabbit", Status: "in_progress", Start: at(-2 * hour)},
		// callrail calls: no success since since (one before it): every failure counts,
		// whatever unknown status lies between them. The latest row failed without a
		// message and ends before it starts; the one before, of an unknown status, has
		// the latest known duration.
		Row{ID: 401, CRMSource: "callrail", SyncType: "calls", Status: "success", Start: at(-40 * day), End: end(-40 * day)},
		Row{ID: 402, CRMSource: "callrail", SyncType: "calls", Status: "failed", Start: at(-10 * day), End: end(-10 * day)},
		Row{ID: 403, CRMSource: "callrail", SyncType: "calls", Status: "failed", Start: at(-5 * day), End: end(-5 * day)},
		Row{ID: 404, CRMSource: "callrail", SyncType: "calls", Status: "cancelled", Start: at(-4 * day), End: end(-4*day + minute)},
		Row{ID: 405, CRMSource: "callrail", SyncType: "calls", Status: "failed", Start: at(-3 * day), End: end(-3*day - minute)},
		// five9: nothing since since: not reported.
		Row{ID: 501, CRMSource: "five9", Status: "failed", Start: at(-31 * day), End: end(-day)},
		// A source whose name sorts before the others in byte order ('A' < 'a'), though
		// after them in many collations.
		Row{ID: 601, CRMSource: "Zcrm", Status: "partial", Start: at(-hour), End: end(-hour)},
	)
	run := func(id int64) syncs.Run { return storedRun(rows[id], id) }
	runP := func(id int64) *syncs.Run { return ptr(run(id)) }
	withMessage := func(id int64) *syncs.Run {
		r := run(id)
		r.ErrorMessage = storedMessage(rows[id].ErrorMessage)
		return &r
	}
	finishedAt := func(id int64) *time.Time {
		if e := rows[id].End; e != nil {
			return ptr(*e)
		}
		return ptr(rows[id].Start)
	}
	want := []syncs.Entity{
		{CRMSource: "Zcrm", SyncType: "contacts", Latest: run(601), LastFinished: runP(601), LastTimed: runP(601),
			LastSuccess: finishedAt(601), RecentSuccesses: []syncs.Run{run(601)}, FirstStart: run(601).Start},
		{CRMSource: "callrail", SyncType: "calls", Latest: run(405), LastFinished: withMessage(405), LastTimed: runP(404),
			ConsecutiveFailures: 3, FirstStart: run(402).Start},
		{CRMSource: "genius", SyncType: "appointments", Latest: run(211), LastFinished: withMessage(211), LastTimed: runP(211),
			LastSuccess: finishedAt(204), ConsecutiveFailures: 1, RecentSuccesses: []syncs.Run{run(210), run(205), run(204)},
			FirstStart: run(203).Start},
		// The row that started a microsecond before since is not the first start.
		{CRMSource: "hubspot", SyncType: "contacts", Latest: run(106), LastFinished: withMessage(105), LastTimed: runP(103),
			LastSuccess: finishedAt(102), ConsecutiveFailures: 2, RecentSuccesses: []syncs.Run{run(102)}, FirstStart: run(102).Start},
		{CRMSource: "hubspot", SyncType: "deals", Latest: run(110), LastFinished: runP(110),
			LastSuccess: finishedAt(110), RecentSuccesses: []syncs.Run{run(110)}, FirstStart: since},
		{CRMSource: "salesrabbit", SyncType: "contacts", Latest: run(302), FirstStart: run(301).Start},
	}
	got, err := store.Entities(ctx(t), syncs.EntityQuery{Since: since, Successes: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("entities since %v, 3 successes (-want +got):\n%s", since, clip(diff))
	}
	if m := got[2].LastFinished.ErrorMessage; m == nil || !strings.Contains(*m, "characters cut") {
		t.Errorf("a failed last finished row of %d characters: got message %.80q…, want it cut", utf8.RuneCountInString(long), ptrString(m))
	}

	// No successes asked for: none returned, every other figure the same.
	got, err = store.Entities(ctx(t), syncs.EntityQuery{Since: since})
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		want[i].RecentSuccesses = nil
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entities with no successes asked for (-want +got):\n%s", clip(diff))
	}

	// All ten: every success since since, newest first.
	got, err = store.Entities(ctx(t), syncs.EntityQuery{Since: since, Successes: syncs.MaxRecentSuccesses})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || !cmp.Equal(got[2].RecentSuccesses, []syncs.Run{run(210), run(205), run(204), run(203)}) {
		t.Errorf("entities with ten successes asked for: got %+v, want genius appointments' four", got)
	}

	// A later since: only what started at or after it.
	got, err = store.Entities(ctx(t), syncs.EntityQuery{Since: at(-5 * hour), Successes: 3})
	if err != nil {
		t.Fatal(err)
	}
	wantLater := []syncs.Entity{
		want[0],
		{CRMSource: "genius", SyncType: "appointments", Latest: run(211), LastFinished: withMessage(211), LastTimed: runP(211),
			LastSuccess: finishedAt(210), ConsecutiveFailures: 1, RecentSuccesses: []syncs.Run{run(210)}, FirstStart: at(-5 * hour)},
		{CRMSource: "hubspot", SyncType: "contacts", Latest: run(106), FirstStart: run(106).Start},
		want[5],
	}
	wantLater[0].RecentSuccesses = []syncs.Run{run(601)}
	if diff := cmp.Diff(wantLater, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("entities since 5 hours ago (-want +got):\n%s", clip(diff))
	}

	got, err = store.Entities(ctx(t), syncs.EntityQuery{Since: at(time.Hour)})
	if err != nil || len(got) != 0 {
		t.Errorf("entities since an hour ahead: got %+v, %v, want none", got, err)
	}
	for _, bad := range []syncs.EntityQuery{{Since: since, Successes: -1}, {Since: since, Successes: syncs.MaxRecentSuccesses + 1}, {Successes: 3}} {
		if got, err := store.Entities(ctx(t), bad); err == nil {
			t.Errorf("entities %+v: got %d entities, want an error", bad, len(got))
		}
	}
}

func ptrString(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func stuckRuns(t *testing.T, h Harness) {
	store, fx := openStore(t, h)
	stuckBefore := at(-hour)
	rows := fixtureRows(t, fx,
		Row{ID: 1, CRMSource: "hubspot", Status: "running", Start: stuckBefore.Add(-time.Microsecond)},
		Row{ID: 2, CRMSource: "hubspot", Status: "running", Start: stuckBefore},                       // not before: not stuck
		Row{ID: 3, CRMSource: "hubspot", Status: "running", Start: stuckBefore.Add(time.Microsecond)}, // not stuck
		Row{ID: 4, CRMSource: "genius", SyncType: "leads", Status: "in_progress", Start: at(-3 * day), RecordsProcessed: 17},
		// Two started at the same instant: the smaller id first.
		Row{ID: 6, CRMSource: "callrail", Status: "running", Start: at(-2 * day)},
		Row{ID: 5, CRMSource: "arrivy", Status: "in_progress", Start: at(-2 * day), ErrorMessage: ptr("not read")},
		// Finished rows, however old, are not running.
		Row{ID: 7, CRMSource: "five9", Status: "failed", Start: at(-4 * day)},
		Row{ID: 8, CRMSource: "five9", Status: "success", Start: at(-4 * day)},
		Row{ID: 9, CRMSource: "five9", Status: "skipped", Start: at(-4 * day)},
	)
	runs := func(ids ...int64) []syncs.Run {
		out := []syncs.Run{}
		for _, id := range ids {
			out = append(out, storedRun(rows[id], id))
		}
		return out
	}
	for _, c := range []struct {
		limit int
		want  []syncs.Run
	}{
		{100, runs(4, 5, 6, 1)},
		{2, runs(4, 5)},
		{0, runs()},
	} {
		got, err := store.StuckRuns(ctx(t), stuckBefore, c.limit)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(c.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("stuck runs, limit %d (-want +got):\n%s", c.limit, diff)
		}
	}
	if got, err := store.StuckRuns(ctx(t), stuckBefore, -1); err == nil {
		t.Errorf("stuck runs, limit -1: got %d runs, want an error", len(got))
	}
}

func successRecords(t *testing.T, h Harness) {
	store, fx := openStore(t, h)
	from, to := at(-30*day), at(-3*hour)
	fx.Insert(t,
		Row{CRMSource: "genius", SyncType: "leads", Status: "success", Start: from, RecordsProcessed: 10}, // at from: read
		Row{CRMSource: "genius", SyncType: "leads", Status: "completed", Start: at(-10 * day), RecordsProcessed: 20},
		Row{CRMSource: "genius", SyncType: "leads", Status: "partial", Start: at(-5 * day), RecordsProcessed: 0},
		Row{CRMSource: "genius", SyncType: "leads", Status: "success", Start: to.Add(-time.Microsecond), RecordsProcessed: 40},
		Row{CRMSource: "genius", SyncType: "leads", Status: "success", Start: to, RecordsProcessed: 1000},                          // at to: not read
		Row{CRMSource: "genius", SyncType: "leads", Status: "success", Start: from.Add(-time.Microsecond), RecordsProcessed: 1000}, // before from
		Row{CRMSource: "genius", SyncType: "leads", Status: "failed", Start: at(-4 * day), RecordsProcessed: 1000},
		Row{CRMSource: "genius", SyncType: "leads", Status: "skipped", Start: at(-4 * day), RecordsProcessed: 1000},
		Row{CRMSource: "genius", SyncType: "leads", Status: "running", Start: at(-4 * day), RecordsProcessed: 1000},
		Row{CRMSource: "genius", SyncType: "leads", Status: "in_progress", Start: at(-4 * day), RecordsProcessed: 1000},
		Row{CRMSource: "genius", SyncType: "users", Status: "success", Start: at(-4 * day), RecordsProcessed: 1000},
		Row{CRMSource: "hubspot", SyncType: "leads", Status: "success", Start: at(-4 * day), RecordsProcessed: 1000},
	)
	want := []int64{0, 10, 20, 40}
	got, err := store.SuccessRecords(ctx(t), "genius", "leads", from, to, 100)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !cmp.Equal(want, got) {
		t.Errorf("success records: got %v, want %v in any order", got, want)
	}
	got, err = store.SuccessRecords(ctx(t), "genius", "leads", from, to, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.Contains(want, got[0]) || !slices.Contains(want, got[1]) || got[0] == got[1] {
		t.Errorf("success records, limit 2: got %v, want two different values of %v", got, want)
	}
	for _, c := range []struct {
		name             string
		source, syncType string
		from, to         time.Time
		limit            int
	}{
		{"limit 0", "genius", "leads", from, to, 0},
		{"an empty range", "genius", "leads", to, to, 100},
		{"an entity without rows", "genius", "nosuchtype", from, to, 100},
	} {
		got, err := store.SuccessRecords(ctx(t), c.source, c.syncType, c.from, c.to, c.limit)
		if err != nil || len(got) != 0 {
			t.Errorf("success records, %s: got %v, %v, want none", c.name, got, err)
		}
	}
	if got, err := store.SuccessRecords(ctx(t), "genius", "leads", from, to, -1); err == nil {
		t.Errorf("success records, limit -1: got %v, want an error", got)
	}
}
