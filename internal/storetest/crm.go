package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func crmStatus(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	fx.Insert(t,
		// hubspot: two latest rows start at the same instant; the greater id is the latest.
		// Its last success is the long run that finished last, not the one started last.
		Row{ID: 100, CRMSource: "hubspot", Start: at(-5 * hour), End: end(-10 * minute), RecordsProcessed: 9},
		Row{ID: 110, CRMSource: "hubspot", Start: at(-hour), End: end(-50 * minute), RecordsProcessed: 100},
		Row{ID: 111, CRMSource: "hubspot", Status: "failed", Start: at(-hour), End: end(-55 * minute),
			RecordsProcessed: 7, RecordsCreated: 1, RecordsUpdated: 2},
		// callrail: running now.
		Row{ID: 200, CRMSource: "callrail", Start: at(-2 * hour), End: end(-118 * minute)},
		Row{ID: 201, CRMSource: "callrail", Status: "running", Start: at(-5 * minute), RecordsProcessed: 3},
		// genius: the completed alias, 125 s, 1523 records: 12.184 records/s.
		Row{ID: 300, CRMSource: "genius", Status: "completed", Start: at(-20 * minute),
			End: ptr(at(-20*minute + 125*time.Second)), RecordsProcessed: 1523, RecordsCreated: 15, RecordsUpdated: 1508},
		// salesrabbit: latest ends before it starts (unknown duration); its last success has
		// no end_time, so it finished at its start.
		Row{ID: 400, CRMSource: "salesrabbit", Start: at(-3 * hour)},
		Row{ID: 401, CRMSource: "salesrabbit", Status: "failed", Start: at(-10 * minute), End: end(-20 * minute), RecordsProcessed: 50},
		// arrivy: zero duration: 0 s, records per second unknown.
		Row{ID: 500, CRMSource: "arrivy", Start: at(-30 * minute), End: end(-30 * minute), RecordsProcessed: 10},
		// five9: seen only 40 days ago; configured, so still shown.
		Row{ID: 600, CRMSource: "five9", Start: at(-40 * day), End: ptr(at(-40*day + time.Minute)), RecordsProcessed: 5},
		// leadconduit: an unknown status is passed through.
		Row{ID: 700, CRMSource: "leadconduit", Status: "skipped", Start: at(-15 * minute), End: end(-15 * minute)},
		// salespro: never succeeded.
		Row{ID: 800, CRMSource: "salespro", Status: "failed", Start: at(-2 * hour), End: end(-hour)},
	)
	got, err := d.CRMStatus(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Source, Name, Status        string
		LastSync, LastSuccess       *time.Time
		Running                     int64
		Processed, Created, Updated *int64
		Duration, PerSecond         *float64
	}
	var gotRows []row
	for _, c := range got.CRMs {
		gotRows = append(gotRows, row{c.Source, c.Name, c.Status, c.LastSync, c.LastSuccess, c.Running,
			c.RecordsProcessed, c.RecordsCreated, c.RecordsUpdated, c.DurationSeconds, c.RecordsPerSecond})
	}
	n := func(v int64) *int64 { return &v }
	want := []row{
		{"hubspot", "HubSpot", "failed", end(-55 * minute), end(-10 * minute), 0, n(7), n(1), n(2), ptr(300.0), ptr(0.02)},
		{"callrail", "CallRail", "running", nil, end(-118 * minute), 1, n(3), n(0), n(0), nil, nil},
		{"genius", "Genius", "success", ptr(at(-20*minute + 125*time.Second)), ptr(at(-20*minute + 125*time.Second)), 0, n(1523), n(15), n(1508), ptr(125.0), ptr(12.18)},
		{"salesrabbit", "SalesRabbit", "failed", end(-20 * minute), end(-3 * hour), 0, n(50), n(0), n(0), nil, nil},
		{"arrivy", "Arrivy", "success", end(-30 * minute), end(-30 * minute), 0, n(10), n(0), n(0), ptr(0.0), nil},
		{"five9", "Five9", "success", ptr(at(-40*day + time.Minute)), ptr(at(-40*day + time.Minute)), 0, n(5), n(0), n(0), ptr(60.0), ptr(0.08)},
		{"marketsharp", "MarketSharp", "never", nil, nil, 0, nil, nil, nil, nil, nil},
		{"leadconduit", "LeadConduit", "skipped", end(-15 * minute), nil, 0, n(0), n(0), n(0), ptr(0.0), nil},
		{"salespro", "SalesPro", "failed", end(-hour), nil, 0, n(0), n(0), n(0), ptr(3600.0), ptr(0.0)},
		{"gsheet", "Google Sheets", "never", nil, nil, 0, nil, nil, nil, nil, nil},
	}
	if diff := cmp.Diff(want, gotRows); diff != "" {
		t.Errorf("crm status (-want +got):\n%s", diff)
	}
	for _, c := range got.CRMs {
		if c.NextSync != nil {
			t.Errorf("%s: got next_sync %v without any schedule, want null", c.Source, c.NextSync)
		}
	}
}

func crmStatusOthers(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	fx.Insert(t,
		Row{CRMSource: "zeta", Start: at(-2 * day), End: end(-2 * day)},
		Row{CRMSource: "acme", Start: at(-29 * day), End: end(-29 * day)},
		Row{CRMSource: "oldcrm", Start: at(-40 * day), End: end(-40 * day)},
		// A source whose only row is from a clock ahead of ours has no row in the last 30
		// days; one with a future row and a recent one has.
		Row{CRMSource: "ahead", Start: at(2 * day)},
		Row{CRMSource: "ahead2", Start: at(2 * day)},
		Row{CRMSource: "ahead2", Start: at(-day), End: end(-day)},
	)
	got, err := d.CRMStatus(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	for _, c := range got.CRMs {
		sources = append(sources, c.Source)
	}
	want := []string{"hubspot", "callrail", "genius", "salesrabbit", "arrivy", "five9",
		"marketsharp", "leadconduit", "salespro", "gsheet", "acme", "ahead2", "zeta"}
	if diff := cmp.Diff(want, sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	for _, c := range got.CRMs {
		if c.Source == "acme" && (c.Name != "acme" || c.Status != "success") {
			t.Errorf("acme: got name %q status %q, want the source as stored and success", c.Name, c.Status)
		}
	}
}
