package storetest

import (
	"bytes"
	stdcmp "cmp"
	"encoding/csv"
	"errors"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The oracle of the drill-down: docs/api.md's definitions of a CRM's page, the history and
// one run, read literally over all the random rows, in plain Go.

// checkDrillDown compares every drill-down answer with the oracle's.
func (o oracle) checkDrillDown(t *testing.T, d *dashboard.Dashboard) {
	status, err := d.CRMStatus(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]dashboard.CRMStatus{}
	for _, c := range status.CRMs {
		headers[c.Source] = c
	}
	for _, source := range []string{crmBusy1, crmBusy2, crmBusy3, crmBusy4, crmUnknown, crmOnlyOld, crmUnknownOld,
		crmOnlyRuns, crmEdge, crmAhead, crmTieA, "marketsharp"} {
		// 90 days: the charts read further back than the entities' 30 days (From before
		// Since), the one case where the two row sets of the summary differ.
		for _, days := range []int{7, 30, 90} {
			got, err := d.CRM(ctx(t), source, days)
			if err != nil {
				t.Fatalf("seed %d: crm %s: %v", o.seed, source, err)
			}
			want := o.crmPage(source, days)
			if h, ok := headers[source]; ok {
				want.CRM = h
			} else {
				// Not on the overview: its header is made the same way from its own rows.
				want.CRM = o.crmHeader(source)
			}
			got.Meta = dashboard.Meta{}
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("seed %d: api/crms/%s/?days=%d (-oracle +dashboard):\n%s", o.seed, source, days, clip(diff))
			}
		}
	}
	if _, err := d.CRM(ctx(t), "nosuchcrm", 7); !errors.Is(err, dashboard.ErrNotFound) {
		t.Errorf("seed %d: crm nosuchcrm: got %v, want not found", o.seed, err)
	}

	secs := func(n int64) *int64 { return &n }
	queries := []dashboard.HistoryQuery{
		{},
		{CRMSources: []string{crmBusy2}},
		{CRMSources: []string{crmBusy1, crmUnknown, "nosuchcrm"}},
		{SyncType: "deals"},
		{CRMSources: []string{crmBusy3}, SyncType: "all"},
		{Statuses: []string{"success"}},
		{Statuses: []string{"running", "skipped", "cancelled"}},
		{CRMSources: []string{crmBusy2}, Statuses: []string{"failed", "partial"}},
		{From: Now.Add(-3 * day), To: Now.Add(-day)},
		{From: Now.Add(-day)},
		{To: Now.Add(-20 * day), Statuses: []string{"failed"}},
		{ErrorType: "rate_limit"},
		{ErrorType: "terminated", CRMSources: []string{crmBusy1, crmBusy2}},
		{Text: "connect"},
		{Text: "api_key=***"},
		{Text: "ZÜRICH"}, // PostgreSQL's ILIKE finds zürich, which the shown text does not hold
		{Text: "Zürich"},
		{Text: "hunter2secret"}, // masked: found nowhere
		{MinDurationSeconds: secs(3600)},
		{MinDurationSeconds: secs(0), CRMSources: []string{crmBusy4}},
	}
	for _, q := range queries {
		o.checkHistory(t, d, q)
	}
	o.checkCSV(t, d, dashboard.HistoryQuery{Limit: dashboard.MaxExportRows})
	o.checkCSV(t, d, dashboard.HistoryQuery{Limit: 100, Statuses: []string{"failed"}, Text: "a"})

	// A sample of runs, in full: every row of some CRMs.
	for _, r := range o.rows {
		if r.CRMSource == crmOnlyRuns || r.CRMSource == crmTieB || r.CRMSource == crmEdge || r.id%37 == 0 {
			o.checkRun(t, d, r)
		}
	}
}

// window is the rows of a source started in the last 30 days.
func (o oracle) window(source string) history {
	var w history
	for _, r := range o.rows {
		if r.CRMSource == source && !r.Start.Before(Now.Add(-30*day)) {
			w = append(w, r)
		}
	}
	slices.SortFunc(w, startedLater)
	return w
}

func succeededRow(r histRow) bool { return r.status == "success" || r.status == "partial" }

// rank is the nearest-rank p-th percentile of sorted values.
func rank(sorted []int64, p int) int64 {
	// ⌈p·n/100⌉, computed exactly.
	n := new(big.Rat).SetFrac64(int64(p*len(sorted)), 100)
	k := new(big.Int).Quo(n.Num(), n.Denom())
	if new(big.Rat).SetInt(k).Cmp(n) < 0 {
		k.Add(k, big.NewInt(1))
	}
	return sorted[max(k.Int64(), 1)-1]
}

func medianOf(values []int64) *float64 {
	if len(values) == 0 {
		return nil
	}
	s := slices.Sorted(slices.Values(values))
	n := len(s)
	sum := new(big.Rat).SetInt64(s[(n-1)/2])
	sum.Add(sum, new(big.Rat).SetInt64(s[n/2]))
	f, _ := sum.Quo(sum, big.NewRat(2, 1)).Float64()
	return &f
}

func (o oracle) crmPage(source string, days int) dashboard.CRMResponse {
	w := o.window(source)
	r := dashboard.CRMResponse{SeenIn30Days: len(w) > 0, Running: []dashboard.RunningRun{}}
	byType := map[string]history{}
	for _, row := range w {
		byType[row.SyncType] = append(byType[row.SyncType], row)
	}
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range byType {
			if !yield(k) {
				return
			}
		}
	}) {
		rows := byType[name] // newest first
		e := dashboard.EntityFigures{SyncType: name}
		latest := rows[0]
		e.LastRun = dashboard.RunRef{ID: latest.id, Status: latest.status, StartTime: latest.Start}
		if latest.status != "running" {
			e.LastRun.EndTime = latest.End
		}
		if us, ok := latest.durationMicros(); ok {
			e.LastRun.DurationSeconds = ptr(seconds(us))
		}
		var durations, records []int64
		var week struct{ success, failed, partial int64 }
		streak := true
		var successes history
		for _, row := range rows {
			if !row.Start.Before(Now.Add(-7 * day)) {
				e.Runs7d++
				switch row.status {
				case "success":
					week.success++
				case "failed":
					week.failed++
				case "partial":
					week.partial++
				}
			}
			if succeededRow(row) {
				streak = false
				successes = append(successes, row)
				at, _ := row.finishedAt()
				if e.LastSuccess == nil || at.After(*e.LastSuccess) {
					e.LastSuccess = ptr(at)
				}
				if us, ok := row.durationMicros(); ok {
					durations = append(durations, us)
				}
				records = append(records, row.RecordsProcessed)
			} else if row.status == "failed" && streak {
				e.ConsecutiveFailures++
			}
		}
		for _, row := range rows {
			if row.status != "running" {
				e.RecordsLast = ptr(row.RecordsProcessed)
				break
			}
		}
		e.Failed7d = week.failed
		e.SuccessRate7d = percent(week.success, week.success+week.failed+week.partial)
		slices.Sort(durations)
		e.DurationRuns = int64(len(durations))
		if len(durations) > 0 {
			e.DurationP50 = ptr(seconds(rank(durations, 50)))
			e.DurationP95 = ptr(seconds(rank(durations, 95)))
		}
		e.RecordsMedian30d = medianOf(records)
		e.Marks.FailureStreak = e.ConsecutiveFailures >= 2
		if len(successes) >= 3 && successes[0].RecordsProcessed == 0 && successes[1].RecordsProcessed == 0 && successes[2].RecordsProcessed == 0 {
			first := successes[2].Start
			var before []int64
			for _, row := range o.rows {
				if row.CRMSource == source && row.SyncType == name && succeededRow(row) &&
					!row.Start.Before(first.Add(-30*day)) && row.Start.Before(first) {
					before = append(before, row.RecordsProcessed)
				}
			}
			if m := medianOf(before); m != nil && *m > 0 {
				e.Marks.EmptyRuns, e.Marks.EmptyRunsMedian = true, m
			}
		}
		for _, row := range slices.Backward(rows) {
			if row.status != "running" {
				continue
			}
			rr := dashboard.RunningRun{ID: row.id, SyncType: name, StartTime: row.Start, ElapsedSeconds: seconds(Now.Sub(row.Start).Microseconds()),
				DurationP95: e.DurationP95, DurationRuns: e.DurationRuns, Stuck: stuck(row)}
			rr.Slow = !rr.Stuck && len(durations) >= 10 && Now.Sub(row.Start).Microseconds() > rank(durations, 95)
			e.Marks.Slow = e.Marks.Slow || rr.Slow
			r.Running = append(r.Running, rr)
		}
		r.Entities = append(r.Entities, e)
	}
	slices.SortFunc(r.Running, func(a, b dashboard.RunningRun) int {
		return stdcmp.Or(a.StartTime.Compare(b.StartTime), stdcmp.Compare(a.ID, b.ID))
	})
	for _, row := range w {
		if row.status == "failed" && len(r.RecentFailures) < 10 {
			at, _ := row.finishedAt()
			r.RecentFailures = append(r.RecentFailures, dashboard.ErrorEntry{ID: row.id, CRMSource: source,
				Name: syncs.DisplayName(source), SyncType: row.SyncType, FailedAt: at,
				ErrorType: string(errclass.Classify(row.ErrorMessage)), ErrorMessage: shownMessage(row.ErrorMessage)})
		}
	}
	r.Charts = o.crmCharts(source, days)
	return r
}

func (o oracle) crmCharts(source string, n int) dashboard.CRMCharts {
	days := lastDays(n, o.loc)
	c := dashboard.CRMCharts{Days: n, TimeZone: o.loc.String(), Labels: days.labels, Records: make([]int64, n),
		SuccessRate: make([]*float64, n)}
	rates := make([]struct{ s, f, p int64 }, n)
	type entity struct {
		total  int64
		micros []int64
		timed  []bool
	}
	entities := map[string]*entity{}
	for _, r := range o.rows {
		i, ok := days.day(r.Start)
		if r.CRMSource != source || !ok {
			continue
		}
		if r.status != "running" {
			c.Records[i] += r.RecordsProcessed
		}
		switch r.status {
		case "success":
			rates[i].s++
		case "failed":
			rates[i].f++
		case "partial":
			rates[i].p++
		}
		if us, ok := r.durationMicros(); ok && succeededRow(r) {
			e := entities[r.SyncType]
			if e == nil {
				e = &entity{micros: make([]int64, n), timed: make([]bool, n)}
				entities[r.SyncType] = e
			}
			e.micros[i] += us
			e.timed[i] = true
			e.total += us
		}
	}
	for i, x := range rates {
		c.SuccessRate[i] = percent(x.s, x.s+x.f+x.p)
	}
	var names []string
	for name := range entities {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		return stdcmp.Or(stdcmp.Compare(entities[b].total, entities[a].total), strings.Compare(a, b))
	})
	series := func(name string, parts []string) dashboard.Series {
		s := dashboard.Series{Name: name, Data: make([]*float64, n)}
		for i := range n {
			var sum int64
			timed := false
			for _, p := range parts {
				sum += entities[p].micros[i]
				timed = timed || entities[p].timed[i]
			}
			if timed {
				s.Data[i] = ptr(roundHalfAway(big.NewInt(sum), big.NewInt(1_000_000), 1))
			}
		}
		return s
	}
	for i, name := range names {
		if i == 5 && len(names) > 6 {
			c.DurationByEntity = append(c.DurationByEntity, series("(other)", names[5:]))
			break
		}
		c.DurationByEntity = append(c.DurationByEntity, series(name, []string{name}))
	}
	return c
}

// crmHeader is a CRM's line of api/crm-status/ from its rows (a CRM's page makes it the
// same way for a CRM the overview does not list).
func (o oracle) crmHeader(source string) dashboard.CRMStatus {
	c := dashboard.CRMStatus{Source: source, Name: syncs.DisplayName(source), Status: "never"}
	var latest *histRow
	for i, r := range o.rows {
		if r.CRMSource != source {
			continue
		}
		if latest == nil || startedLater(r, *latest) < 0 {
			latest = &o.rows[i]
		}
		if r.status == "running" {
			c.Running++
			if stuck(r) {
				c.Stuck++
			}
		}
		if at, _ := r.finishedAt(); r.status == "success" && (c.LastSuccess == nil || at.After(*c.LastSuccess)) {
			c.LastSuccess = ptr(at)
		}
	}
	if latest != nil {
		c.Status, c.SyncType, c.LastStart = latest.status, ptr(latest.SyncType), ptr(latest.Start)
		if latest.status != "running" {
			c.LastSync = latest.End
		}
		c.RecordsProcessed, c.RecordsCreated, c.RecordsUpdated = ptr(latest.RecordsProcessed), ptr(latest.RecordsCreated), ptr(latest.RecordsUpdated)
		if us, ok := latest.durationMicros(); ok {
			c.DurationSeconds = ptr(seconds(us))
			c.RecordsPerSecond = recordsPerSecond(latest.RecordsProcessed, us)
		}
	}
	return c
}

// syncRun is a row as the history and recent-syncs show it.
func (o oracle) syncRun(r histRow) dashboard.SyncRun {
	s := dashboard.SyncRun{
		ID: r.id, CRMSource: r.CRMSource, Name: syncs.DisplayName(r.CRMSource), SyncType: r.SyncType,
		Status: r.status, StartTime: r.Start, EndTime: r.End,
		RecordsProcessed: ptr(r.RecordsProcessed), RecordsCreated: ptr(r.RecordsCreated),
		RecordsUpdated: ptr(r.RecordsUpdated), RecordsFailed: ptr(r.RecordsFailed),
		ErrorMessage: shownMessage(r.ErrorMessage), Stuck: stuck(r),
	}
	if us, ok := r.durationMicros(); ok {
		s.DurationSeconds = ptr(seconds(us))
		s.RecordsPerSecond = recordsPerSecond(r.RecordsProcessed, us)
	}
	if r.status == "failed" {
		s.ErrorType = ptr(string(errclass.Classify(r.ErrorMessage)))
	}
	return s
}

// history is every row q selects, newest first.
func (o oracle) history(q dashboard.HistoryQuery) history {
	var sel history
	for _, r := range o.rows {
		switch {
		case len(q.CRMSources) > 0 && !slices.Contains(q.CRMSources, r.CRMSource),
			q.SyncType != "" && r.SyncType != q.SyncType,
			len(q.Statuses) > 0 && !slices.Contains(q.Statuses, r.status),
			!q.From.IsZero() && r.Start.Before(q.From),
			!q.To.IsZero() && !r.Start.Before(q.To),
			q.ErrorType != "" && (r.status != "failed" || string(errclass.Classify(r.ErrorMessage)) != q.ErrorType):
			continue
		}
		if q.MinDurationSeconds != nil {
			us, ok := r.durationMicros()
			if !ok || us <= *q.MinDurationSeconds*1_000_000 {
				continue
			}
		}
		if q.Text != "" {
			shown := shownMessage(r.ErrorMessage)
			if shown == nil || !strings.Contains(asciiLower(*shown), asciiLower(q.Text)) {
				continue
			}
		}
		sel = append(sel, r)
	}
	slices.SortFunc(sel, startedLater)
	return sel
}

func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, s)
}

// checkHistory reads every page of q, 7 rows at a time, and compares them with the oracle.
func (o oracle) checkHistory(t *testing.T, d *dashboard.Dashboard, q dashboard.HistoryQuery) {
	t.Helper()
	want := o.history(q)
	var got []dashboard.SyncRun
	q.Limit = 7
	for page := 0; ; page++ {
		if page > len(o.rows)/7+5 {
			t.Fatalf("seed %d: history %+v: too many pages", o.seed, q)
		}
		r, err := d.History(ctx(t), q)
		if err != nil {
			t.Fatalf("seed %d: history %+v: %v", o.seed, q, err)
		}
		if len(r.Runs) > 7 || (r.NextCursor != nil && len(r.Runs) < 7 && r.SearchedBackTo == nil) {
			t.Errorf("seed %d: history %+v page %d: %d rows, cursor %v", o.seed, q, page, len(r.Runs), r.NextCursor)
		}
		got = append(got, r.Runs...)
		if r.NextCursor == nil {
			break
		}
		cursor, err := dashboard.ParseCursor(*r.NextCursor)
		if err != nil {
			t.Fatal(err)
		}
		q.Cursor = &cursor
	}
	wantRuns := make([]dashboard.SyncRun, len(want))
	for i, r := range want {
		wantRuns[i] = o.syncRun(r)
	}
	q.Cursor = nil
	if diff := cmp.Diff(wantRuns, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("seed %d: history %+v, all pages (-oracle +dashboard):\n%s", o.seed, q, clip(diff))
	}
}

// checkCSV compares an export's rows with the oracle's, by id and shown message.
func (o oracle) checkCSV(t *testing.T, d *dashboard.Dashboard, q dashboard.HistoryQuery) {
	t.Helper()
	var b bytes.Buffer
	if err := d.ExportHistoryCSV(ctx(t), &b, func() {}, q); err != nil {
		t.Fatalf("seed %d: csv %+v: %v", o.seed, q, err)
	}
	rd := csv.NewReader(&b)
	rd.FieldsPerRecord = -1
	records, err := rd.ReadAll()
	if err != nil {
		t.Fatalf("seed %d: csv %+v: %v", o.seed, q, err)
	}
	want := o.history(q)
	cut := len(want) > q.Limit
	want = want[:min(len(want), q.Limit)]
	var wantRecords [][2]string
	for _, r := range want {
		msg := ""
		if m := shownMessage(r.ErrorMessage); m != nil {
			msg = *m
		}
		wantRecords = append(wantRecords, [2]string{strconv.FormatInt(r.id, 10), dashboard.NeutraliseCell(msg)})
	}
	var gotRecords [][2]string
	note := ""
	for _, rec := range records[1:] {
		if len(rec) == 1 {
			note = rec[0]
			continue
		}
		gotRecords = append(gotRecords, [2]string{rec[0], rec[13]})
	}
	if diff := cmp.Diff(wantRecords, gotRecords, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("seed %d: csv %+v (-oracle +dashboard):\n%s", o.seed, q, clip(diff))
	}
	if cut != strings.HasPrefix(note, "# cut at") {
		t.Errorf("seed %d: csv %+v: cut %v, last line %q", o.seed, q, cut, note)
	}
}

// checkRun compares one run's page with the oracle's.
func (o oracle) checkRun(t *testing.T, d *dashboard.Dashboard, row histRow) {
	t.Helper()
	got, err := d.RunDetail(ctx(t), row.id)
	if err != nil {
		t.Fatalf("seed %d: run %d: %v", o.seed, row.id, err)
	}
	if diff := cmp.Diff(o.syncRun(row), got.Run.SyncRun); diff != "" {
		t.Errorf("seed %d: run %d (-oracle +dashboard):\n%s", o.seed, row.id, clip(diff))
	}
	var durations []int64
	var entity history
	for _, r := range o.rows {
		if r.CRMSource != row.CRMSource || r.SyncType != row.SyncType {
			continue
		}
		entity = append(entity, r)
		if us, ok := r.durationMicros(); ok && succeededRow(r) && !r.Start.Before(Now.Add(-30*day)) {
			durations = append(durations, us)
		}
	}
	slices.Sort(durations)
	want := dashboard.EntityDurations{DurationRuns: int64(len(durations))}
	if len(durations) > 0 {
		want.DurationP50, want.DurationP95 = ptr(seconds(rank(durations, 50))), ptr(seconds(rank(durations, 95)))
	}
	if diff := cmp.Diff(want, got.Entity); diff != "" {
		t.Errorf("seed %d: run %d entity (-oracle +dashboard):\n%s", o.seed, row.id, diff)
	}
	slices.SortFunc(entity, startedLater)
	i := slices.IndexFunc(entity, func(r histRow) bool { return r.id == row.id })
	var next, prev *int64
	if i > 0 {
		next = ptr(entity[i-1].id)
	}
	if i < len(entity)-1 {
		prev = ptr(entity[i+1].id)
	}
	ref := func(r *dashboard.RunRef) *int64 {
		if r == nil {
			return nil
		}
		return &r.ID
	}
	if !cmp.Equal(prev, ref(got.Previous)) || !cmp.Equal(next, ref(got.Next)) {
		t.Errorf("seed %d: run %d: previous %v next %v, want %v and %v", o.seed, row.id, ref(got.Previous), ref(got.Next), prev, next)
	}
	wantSlow := row.status == "running" && !stuck(row) && len(durations) >= 10 && Now.Sub(row.Start).Microseconds() > rank(durations, 95)
	if got.Run.Slow != wantSlow {
		t.Errorf("seed %d: run %d: slow %v, want %v", o.seed, row.id, got.Run.Slow, wantSlow)
	}
}
