package syncs

import (
	"testing"
	"time"
)

func TestHistoryQueryLikePatternIsLiteral(t *testing.T) {
	q := HistoryQuery{MessageParts: []string{`100%_done\`, "api_key="}}
	if got, want := q.LikePattern(), `%100\%\_done\\%api\_key=%`; got != want {
		t.Errorf("got %q, want %q: every part literal, anything between", got, want)
	}
	if got := (HistoryQuery{}).LikePattern(); got != "%" {
		t.Errorf("no parts: got %q, want %%", got)
	}
}

func TestNearestRank(t *testing.T) {
	// ⌈p·n/100⌉, counted from 1: the index is one less.
	for _, c := range []struct{ n, p, want int }{
		{1, 50, 0}, {1, 95, 0}, {2, 50, 0}, {2, 95, 1}, {4, 50, 1}, {3, 95, 2}, {10, 95, 9},
		{20, 95, 18}, {21, 95, 19}, {100, 95, 94}, {101, 50, 50}, {60, 95, 56},
	} {
		if got := NearestRank(c.n, c.p); got != c.want {
			t.Errorf("NearestRank(%d, %d) = %d, want %d", c.n, c.p, got, c.want)
		}
	}
}

func TestGatherCRMSummaryRefusesContradictions(t *testing.T) {
	q := CRMQuery{Since: time.Unix(0, 0), CountsSince: time.Unix(0, 0), Successes: 3}
	for name, rows := range map[string][]CRMRow{
		"an entity without its latest row": {{Kind: CRMRowEntity, SyncType: "a"}},
		"a success rank past the asked":    {{Kind: CRMRowRun, SyncType: "a", Flags: FlagLatest, SuccessRank: 4}},
		"an unknown kind":                  {{Kind: "z", SyncType: "a"}},
	} {
		if _, err := GatherCRMSummary(rows, q); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	got, err := GatherCRMSummary([]CRMRow{
		{Kind: CRMRowRun, SyncType: "b", Flags: FlagLatest | FlagLastFinished, Run: Run{ID: 2}},
		{Kind: CRMRowEntity, SyncType: "b", N: 3, Durations: []int64{30, 10, 20}, Records: []int64{5, 1, 3, 2}},
		{Kind: CRMRowRun, SyncType: "a", Flags: FlagLatest, Run: Run{ID: 1}},
	}, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entities) != 2 || got.Entities[0].SyncType != "a" {
		t.Fatalf("entities %+v, want a then b", got.Entities)
	}
	b := got.Entities[1]
	if b.Runs != 3 || b.Durations != 3 || b.DurationP50 != 20*time.Microsecond || b.DurationP95 != 30*time.Microsecond ||
		b.Records != 4 || b.RecordsMiddle != [2]int64{2, 3} || b.LastFinished == nil || b.LastFinished.ID != 2 {
		t.Errorf("b: %+v, want its percentiles and middle values from the unsorted lists", b)
	}
}
