package syncs

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestGatherEntities(t *testing.T) {
	t0 := time.Date(2025, 10, 9, 10, 0, 0, 0, time.UTC)
	msg := "boom"
	run := func(id int64, source, syncType, status string, message *string) Run {
		return Run{ID: id, CRMSource: source, SyncType: syncType, Status: status, Start: t0.Add(time.Duration(id) * time.Minute), ErrorMessage: message}
	}
	noMessage := func(r Run) Run { r.ErrorMessage = nil; return r }
	// Rows in the order a database with a natural-language collation returns them:
	// "acme" before "Zeta" before "zeta"; each entity's rows in any order.
	failed := run(3, "acme", "deals", StatusFailed, &msg)
	success := run(2, "acme", "deals", StatusSuccess, &msg) // a message read by mistake is dropped
	older := run(1, "acme", "deals", StatusPartial, nil)
	upper := run(4, "Zeta", "contacts", StatusRunning, nil)
	lower := run(5, "zeta", "contacts", StatusSuccess, nil)
	rows := []EntityRow{
		{Run: success, LastTimed: true, SuccessRank: 1, ConsecutiveFailures: 1, LastSuccess: &t0, FirstStart: older.Start},
		{Run: failed, Latest: true, LastFinished: true, ConsecutiveFailures: 1, LastSuccess: &t0, FirstStart: older.Start},
		{Run: older, SuccessRank: 2, ConsecutiveFailures: 1, LastSuccess: &t0, FirstStart: older.Start},
		{Run: upper, Latest: true, FirstStart: upper.Start},
		{Run: lower, Latest: true, LastFinished: true, LastTimed: true, SuccessRank: 1, FirstStart: lower.Start},
	}
	got, err := GatherEntities(rows, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entity{
		{CRMSource: "Zeta", SyncType: "contacts", Latest: upper, FirstStart: upper.Start},
		{CRMSource: "acme", SyncType: "deals", Latest: noMessage(failed), LastFinished: &failed,
			LastTimed: ptrTo(noMessage(success)), LastSuccess: &t0, ConsecutiveFailures: 1,
			RecentSuccesses: []Run{noMessage(success), older}, FirstStart: older.Start},
		{CRMSource: "zeta", SyncType: "contacts", Latest: lower, LastFinished: &lower, LastTimed: &lower,
			RecentSuccesses: []Run{lower}, FirstStart: lower.Start},
	}
	if !reflect.DeepEqual(want, got) {
		t.Errorf("got\n%+v\nwant\n%+v", got, want)
	}

	for _, c := range []struct {
		name string
		rows []EntityRow
	}{
		{"a rank given twice", []EntityRow{{Run: upper, Latest: true, SuccessRank: 1}, {Run: lower, SuccessRank: 1}}},
		{"a rank beyond the successes asked for", []EntityRow{{Run: upper, Latest: true, SuccessRank: 4}}},
		{"a rank missing", []EntityRow{{Run: upper, Latest: true, SuccessRank: 2}}},
		{"an entity without its latest row", []EntityRow{{Run: upper, SuccessRank: 1}}},
	} {
		if got, err := GatherEntities(c.rows, 3); err == nil || !strings.HasPrefix(err.Error(), "entities: ") {
			t.Errorf("%s: got %+v, %v, want an error", c.name, got, err)
		}
	}
}

func TestEntityQueryCheck(t *testing.T) {
	since := time.Date(2025, 9, 9, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		q  EntityQuery
		ok bool
	}{
		{EntityQuery{Since: since}, true},
		{EntityQuery{Since: since, Successes: MaxRecentSuccesses}, true},
		{EntityQuery{Since: since, Successes: MaxRecentSuccesses + 1}, false},
		{EntityQuery{Since: since, Successes: -1}, false},
		{EntityQuery{Successes: 3}, false},
	} {
		if err := c.q.Check(); (err == nil) != c.ok {
			t.Errorf("%+v: got %v, want ok %v", c.q, err, c.ok)
		}
	}
	if CheckLimit("x", 0) != nil || CheckLimit("x", -1) == nil {
		t.Errorf("CheckLimit: want 0 allowed and -1 refused")
	}
}
