package demo_test

import (
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/demo"
	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// now is the instant the tests look from: a Thursday, 10:30 UTC.
var now = time.Date(2025, time.October, 9, 10, 30, 0, 0, time.UTC)

func all(h *demo.History) []demo.Row {
	var rows []demo.Row
	for {
		r, ok := h.Next()
		if !ok {
			return rows
		}
		rows = append(rows, r)
	}
}

func TestHistoryIsDeterministic(t *testing.T) {
	t.Parallel()
	from := now.Add(-3 * 24 * time.Hour)
	a := all(demo.NewHistory(7, from, now))
	b := all(demo.NewHistory(7, from, now))
	if diff := cmp.Diff(a, b); diff != "" {
		t.Errorf("same seed, same span: rows differ (-first +second):\n%s", diff)
	}
	c := all(demo.NewHistory(8, from, now))
	if cmp.Equal(a, c) {
		t.Error("seeds 7 and 8: got the same rows, want different ones")
	}
	// A row depends on its hour alone, not on where the span began.
	longer := all(demo.NewHistory(7, from.Add(-48*time.Hour), now))
	if diff := cmp.Diff(a, longer[len(longer)-len(a):]); diff != "" {
		t.Errorf("the same hours from a longer span differ (-short +long):\n%s", diff)
	}
}

func TestHistoryLengths(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		to   time.Time
	}{
		{"ending on the hour", now.Truncate(time.Hour)},
		{"ending mid-hour", now},
		{"ending during genius's hourly run", now.Truncate(time.Hour).Add(8*time.Minute + 30*time.Second)},
		{"ending during the nightly full sync", time.Date(2025, 10, 9, 2, 45, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		from := c.to.Add(-3 * 24 * time.Hour)
		h := demo.NewHistory(1, from, c.to)
		rows := all(h)
		if int64(len(rows)) != h.Len() {
			t.Errorf("%s: got %d rows, want Len() = %d", c.name, len(rows), h.Len())
		}
		for _, r := range rows {
			if !r.Start.Before(c.to) {
				t.Errorf("%s: got a row starting at %v, want every row started before %v", c.name, r.Start, c.to)
				break
			}
		}
		for _, n := range []int64{1, 57, 1000, 3000} {
			last := demo.LastRows(1, n, c.to)
			got := all(last)
			if int64(len(got)) != n || last.Len() != n {
				t.Errorf("%s: last %d rows: got %d rows, Len() %d", c.name, n, len(got), last.Len())
				continue
			}
			if diff := cmp.Diff(rows[len(rows)-int(n):], got); diff != "" {
				t.Errorf("%s: last %d rows differ from the end of the history (-want +got):\n%s", c.name, n, diff)
			}
		}
	}
}

// TestHistoryIsRealistic checks the 30 days of the demo against real-world-facts.md.
func TestHistoryIsRealistic(t *testing.T) {
	t.Parallel()
	rows := all(demo.NewHistory(demo.Seed, now.Add(-30*24*time.Hour), now))

	perDay := float64(len(rows)) / 30
	if perDay < 1200 || perDay > 1600 {
		t.Errorf("got %.0f rows a day, want about 1,400", perDay)
	}
	statuses := map[string]int{}
	types := map[string]map[string]bool{}
	errorTypes := map[errclass.Type]int{}
	var multiLine, keyInURL, hubspotKey, cleanup, long int
	type stat struct{ records, seconds, n float64 }
	byEntity := map[string]*stat{}
	for _, r := range rows {
		statuses[r.Status]++
		if types[r.CRMSource] == nil {
			types[r.CRMSource] = map[string]bool{}
		}
		types[r.CRMSource][r.SyncType] = true
		if r.Status == "failed" {
			errorTypes[errclass.Classify(r.ErrorMessage)]++
		}
		if m := r.ErrorMessage; m != nil {
			multiLine += b2i(strings.Count(*m, "\n") > 3 && strings.HasPrefix(*m, "Traceback"))
			keyInURL += b2i(strings.Contains(*m, "api_key="))
			hubspotKey += b2i(strings.Contains(*m, "hapikey="))
			cleanup += b2i(strings.HasSuffix(*m, "(auto-marked failed by cleanup_stale_syncs; no heartbeat for too long)"))
			long += b2i(len(*m) > syncs.MessageHead+syncs.MessageTail)
		}
		if r.End != nil && r.End.Before(r.Start) {
			t.Errorf("row %+v ends before it starts", r)
		}
		if r.RecordsCreated+r.RecordsUpdated+r.RecordsFailed != r.RecordsProcessed || r.RecordsCreated < 0 || r.RecordsUpdated < 0 {
			t.Errorf("row %s/%s: got created %d + updated %d + failed %d, want processed %d", r.CRMSource, r.SyncType,
				r.RecordsCreated, r.RecordsUpdated, r.RecordsFailed, r.RecordsProcessed)
		}
		// Shape A's sync_type is varchar(50); shape B's endpoint varchar(200).
		if len(r.SyncType) > 50 || len(r.Endpoint) > 200 || !json.Valid([]byte(r.PerformanceMetrics)) || !json.Valid([]byte(r.Configuration)) {
			t.Errorf("row %+v does not fit both table shapes", r)
		}
		if r.Status == "success" || r.Status == "completed" {
			s := byEntity[r.CRMSource+"/"+r.SyncType]
			if s == nil {
				s = &stat{}
				byEntity[r.CRMSource+"/"+r.SyncType] = s
			}
			s.records += float64(r.RecordsProcessed)
			s.seconds += r.End.Sub(r.Start).Seconds()
			s.n++
		}
	}

	failed := float64(statuses["failed"]) / float64(len(rows))
	if failed < 0.01 || failed > 0.06 {
		t.Errorf("got %.1f%% failed, want a few percent", 100*failed)
	}
	for _, s := range []string{"success", "completed", "failed", "partial", "skipped"} {
		if statuses[s] == 0 {
			t.Errorf("got no %s rows, want some", s)
		}
	}
	var sources []string
	for s := range types {
		sources = append(sources, s)
	}
	wantSources := []string{"arrivy", "callrail", "five9", "genius", "gsheet", "hubspot", "leadconduit", "salespro", "salesrabbit"}
	slices.Sort(sources)
	if diff := cmp.Diff(wantSources, sources); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	if n := len(types["genius"]); n < 31 || !types["genius"]["all"] {
		t.Errorf("genius: got %d sync types, want about 30 and all", n)
	}
	for _, typ := range errclass.Types() {
		if errorTypes[typ] == 0 {
			t.Errorf("got no failure of error type %s, want every type", typ)
		}
	}
	for name, n := range map[string]int{"multi-line tracebacks": multiLine, "api_key in a URL": keyInURL,
		"hapikey in a URL": hubspotKey, "cleanup suffixes": cleanup, "messages longer than the cut": long} {
		if n == 0 {
			t.Errorf("got no %s, want some", name)
		}
	}
	mean := func(key string) (records, seconds float64) {
		s := byEntity[key]
		return s.records / s.n, s.seconds / s.n
	}
	contactsRecords, contactsSeconds := mean("hubspot/contacts")
	ownersRecords, ownersSeconds := mean("hubspot/owners")
	callsRecords, _ := mean("callrail/calls")
	if contactsRecords < 10*ownersRecords || contactsSeconds < 10*ownersSeconds || math.Abs(contactsRecords-callsRecords) < 100 {
		t.Errorf("got hubspot contacts %.0f records in %.0f s, owners %.0f in %.0f s, callrail calls %.0f: want them to differ by entity and CRM",
			contactsRecords, contactsSeconds, ownersRecords, ownersSeconds, callsRecords)
	}
}

// TestHourlyRunsStartAtEachCRMsMinute: beat sends each CRM's hourly task at its minute,
// and the task's first run starts seconds later, every hour.
func TestHourlyRunsStartAtEachCRMsMinute(t *testing.T) {
	t.Parallel()
	minutes := map[string]int{"hubspot": 0, "arrivy": 2, "leadconduit": 4, "five9": 6, "genius": 8,
		"salespro": 10, "callrail": 12, "gsheet": 14, "salesrabbit": 16}
	from := now.Add(-48 * time.Hour).Truncate(time.Hour)
	to := now.Truncate(time.Hour)
	first := map[string]map[time.Time]time.Time{} // source → hour → first start in the quarter hour
	for _, r := range all(demo.NewHistory(demo.Seed, from, to)) {
		if r.Start.Minute() > 20 || strings.Contains(r.Configuration, `"force_overwrite": true`) {
			continue // the interval and full syncs
		}
		h := r.Start.Truncate(time.Hour)
		if first[r.CRMSource] == nil {
			first[r.CRMSource] = map[time.Time]time.Time{}
		}
		if f, ok := first[r.CRMSource][h]; !ok || r.Start.Before(f) {
			first[r.CRMSource][h] = r.Start
		}
	}
	for source, minute := range minutes {
		if len(first[source]) != 48 {
			t.Errorf("%s: got runs in %d hours, want 48", source, len(first[source]))
		}
		for h, start := range first[source] {
			at := h.Add(time.Duration(minute) * time.Minute)
			if start.Before(at) || start.After(at.Add(10*time.Second)) {
				t.Errorf("%s: got the first run of %v at %v, want it within seconds after :%02d", source, h, start, minute)
			}
		}
	}
}

// TestRowAt shows a row as the table holds it during and after its run.
func TestRowAt(t *testing.T) {
	t.Parallel()
	end := now.Add(time.Minute)
	msg := "HTTP 429: Too Many Requests"
	final := demo.Row{CRMSource: "genius", SyncType: "marketing_sources", Status: "failed", RunningStatus: "in_progress",
		Start: now, End: &end, RecordsProcessed: 5, RecordsUpdated: 5, ErrorMessage: &msg,
		PerformanceMetrics: `{"duration_seconds": 60}`, Configuration: "{}"}
	if _, ok := final.At(now); ok {
		t.Error("at its start: got a row, want none yet")
	}
	running, ok := final.At(now.Add(time.Second))
	if !ok || running.Status != "in_progress" || running.End != nil || running.RecordsProcessed != 0 ||
		running.ErrorMessage != nil || running.PerformanceMetrics != "{}" {
		t.Errorf("while running: got %+v, want in_progress with nothing of its outcome", running)
	}
	done, ok := final.At(end)
	if !ok || !cmp.Equal(done, final) {
		t.Errorf("at its end: got %+v, want the final row", done)
	}
}

func BenchmarkHistory(b *testing.B) {
	h := demo.LastRows(1, int64(b.N), now)
	b.ResetTimer()
	for range b.N {
		h.Next()
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
