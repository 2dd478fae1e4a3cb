package syncs

import (
	"testing"
	"time"
)

func TestRecentQueryRanges(t *testing.T) {
	t0 := time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(-time.Hour)
	cases := []struct {
		name string
		q    RecentQuery
		want []RecentRange
	}{
		{"no hint, no status: one range", RecentQuery{}, []RecentRange{{}}},
		{"a status with an alias: a range each", RecentQuery{Status: "success"},
			[]RecentRange{{RawStatus: "success"}, {RawStatus: "completed"}}},
		{"two hints: two ranges", RecentQuery{StartedAfter: t0, StartedAtOrBefore: t1},
			[]RecentRange{{StartedAfter: t0}, {StartedAtOrBefore: t1}}},
		{"two hints and an alias: four", RecentQuery{StartedAfter: t0, StartedAtOrBefore: t1, Status: "running"},
			[]RecentRange{{StartedAfter: t0, RawStatus: "running"}, {StartedAfter: t0, RawStatus: "in_progress"},
				{StartedAtOrBefore: t1, RawStatus: "running"}, {StartedAtOrBefore: t1, RawStatus: "in_progress"}}},
		{"one hint", RecentQuery{StartedAfter: t0, Status: "failed"}, []RecentRange{{StartedAfter: t0, RawStatus: "failed"}}},
		{"a crm: in every range", RecentQuery{CRMSource: "genius", StartedAfter: t0, StartedAtOrBefore: t1},
			[]RecentRange{{CRMSource: "genius", StartedAfter: t0}, {CRMSource: "genius", StartedAtOrBefore: t1}}},
	}
	for _, c := range cases {
		got := c.q.Ranges()
		if len(got) != len(c.want) {
			t.Errorf("%s: got %+v, want %+v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%s: range %d: got %+v, want %+v", c.name, i, got[i], c.want[i])
			}
		}
	}
}

func TestRecentRangeComparisons(t *testing.T) {
	t0 := time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
	t1 := t0.Add(-time.Hour)
	if got := (RecentRange{}).Comparisons(); len(got) != 0 {
		t.Errorf("a range of every row: got %+v, want no condition", got)
	}
	got := RecentRange{CRMSource: "genius", StartedAfter: t0, StartedAtOrBefore: t1, RawStatus: "completed"}.Comparisons()
	want := []Comparison{
		{"crm_source", "=", "genius"}, {"start_time", ">", t0}, {"start_time", "<=", t1}, {"status", "=", "completed"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("condition %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
}
