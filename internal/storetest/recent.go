package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

func recentIDs(t *testing.T, d *dashboard.Dashboard, q dashboard.RecentQuery) []int64 {
	t.Helper()
	got, err := d.RecentSyncs(ctx(t), q)
	if err != nil {
		t.Fatal(err)
	}
	if got.Total != len(got.Syncs) {
		t.Errorf("got total %d for %d syncs", got.Total, len(got.Syncs))
	}
	ids := []int64{}
	for _, s := range got.Syncs {
		ids = append(ids, s.ID)
	}
	return ids
}

func recentSyncs(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	fx.Insert(t,
		Row{ID: 1, CRMSource: "hubspot", Start: at(-3 * hour), End: end(-170 * minute)},
		Row{ID: 5, CRMSource: "hubspot", Status: "completed", Start: at(-2 * hour), End: end(-110 * minute)},
		Row{ID: 4, CRMSource: "genius", Status: "failed", Start: at(-2 * hour), End: end(-100 * minute)},
		Row{ID: 2, CRMSource: "genius", Status: "in_progress", Start: at(-time.Minute)},
		Row{ID: 3, CRMSource: "callrail", Status: "skipped", Start: at(-4 * hour), End: end(-4 * hour)},
		Row{ID: 6, CRMSource: "marketsharp", Start: at(-400 * day), End: end(-400 * day)},
	)
	cases := []struct {
		name string
		q    dashboard.RecentQuery
		want []int64
	}{
		{"newest first, ties by greater id", dashboard.RecentQuery{Limit: 20}, []int64{2, 5, 4, 1, 3, 6}},
		{"limit", dashboard.RecentQuery{Limit: 2}, []int64{2, 5}},
		{"one crm", dashboard.RecentQuery{Limit: 20, CRMSource: "genius"}, []int64{2, 4}},
		{"a crm whose rows are old", dashboard.RecentQuery{Limit: 20, CRMSource: "marketsharp"}, []int64{6}},
		{"a crm without rows", dashboard.RecentQuery{Limit: 20, CRMSource: "nosuchcrm"}, []int64{}},
		{"success includes the completed alias", dashboard.RecentQuery{Limit: 20, Status: "success"}, []int64{5, 1, 6}},
		{"running includes the in_progress alias", dashboard.RecentQuery{Limit: 20, Status: "running"}, []int64{2}},
		{"an unknown status", dashboard.RecentQuery{Limit: 20, Status: "skipped"}, []int64{3}},
		{"crm and status", dashboard.RecentQuery{Limit: 1, CRMSource: "hubspot", Status: "success"}, []int64{5}},
	}
	for _, c := range cases {
		if got := recentIDs(t, d, c.q); !cmp.Equal(c.want, got) {
			t.Errorf("%s: got ids %v, want %v", c.name, got, c.want)
		}
	}
	got, err := d.RecentSyncs(ctx(t), dashboard.RecentQuery{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	first, second := got.Syncs[0], got.Syncs[1]
	if first.Status != "running" || first.EndTime != nil || first.DurationSeconds != nil || first.Name != "Genius" {
		t.Errorf("got running row %+v, want status running, no end, no duration, name Genius", first)
	}
	if second.Status != "success" || second.DurationSeconds == nil || *second.DurationSeconds != 600 {
		t.Errorf("got completed row %+v, want status success and 600 s", second)
	}

	// Rows written after the default figures were computed: a brand-new CRM's first row,
	// and a new row of a CRM whose other rows are old. Filtering by CRM finds both.
	fx.Insert(t,
		Row{ID: 7, CRMSource: "brandnew", Start: at(-time.Minute)},
		Row{ID: 8, CRMSource: "marketsharp", Start: at(-2 * time.Minute)},
	)
	for crm, want := range map[string][]int64{"brandnew": {7}, "marketsharp": {8, 6}} {
		if got := recentIDs(t, d, dashboard.RecentQuery{Limit: 19, CRMSource: crm}); !cmp.Equal(want, got) {
			t.Errorf("crm %s after new rows: got ids %v, want %v", crm, got, want)
		}
	}
}

func recentSyncMessages(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	huge := "Traceback (most recent call last):\n" + strings.Repeat("  File \"sync.py\", line 1, in run\n", 6500) +
		"requests.exceptions.ReadTimeout: read timeout=30"
	html := `<script>alert(1)</script><img src=x onerror="alert(2)">`
	keyInURL := "401 Client Error: Unauthorized for url: https://api.hubapi.com/crm/v3/objects/contacts?hapikey=sk-live-9f8e7d6c5b4a&limit=100"
	// Just too long to show whole… but whole it is read: a store must not drop its
	// middle without saying so, nor the last line that names the exception.
	midsize := "Traceback (most recent call last):\n" + strings.Repeat("  File \"sync.py\", line 1, in run\n", 120) +
		"requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.five9.com', port=443): Read timed out."
	// A secret whose name falls before the cut and whose value after it.
	straddling := strings.Repeat("x", 5000-1200) + "?api_key=SECRETKEY0123456789abcdefSECRETKEY&page=2" + strings.Repeat("y", 1150)
	fx.Insert(t,
		Row{ID: 5, CRMSource: "five9", Status: "failed", Start: at(-5 * hour), End: end(-5 * hour), ErrorMessage: &midsize},
		Row{ID: 6, CRMSource: "five9", Status: "failed", Start: at(-6 * hour), End: end(-6 * hour), ErrorMessage: &straddling},
		Row{ID: 1, CRMSource: "hubspot", Status: "failed", Start: at(-4 * hour), End: end(-4 * hour), ErrorMessage: &huge},
		Row{ID: 2, CRMSource: "hubspot", Status: "failed", Start: at(-3 * hour), End: end(-3 * hour), ErrorMessage: &html},
		Row{ID: 3, CRMSource: "hubspot", Status: "failed", Start: at(-2 * hour), End: end(-2 * hour), ErrorMessage: &keyInURL},
		Row{ID: 4, CRMSource: "hubspot", Status: "failed", Start: at(-hour), End: end(-hour)},
	)
	got, err := d.RecentSyncs(ctx(t), dashboard.RecentQuery{Limit: 20})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[int64]dashboard.SyncRun{}
	for _, s := range got.Syncs {
		byID[s.ID] = s
	}
	if m := byID[4].ErrorMessage; m != nil {
		t.Errorf("NULL message: got %q, want null", *m)
	}
	if m := byID[2].ErrorMessage; m == nil || *m != html {
		t.Errorf("HTML message: got %v, want it verbatim (the page inserts it as text)", m)
	}
	if m := byID[3].ErrorMessage; m == nil || strings.Contains(*m, "sk-live-9f8e7d6c5b4a") || !strings.Contains(*m, "api.hubapi.com") {
		t.Errorf("message with a key in a URL: got %v, want the URL with the key masked", m)
	}
	m := byID[1].ErrorMessage
	if m == nil || len(*m) > 5000 || !strings.Contains(*m, "characters cut") ||
		!strings.HasPrefix(*m, "Traceback") || !strings.HasSuffix(*m, "read timeout=30") {
		t.Errorf("200 KB message: got %d bytes, want its head and tail (under 5000 bytes) saying it was cut", len(*m))
	}
	if typ := byID[1].ErrorType; typ == nil || *typ != "timeout" {
		t.Errorf("200 KB traceback: got error type %v, want timeout from its last line", typ)
	}
	if m := byID[5].ErrorMessage; m == nil || *m != midsize {
		t.Errorf("a %d-character message: got %d characters, want it whole", len(midsize), len(*m))
	}
	if typ := byID[5].ErrorType; typ == nil || *typ != "timeout" {
		t.Errorf("a %d-character traceback: got error type %v, want timeout from its last line", len(midsize), typ)
	}
	if m := byID[6].ErrorMessage; m == nil || strings.Contains(*m, "KEY0123456789abcdef") || !strings.Contains(*m, "characters cut") {
		t.Errorf("a secret crossing the cut: got %v, want the message cut and the secret masked", m)
	}
}
