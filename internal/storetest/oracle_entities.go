package storetest

import (
	stdcmp "cmp"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/syncwatch/syncwatch/internal/syncs"
)

// randomEntities puts the random history of randomAgreement, and a few entities whose
// rows crowd onto a handful of start times, into a store, and compares what it answers
// to Entities, StuckRuns and SuccessRecords with the same questions answered here by
// walking all the rows in plain Go, as the doc of syncs.Entity reads.
func randomEntities(t *testing.T, h Harness) {
	for _, seed := range []uint64{20251009, 7, 424242} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			t.Parallel()
			t.Logf("seed %d", seed)
			store, fx := openStore(t, h)
			g := newHistoryGen(seed, time.UTC)
			o := insertForOracle(t, fx, append(g.rows(), g.crowdedRows()...), time.UTC, seed)
			o.checkCoverage(t)
			o.checkEntities(t, store)
			o.checkStuckRuns(t, store)
			o.checkSuccessRecords(t, store)
		})
	}
}

// The crowded entities: every row starts at one of a few instants, so that ties on
// start_time, broken by id, decide most of their figures.
const (
	crmCrowded     = "crowdcrm"
	crowdedEntries = 120
)

// crowdedRows are rows of two entities whose start times are drawn from five instants
// (one of them exactly 30 days before now), with every status spelling and every kind
// of end time, and of a third whose rows since its last success are failures mixed with
// other statuses; shuffled, so that ids do not follow the order of the fields.
func (g *historyGen) crowdedRows() []Row {
	instants := []time.Time{Now.Add(-30 * day), Now.Add(-3 * day), Now.Add(-61 * time.Minute), Now.Add(-60 * time.Minute), Now.Add(-time.Minute)}
	var rows []Row
	for range crowdedEntries {
		status := pick(g, []string{"success", "completed", "failed", "failed", "partial", "running", "in_progress", "skipped", "cancelled"})
		r := g.row(crmCrowded, status, pick(g, instants))
		r.SyncType = pick(g, []string{"contacts", "deals"})
		rows = append(rows, r)
	}
	// A third entity fails since its last success, with other statuses among the failures.
	streak := []time.Time{Now.Add(-20 * day), Now.Add(-2 * day), Now.Add(-26 * time.Hour), Now.Add(-time.Hour)}
	last := g.row(crmCrowded, pick(g, []string{"success", "completed", "partial"}), streak[0])
	last.SyncType = "streak"
	rows = append(rows, last)
	for range 12 {
		r := g.row(crmCrowded, pick(g, []string{"failed", "failed", "skipped", "cancelled", "running", "in_progress"}),
			pick(g, streak[1:]).Add(-g.upTo(time.Hour)))
		r.SyncType = "streak"
		rows = append(rows, r)
	}
	g.rnd.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return rows
}

// succeeded is the contract's "success or partial", aliases resolved.
func succeeded(r histRow) bool { return r.status == "success" || r.status == "partial" }

// storedRun is the row as a store returns it, without its message.
func (r histRow) storedRun() syncs.Run { return storedRun(r.Row, r.id) }

// entities answers syncs.Store.Entities literally: for each entity with a row started at
// or after q.Since, its rows since then, newest first, walked once per figure.
func (o oracle) entities(q syncs.EntityQuery) []syncs.Entity {
	type key struct{ source, syncType string }
	byEntity := map[key]history{}
	for _, r := range o.rows {
		if !r.Start.Before(q.Since) {
			k := key{r.CRMSource, r.SyncType}
			byEntity[k] = append(byEntity[k], r)
		}
	}
	out := []syncs.Entity{}
	for k, rows := range byEntity {
		slices.SortFunc(rows, startedLater)
		e := syncs.Entity{CRMSource: k.source, SyncType: k.syncType, Latest: rows[0].storedRun()}
		for _, r := range rows {
			if e.FirstStart.IsZero() || r.Start.Before(e.FirstStart) {
				e.FirstStart = r.Start
			}
		}
		for _, r := range rows {
			if r.status != "running" {
				finished := r.storedRun()
				if r.status == "failed" {
					finished.ErrorMessage = storedMessage(r.ErrorMessage)
				}
				e.LastFinished = &finished
				break
			}
		}
		for _, r := range rows {
			if _, known := r.durationMicros(); known {
				e.LastTimed = ptr(r.storedRun())
				break
			}
		}
		for _, r := range rows {
			if at, _ := r.finishedAt(); succeeded(r) && (e.LastSuccess == nil || at.After(*e.LastSuccess)) {
				e.LastSuccess = ptr(at)
			}
		}
		for _, r := range rows {
			if succeeded(r) {
				break
			}
			if r.status == "failed" {
				e.ConsecutiveFailures++
			}
		}
		for _, r := range rows {
			if succeeded(r) && len(e.RecentSuccesses) < q.Successes {
				e.RecentSuccesses = append(e.RecentSuccesses, r.storedRun())
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b syncs.Entity) int {
		return stdcmp.Or(strings.Compare(a.CRMSource, b.CRMSource), strings.Compare(a.SyncType, b.SyncType))
	})
	return out
}

// checkCoverage fails when the random rows miss a case that the comparisons below are
// meant to exercise, so that a change to the generator cannot quietly make them trivial.
func (o oracle) checkCoverage(t *testing.T) {
	q := syncs.EntityQuery{Since: Now.Add(-30 * day), Successes: 3}
	seen := map[string]bool{}
	for _, e := range o.entities(q) {
		seen["an entity with only running rows"] = seen["an entity with only running rows"] || e.LastFinished == nil
		seen["a last finished row that failed, with a message"] = seen["a last finished row that failed, with a message"] ||
			e.LastFinished != nil && e.LastFinished.Status == "failed" && e.LastFinished.ErrorMessage != nil
		seen["a last timed row other than the last finished"] = seen["a last timed row other than the last finished"] ||
			e.LastTimed != nil && e.LastFinished != nil && e.LastTimed.ID != e.LastFinished.ID
		seen["a streak of two failures or more"] = seen["a streak of two failures or more"] || e.ConsecutiveFailures >= 2
		seen["an entity without a success"] = seen["an entity without a success"] || e.LastSuccess == nil && e.LastFinished != nil
		seen["fewer successes than asked for"] = seen["fewer successes than asked for"] ||
			len(e.RecentSuccesses) > 0 && len(e.RecentSuccesses) < q.Successes
	}
	byEntity := map[[2]string]history{}
	for _, r := range o.rows {
		if !r.Start.Before(q.Since) {
			byEntity[[2]string{r.CRMSource, r.SyncType}] = append(byEntity[[2]string{r.CRMSource, r.SyncType}], r)
		}
	}
	for _, rows := range byEntity {
		slices.SortFunc(rows, startedLater)
		if len(rows) > 1 && rows[0].Start.Equal(rows[1].Start) {
			seen["a latest row that ties on start_time"] = true
		}
		for i, r := range rows {
			if succeeded(r) {
				break
			}
			if r.status != "failed" && r.status != "running" && slices.ContainsFunc(rows[i+1:], func(r histRow) bool { return r.status == "failed" }) {
				seen["a streak with another status inside"] = true
			}
		}
	}
	for _, r := range o.rows {
		if r.status == "running" && r.Start.Equal(Now.Add(-60*time.Minute)) {
			seen["a running row at exactly the stuck threshold"] = true
		}
		if r.status == "success" && r.Status == "completed" && !r.Start.Before(q.Since) {
			seen["a success written as completed"] = true
		}
	}
	for _, want := range []string{"an entity with only running rows", "a last finished row that failed, with a message",
		"a last timed row other than the last finished", "a streak of two failures or more", "an entity without a success",
		"fewer successes than asked for", "a latest row that ties on start_time", "a streak with another status inside",
		"a running row at exactly the stuck threshold", "a success written as completed"} {
		if !seen[want] {
			t.Errorf("seed %d: the random rows have no case of %s", o.seed, want)
		}
	}
}

func (o oracle) checkEntities(t *testing.T, store syncs.Store) {
	for _, since := range []time.Time{Now.Add(-30 * day), Now.Add(-30*day + time.Microsecond), Now.Add(-3 * day),
		Now.Add(-24 * time.Hour), Now.Add(-60 * time.Minute), Now} {
		for _, successes := range []int{0, 1, 3, syncs.MaxRecentSuccesses} {
			q := syncs.EntityQuery{Since: since, Successes: successes}
			got, err := store.Entities(ctx(t), q)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(o.entities(q), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("seed %d: entities since now%+v, %d successes (-oracle +store):\n%s",
					o.seed, since.Sub(Now), successes, clip(diff))
			}
		}
	}
}

// stuckRuns answers syncs.Store.StuckRuns literally.
func (o oracle) stuckRuns(stuckBefore time.Time, limit int) []syncs.Run {
	var sel history
	for _, r := range o.rows {
		if r.status == "running" && r.Start.Before(stuckBefore) {
			sel = append(sel, r)
		}
	}
	slices.SortFunc(sel, func(a, b histRow) int { return startedLater(b, a) }) // oldest first
	out := []syncs.Run{}
	for _, r := range sel[:min(limit, len(sel))] {
		out = append(out, r.storedRun())
	}
	return out
}

func (o oracle) checkStuckRuns(t *testing.T, store syncs.Store) {
	for _, before := range []time.Time{Now.Add(-60 * time.Minute), Now.Add(-60*time.Minute + time.Microsecond),
		Now.Add(-60*time.Minute - time.Microsecond), Now, Now.Add(10 * time.Minute), Now.Add(-3 * day)} {
		for _, limit := range []int{0, 1, 4, 1000} {
			got, err := store.StuckRuns(ctx(t), before, limit)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(o.stuckRuns(before, limit), got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("seed %d: stuck runs before now%+v, limit %d (-oracle +store):\n%s",
					o.seed, before.Sub(Now), limit, clip(diff))
			}
		}
	}
}

// successRecords answers syncs.Store.SuccessRecords literally, every value, sorted.
func (o oracle) successRecords(source, syncType string, from, to time.Time) []int64 {
	out := []int64{}
	for _, r := range o.rows {
		if r.CRMSource == source && r.SyncType == syncType && succeeded(r) && !r.Start.Before(from) && r.Start.Before(to) {
			out = append(out, r.RecordsProcessed)
		}
	}
	slices.Sort(out)
	return out
}

func (o oracle) checkSuccessRecords(t *testing.T, store syncs.Store) {
	type entity struct{ source, syncType string }
	entities := []entity{{crmCrowded, "contacts"}, {crmCrowded, "deals"}, {crmOnlyRuns, "contacts"}, {"nosuchcrm", "contacts"}}
	for _, source := range []string{crmBusy1, crmBusy2, crmUnknownOld} {
		for _, syncType := range []string{"contacts", "deals", "appointments", "all"} {
			entities = append(entities, entity{source, syncType})
		}
	}
	ranges := [][2]time.Time{
		{Now.Add(-30 * day), Now},
		{Now.Add(-30 * day), Now.Add(-60 * time.Minute)},
		{Now.Add(-60 * time.Minute), Now.Add(time.Hour)},
		{Now.Add(-40 * day), Now.Add(-35 * day)},
	}
	for _, e := range entities {
		for _, span := range ranges {
			want := o.successRecords(e.source, e.syncType, span[0], span[1])
			for _, limit := range []int{1000000, len(want), len(want) / 2, 0} {
				got, err := store.SuccessRecords(ctx(t), e.source, e.syncType, span[0], span[1], limit)
				if err != nil {
					t.Fatal(err)
				}
				slices.Sort(got)
				if limit >= len(want) {
					if !cmp.Equal(want, got, cmpopts.EquateEmpty()) {
						t.Errorf("seed %d: success records of %s %s in [now%+v, now%+v), limit %d: got %v, oracle %v",
							o.seed, e.source, e.syncType, span[0].Sub(Now), span[1].Sub(Now), limit, got, want)
					}
					continue
				}
				// Fewer asked for than there are: any limit of them.
				if len(got) != limit || !subMultiset(got, want) {
					t.Errorf("seed %d: success records of %s %s in [now%+v, now%+v), limit %d: got %v, want %d of %v",
						o.seed, e.source, e.syncType, span[0].Sub(Now), span[1].Sub(Now), limit, got, limit, want)
				}
			}
		}
	}
}

// subMultiset says whether every value of sub, counted with repeats, is in set; both sorted.
func subMultiset(sub, set []int64) bool {
	i := 0
	for _, v := range sub {
		for i < len(set) && set[i] < v {
			i++
		}
		if i == len(set) || set[i] != v {
			return false
		}
		i++
	}
	return true
}
