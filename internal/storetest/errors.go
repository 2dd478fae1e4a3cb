package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

func errorsRecent(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	msg := func(s string) *string { return &s }
	rows := []Row{
		{ID: 1, CRMSource: "hubspot", Start: at(-30 * hour), End: end(-30 * hour), ErrorMessage: msg("HTTP 429: Too Many Requests")},
		{ID: 2, CRMSource: "callrail", Start: at(-29 * hour), End: end(-29 * hour), ErrorMessage: msg("CallRail authentication failed: bad token")},
		// Started three days ago, marked failed by the cleanup just now: the newest failure.
		{ID: 3, CRMSource: "genius", Start: at(-3 * day), End: end(-time.Minute),
			ErrorMessage: msg("Sync started (auto-marked failed by cleanup_stale_syncs; no heartbeat for too long)")},
		// Two failures finishing at the same instant: the greater id first.
		{ID: 4, CRMSource: "arrivy", Start: at(-2 * hour), End: end(-hour), ErrorMessage: msg("Failed to connect to Arrivy API: [Errno 111] Connection refused")},
		{ID: 5, CRMSource: "arrivy", Start: at(-2 * hour), End: end(-hour)},
		// Failed without end_time: finished at its start.
		{ID: 6, CRMSource: "five9", Start: at(-90 * minute), ErrorMessage: msg("Five9 credentials not found in environment variables")},
	}
	for i := range 8 {
		rows = append(rows, Row{ID: int64(10 + i), CRMSource: "gsheet", Start: at(-time.Duration(40+i) * hour),
			End: end(-time.Duration(40+i) * hour), ErrorMessage: msg("404 Client Error: Not Found for url: https://sheets.googleapis.com/v4/x?key=AIzaSyD-secret-key-123")})
	}
	for i := range rows {
		rows[i].Status = "failed"
	}
	// Not failures: never listed.
	rows = append(rows,
		Row{ID: 30, CRMSource: "hubspot", Status: "partial", Start: at(-time.Minute), End: end(0), ErrorMessage: msg("Failed entities: deals")},
		Row{ID: 31, CRMSource: "hubspot", Status: "running", Start: at(-time.Minute), ErrorMessage: msg("HTTP 429")},
	)
	fx.Insert(t, rows...)

	got, err := d.Errors(ctx(t), 7)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range got.RecentErrors {
		ids = append(ids, e.ID)
	}
	if diff := cmp.Diff([]int64{3, 5, 4, 6, 2, 1, 10, 11, 12, 13}, ids); diff != "" {
		t.Errorf("recent error ids (-want +got):\n%s", diff)
	}
	byID := map[int64]dashboard.ErrorEntry{}
	for _, e := range got.RecentErrors {
		byID[e.ID] = e
	}
	types := map[int64]string{3: "terminated", 5: "unknown", 4: "connection", 6: "configuration", 2: "authentication", 1: "rate_limit", 10: "not_found"}
	for id, want := range types {
		if byID[id].ErrorType != want {
			t.Errorf("row %d: got error type %q, want %q", id, byID[id].ErrorType, want)
		}
	}
	if e := byID[6]; !e.FailedAt.Equal(at(-90*minute)) || e.Name != "Five9" || e.SyncType != "contacts" {
		t.Errorf("row 6: got %+v, want failed_at = its start, name Five9", e)
	}
	if m := byID[5].ErrorMessage; m != nil {
		t.Errorf("row 5: got message %q, want null", *m)
	}
	if m := byID[10].ErrorMessage; m == nil || strings.Contains(*m, "AIzaSyD-secret-key-123") {
		t.Errorf("row 10: got message %v, want the key masked", m)
	}
	// All 14 failures finished in the last 7 days.
	wantDist := dashboard.Counts{
		Labels: []string{"not_found", "authentication", "configuration", "connection", "rate_limit", "terminated", "unknown"},
		Data:   []int64{8, 1, 1, 1, 1, 1, 1},
	}
	if diff := cmp.Diff(wantDist, got.ErrorDistribution); diff != "" {
		t.Errorf("error distribution (-want +got):\n%s", diff)
	}
	// The last day only: rows 3, 4, 5, 6 (and 1, 2 finished 29-30 hours ago, on Oct 8).
	got1, err := d.Errors(ctx(t), 1)
	if err != nil {
		t.Fatal(err)
	}
	wantDist1 := dashboard.Counts{Labels: []string{"configuration", "connection", "terminated", "unknown"}, Data: []int64{1, 1, 1, 1}}
	if diff := cmp.Diff(wantDist1, got1.ErrorDistribution); diff != "" {
		t.Errorf("error distribution of one day (-want +got):\n%s", diff)
	}
}

func errorsFallback(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	msg := "Request failed after 3 attempts: HTTPSConnectionPool(host='api.five9.com', port=443): Read timed out. (read timeout=30)"
	fx.Insert(t,
		Row{ID: 1, CRMSource: "five9", Status: "failed", Start: at(-100 * day), End: end(-100 * day), ErrorMessage: &msg},
		Row{ID: 2, CRMSource: "five9", Status: "failed", Start: at(-20 * day)},
		Row{ID: 3, CRMSource: "five9", Status: "failed", Start: at(-hour), End: end(-hour)},
		Row{ID: 4, CRMSource: "five9", Status: "success", Start: at(-hour), End: end(-hour)},
	)
	got, err := d.Errors(ctx(t), 7)
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, e := range got.RecentErrors {
		ids = append(ids, e.ID)
	}
	if diff := cmp.Diff([]int64{3, 2, 1}, ids); diff != "" {
		t.Errorf("recent error ids (-want +got):\n%s", diff)
	}
	if got.RecentErrors[2].ErrorType != "timeout" {
		t.Errorf("got error type %q, want timeout", got.RecentErrors[2].ErrorType)
	}
	if diff := cmp.Diff(dashboard.Counts{Labels: []string{"unknown"}, Data: []int64{1}}, got.ErrorDistribution); diff != "" {
		t.Errorf("error distribution (-want +got):\n%s", diff)
	}
}

func errorsProblematic(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	var rows []Row
	add := func(source, status string, n int) {
		for range n {
			rows = append(rows, Row{CRMSource: source, Status: status, Start: at(-2 * hour), End: end(-hour)})
		}
	}
	add("hubspot", "failed", 1) // 1 of 4: 25
	add("hubspot", "success", 2)
	add("hubspot", "partial", 1)
	add("hubspot", "skipped", 5) // not in the total
	add("genius", "failed", 2)   // 2 of 8: 25, more failures than hubspot
	add("genius", "success", 6)
	add("arrivy", "failed", 1) // 1 of 3: 33.33
	add("arrivy", "success", 2)
	add("callrail", "failed", 1) // 1 of 4: 25, ties hubspot, after it by source
	add("callrail", "success", 3)
	add("five9", "failed", 1)  // 1 of 1: 100
	add("gsheet", "failed", 1) // 1 of 10: 10, sixth: cut
	add("gsheet", "success", 9)
	add("salespro", "success", 3) // no failures: not listed
	// Outside the shown days: a failure 8 days ago does not count.
	rows = append(rows, Row{CRMSource: "salespro", Status: "failed", Start: at(-8 * day), End: end(-8 * day)})
	fx.Insert(t, rows...)

	got, err := d.Errors(ctx(t), 7)
	if err != nil {
		t.Fatal(err)
	}
	want := []dashboard.ProblematicCRM{
		{Source: "five9", Name: "Five9", Failed: 1, Total: 1, FailureRate: 100},
		{Source: "arrivy", Name: "Arrivy", Failed: 1, Total: 3, FailureRate: 33.33},
		{Source: "genius", Name: "Genius", Failed: 2, Total: 8, FailureRate: 25},
		{Source: "callrail", Name: "CallRail", Failed: 1, Total: 4, FailureRate: 25},
		{Source: "hubspot", Name: "HubSpot", Failed: 1, Total: 4, FailureRate: 25},
	}
	if diff := cmp.Diff(want, got.ProblematicCRMs); diff != "" {
		t.Errorf("problematic crms (-want +got):\n%s", diff)
	}
}
