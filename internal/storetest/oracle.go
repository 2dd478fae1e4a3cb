package storetest

import (
	stdcmp "cmp"
	"fmt"
	"math/big"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/errclass"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// randomAgreement puts many random rows, odd ones included, into a store and compares every
// figure the dashboard computes from them with a naive reading of docs/api.md:
// each figure recomputed here by walking all the rows in plain Go, with exact rational
// rounding. The other cases pin down one rule each; this one catches what they did not
// think of, such as two rules interacting or a store's shortcut that holds on tidy data
// only. The oracle borrows only the message rules (classification, masking, cutting) and
// the display names, which are tested on their own.
func randomAgreement(t *testing.T, h Harness) {
	// Each seed shows the days in its own time zone: UTC; New York, whose midnights fall
	// at 04:00Z; Sydney, whose daylight saving time began on Oct 5, 2025, a day of 23 hours
	// inside the 30 days shown.
	seeds := []struct {
		seed uint64
		zone string
	}{
		{20251009, "UTC"},
		{7, "America/New_York"},
		{424242, "Australia/Sydney"},
	}
	for _, s := range seeds {
		t.Run(fmt.Sprintf("seed %d in %s", s.seed, s.zone), func(t *testing.T) {
			t.Parallel()
			t.Logf("seed %d, display time zone %s", s.seed, s.zone)
			loc, err := time.LoadLocation(s.zone)
			if err != nil {
				t.Fatal(err)
			}
			d, fx := open(t, h, loc, Now)
			o := insertForOracle(t, fx, newHistoryGen(s.seed, loc).rows(), loc, s.seed)
			o.checkStats(t, d)
			o.checkCRMStatus(t, d)
			o.checkRecentSyncs(t, d)
			for _, days := range []int{1, 7, 30} {
				o.checkCharts(t, d, days)
			}
			for _, days := range []int{7, 30} {
				o.checkErrors(t, d, days)
			}
			o.checkDrillDown(t, d)
		})
	}
}

// The CRMs of the random rows, each a different kind of history.
const (
	crmBusy1      = "hubspot"
	crmBusy2      = "genius" // writes the aliases completed and in_progress most
	crmBusy3      = "callrail"
	crmUnknown    = "acme"        // not configured, seen recently: listed after the configured
	crmOnlyOld    = "five9"       // configured, nothing in the last 35 days
	crmUnknownOld = "oldcrm"      // not configured, nothing in the last 31 days: not listed
	crmOnlyRuns   = "salesrabbit" // only running rows, stuck or not
	crmEdge       = "edgecrm"     // one row exactly 30 days before now
	crmAhead      = "aheadcrm"    // one failure from a clock ahead: not seen in the last 30 days
	crmBusy4      = "arrivy"      // with the others, more than five CRMs with failures
	// Two CRMs with only failures, in the shown days: alphacrm ties aheadcrm on rate and
	// failures (ranked by source), betacrm has the same rate with more failures.
	crmTieA = "alphacrm"
	crmTieB = "betacrm"
)

// insertForOracle inserts rows and returns the oracle that reads them as the store has
// them (ids, defaults, canonical statuses).
func insertForOracle(t *testing.T, fx Fixture, rows []Row, loc *time.Location, seed uint64) oracle {
	t.Helper()
	ids := fx.Insert(t, rows...)
	if len(ids) != len(rows) {
		t.Fatalf("inserted %d rows, got %d ids", len(rows), len(ids))
	}
	hist := make(history, len(rows))
	for i, r := range rows {
		hist[i] = histRow{Row: r.WithDefaults(), id: ids[i], status: canonicalStatus(r.Status)}
	}
	return oracle{rows: hist, loc: loc, seed: seed}
}

// sampleMessages are shaped like the messages the sync engines write
// (as the warehouse writes them; see internal/demo/messages.go), some carrying secrets to mask.
func sampleMessages() []string {
	return []string{
		"HTTP 429: Too Many Requests",
		"429 Client Error: Too Many Requests for url: https://api.hubapi.com/crm/v3/objects/contacts?hapikey=sk-live-9f8e7d6c5b4a&limit=100",
		"CallRail API rate limit exceeded",
		"Rate limit exceeded, retry after 30s",
		"401 Client Error: Unauthorized for url: https://api.callrail.com/v3/a/123/calls.json?api_key=abcdef0123456789abcdef",
		"CallRail authentication failed: invalid token",
		"Authentication failed - invalid API token",
		"HTTPSConnectionPool(host='api.five9.com', port=443): Read timed out. (read timeout=30)",
		"Request failed after 3 attempts: HTTPSConnectionPool(host='api.arrivy.com', port=443): Max retries exceeded with url: /api/tasks (Caused by NewConnectionError('[Errno 111] Connection refused'))",
		"Failed to connect to Arrivy API: [Errno 111] Connection refused",
		"Failed to connect to Five9 API",
		"2003 (HY000): Can't connect to MySQL server on 'genius-db.internal:3306' (111)",
		"404 Client Error: Not Found for url: https://sheets.googleapis.com/v4/spreadsheets/x?key=AIzaSyD-secret-key-123",
		"API request failed with status 404",
		`duplicate key value violates unique constraint "genius_appointment_pkey"`,
		"Query execution failed: relation \"report.leads\" does not exist",
		"Athena client initialization failed: no region",
		"Invalid pagination token - CorrelationId: 4f1c2d3e-1111-2222-3333-444455556666",
		"Failed to fetch contacts: 500 Server Error: Internal Server Error",
		"SalesRabbit API key not configured",
		"Five9 credentials not found in environment variables",
		"No valid sheet configurations found. Check GSHEET_2025_MARKETING_LEADS_ID environment variables.",
		"Sync stopped by user",
		"Sync process terminated unexpectedly",
		"Cleaned up stuck process after 60 minutes",
		"Failed entities: leads, users",
		"All sheets failed to import",
		"could not connect to postgresql://sync:hunter2secret@db.internal:5432/warehouse",
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl rejected\n\twith status 401",
		"Traceback (most recent call last):\n  File \"sync.py\", line 3, in run\nKeyError: 'Zürich'",
		// Control characters inside secrets: cleaned before masking, or the mask would
		// stop at the control character and show the rest.
		"login failed: password=hunter\x01two2 rejected",
		"Authorization: Bearer eyJhbGciOiJIUzI1NiJ9\x7f.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl rejected",
	}
}

const cleanupSuffix = " (auto-marked failed by cleanup_stale_syncs; no heartbeat for too long)"

// historyGen makes the random rows of one seed.
type historyGen struct {
	rnd *rand.Rand
	// edges are the instants on the boundaries of the contract's windows, and a
	// microsecond either side: now, 24 hours and 60 minutes before it, 30 days before it,
	// and the local midnights that cut the days shown.
	edges []time.Time
	// starts are the start times given so far, for later rows to share (ties by id).
	starts []time.Time
}

func newHistoryGen(seed uint64, loc *time.Location) *historyGen {
	g := &historyGen{rnd: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	edges := []time.Time{Now, Now.Add(-24 * time.Hour), Now.Add(-60 * time.Minute), Now.Add(-30 * day)}
	local := Now.In(loc)
	for k := range 32 {
		edges = append(edges, time.Date(local.Year(), local.Month(), local.Day()-k, 0, 0, 0, 0, loc))
	}
	for _, e := range edges {
		g.edges = append(g.edges, e, e.Add(-time.Microsecond), e.Add(time.Microsecond))
	}
	return g
}

// upTo returns a random duration in [0, d], in whole microseconds: what a timestamptz
// keeps, so that the rows read back are the rows generated.
func (g *historyGen) upTo(d time.Duration) time.Duration {
	return time.Duration(g.rnd.Int64N(int64(d/time.Microsecond)+1)) * time.Microsecond
}

func pick[T any](g *historyGen, from []T) T { return from[g.rnd.IntN(len(from))] }

// rows returns about 1,500 rows, shuffled so that the ids the database gives do not follow
// the start times.
func (g *historyGen) rows() []Row {
	var rows []Row
	for range 1400 {
		crm := pick(g, []string{crmBusy1, crmBusy1, crmBusy2, crmBusy2, crmBusy3, crmBusy4, crmUnknown})
		status := g.status(crm)
		start := g.start()
		rows = append(rows, g.row(crm, status, start))
	}
	for range 40 {
		// Finished soon after they started: nothing of these CRMs falls in the shown days.
		for _, old := range []struct {
			crm    string
			oldest time.Duration
		}{{crmOnlyOld, 35 * day}, {crmUnknownOld, 31 * day}} {
			r := g.row(old.crm, g.finishedStatus(), Now.Add(-old.oldest-g.upTo(5*day)))
			if r.End != nil && (r.End.After(r.Start.Add(time.Hour)) || r.End.Before(r.Start)) {
				r.End = ptr(r.Start.Add(g.upTo(time.Hour)))
			}
			rows = append(rows, r)
		}
	}
	// Running rows only: some just started, some on the stuck threshold, some stuck for
	// days, one from a clock ahead.
	for _, age := range []time.Duration{0, time.Minute, 59 * time.Minute, 60 * time.Minute,
		60*time.Minute + time.Microsecond, 61 * time.Minute, 5 * time.Hour, 3 * day, -2 * time.Minute} {
		rows = append(rows, g.row(crmOnlyRuns, pick(g, []string{"running", "in_progress"}), Now.Add(-age)))
	}
	rows = append(rows, g.row(crmEdge, "success", Now.Add(-30*day)))
	// Failures that finish where the rankings need them: today, in every time zone.
	for _, f := range []struct {
		crm   string
		start time.Duration
	}{{crmAhead, 3 * time.Minute}, {crmTieA, -2 * time.Hour}, {crmTieB, -3 * time.Hour}, {crmTieB, -4 * time.Hour}} {
		r := g.row(f.crm, "failed", Now.Add(f.start))
		r.End = ptr(r.Start.Add(time.Minute))
		rows = append(rows, r)
	}
	g.rnd.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	return rows
}

func (g *historyGen) status(crm string) string {
	// The status spellings the sync engines write (as the warehouse writes them; see internal/demo/messages.go).
	statusWeights := []struct {
		raw    string
		weight int
	}{
		{"success", 30}, {"completed", 10}, {"failed", 22}, {"partial", 10},
		{"running", 2}, {"in_progress", 1}, {"skipped", 4}, {"cancelled", 1},
	}
	total := 0
	for _, s := range statusWeights {
		total += s.weight
	}
	n := g.rnd.IntN(total)
	for _, s := range statusWeights {
		if n < s.weight {
			// The aliases come from one Genius engine; the others write the canonical word.
			if crm != crmBusy2 && g.rnd.IntN(3) > 0 {
				return canonicalStatus(s.raw)
			}
			return s.raw
		}
		n -= s.weight
	}
	panic("unreachable")
}

func (g *historyGen) finishedStatus() string {
	return pick(g, []string{"success", "completed", "failed", "partial", "skipped"})
}

func (g *historyGen) start() time.Time {
	switch p := g.rnd.IntN(100); {
	case p < 8:
		return pick(g, g.edges)
	case p < 18 && len(g.starts) > 0:
		return pick(g, g.starts)
	case p < 21:
		return Now.Add(g.upTo(5 * time.Minute)) // a clock ahead of ours
	case p < 45:
		return Now.Add(-g.upTo(48 * time.Hour)) // the stats window and its edges, densely
	default:
		return Now.Add(-g.upTo(40 * day))
	}
}

func (g *historyGen) row(crm, status string, start time.Time) Row {
	g.starts = append(g.starts, start)
	r := Row{
		CRMSource: crm,
		SyncType:  pick(g, []string{"contacts", "deals", "appointments", "all"}),
		Status:    status,
		Start:     start,
		End:       g.end(status, start),
	}
	switch p := g.rnd.IntN(100); {
	case p < 20: // nothing processed
	case p < 24:
		r.RecordsProcessed = pick(g, []int64{2147483647, 2147483000, 1999999999}) // int4's largest
	case p < 40:
		r.RecordsProcessed = pick(g, []int64{1, 3, 7, 107, 1523})
	default:
		r.RecordsProcessed = g.rnd.Int64N(5001)
	}
	r.RecordsCreated = g.rnd.Int64N(r.RecordsProcessed + 1)
	r.RecordsUpdated = g.rnd.Int64N(r.RecordsProcessed - r.RecordsCreated + 1)
	r.RecordsFailed = g.rnd.Int64N(20)
	r.ErrorMessage = g.message(status)
	return r
}

func (g *historyGen) end(status string, start time.Time) *time.Time {
	if canonicalStatus(status) == "running" {
		return nil
	}
	switch p := g.rnd.IntN(100); {
	case p < 8:
		return nil // finished at its start
	case p < 13:
		return ptr(start.Add(-time.Microsecond - g.upTo(3*time.Hour))) // clock skew
	case p < 19:
		return ptr(pick(g, g.edges)) // on a boundary, whatever the start
	case p < 22:
		return ptr(start) // no time at all: a duration of 0
	case p < 25:
		return ptr(start.Add(g.upTo(10 * time.Microsecond)))
	case p < 32 && canonicalStatus(status) == "failed":
		return ptr(start.Add(day + g.upTo(2*day))) // marked failed by the nightly cleanup
	case p < 45:
		// Durations that, with the records picked below, give rates exactly on a half of
		// the last decimal: 1 record in 1.6 s is 0.625/s, 107 in 40 s 2.675/s (not a
		// float), and means of 0.3 s and 0.4 s are 0.35 s.
		return ptr(start.Add(pick(g, []time.Duration{300 * time.Millisecond, 400 * time.Millisecond,
			800 * time.Millisecond, 1600 * time.Millisecond, 2500 * time.Millisecond, 40 * time.Second, 125 * time.Second})))
	case p < 60:
		// Multiples of 50 ms make means that land exactly on a half more often.
		return ptr(start.Add(time.Duration(g.rnd.IntN(2000)) * 50 * time.Millisecond))
	default:
		return ptr(start.Add(g.upTo(2 * time.Hour)))
	}
}

func (g *historyGen) message(status string) *string {
	failed := canonicalStatus(status) == "failed"
	p := g.rnd.IntN(100)
	switch {
	case !failed && p < 85:
		return nil
	case failed && p < 22:
		return nil
	case p < 27:
		return ptr("")
	case p < 29:
		return ptr("  \n\t")
	case p < 36:
		// Around the length a store returns whole, and far beyond it.
		length := pick(g, []int{4299, 4300, 4301, 4302 + g.rnd.IntN(30000)})
		return ptr(longTraceback(length, g.rnd.IntN(3)))
	}
	m := pick(g, sampleMessages())
	if failed && g.rnd.IntN(8) == 0 {
		m += cleanupSuffix
	}
	return &m
}

// longTraceback is a Python traceback of exactly length characters (not bytes: its frames
// name a file with a non-ASCII name) ending in one of a few exception lines. Its frames
// mention no cause and no secret, so its type and masking do not depend on where a store
// cuts it.
func longTraceback(length, ending int) string {
	head := "Traceback (most recent call last):\n"
	last := []string{
		"requests.exceptions.ReadTimeout: HTTPSConnectionPool(host='api.five9.com', port=443): Read timed out. (read timeout=30)",
		"ConnectionRefusedError: [Errno 111] Connection refused",
		"hubspot.exceptions.ApiException: HTTP 429: Too Many Requests",
	}[ending]
	frame := []rune("  File \"/app/ingestion/zürich_sync.py\", line 212, in run\n")
	fill := length - utf8.RuneCountInString(head) - utf8.RuneCountInString(last)
	body := make([]rune, 0, fill)
	for len(body) < fill {
		body = append(body, frame[:min(len(frame), fill-len(body))]...)
	}
	return head + string(body) + last
}

// The oracle: the contract read literally, over all the rows.

// canonicalStatus reads a status through the contract's two aliases.
func canonicalStatus(raw string) string {
	switch raw {
	case "in_progress":
		return "running"
	case "completed":
		return "success"
	}
	return raw
}

// histRow is a row as the database holds it.
type histRow struct {
	Row
	id     int64
	status string // canonical
}

// finishedAt is end_time, or start_time when end_time is NULL; running rows have none.
func (r histRow) finishedAt() (time.Time, bool) {
	if r.status == "running" {
		return time.Time{}, false
	}
	if r.End != nil {
		return *r.End, true
	}
	return r.Start, true
}

// durationMicros is end − start; unknown while running, without end, or with end < start.
func (r histRow) durationMicros() (int64, bool) {
	if r.status == "running" || r.End == nil || r.End.Before(r.Start) {
		return 0, false
	}
	return r.End.Sub(r.Start).Microseconds(), true
}

// startedLater orders rows newest first: greater start_time, ties greater id.
func startedLater(a, b histRow) int {
	if c := b.Start.Compare(a.Start); c != 0 {
		return c
	}
	return stdcmp.Compare(b.id, a.id)
}

// finishedLater orders finished rows newest first: greater finished_at, ties greater id.
func finishedLater(a, b histRow) int {
	fa, _ := a.finishedAt()
	fb, _ := b.finishedAt()
	if c := fb.Compare(fa); c != 0 {
		return c
	}
	return stdcmp.Compare(b.id, a.id)
}

type history []histRow

type oracle struct {
	rows history
	loc  *time.Location
	seed uint64
}

// inLast24Hours is [now − 24h, now], both ends included.
func inLast24Hours(t time.Time) bool {
	return !t.Before(Now.Add(-24*time.Hour)) && !t.After(Now)
}

// stuck is a running row started more than 60 minutes (the default threshold) before now.
func stuck(r histRow) bool {
	return r.status == "running" && r.Start.Before(Now.Add(-60*time.Minute))
}

// roundHalfAway returns num/den rounded half away from zero to decimals places, computed on
// the exact rational value, as the float64 nearest that decimal.
func roundHalfAway(num, den *big.Int, decimals int) float64 {
	scale := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(decimals)), nil)
	scaled := new(big.Int).Mul(num, scale)
	q, r := new(big.Int).QuoRem(scaled, den, new(big.Int))
	// |r|/|den| ≥ 1/2: away from zero, in the direction of the quotient's sign.
	if new(big.Int).Mul(new(big.Int).Abs(r), big.NewInt(2)).Cmp(new(big.Int).Abs(den)) >= 0 {
		if scaled.Sign()*den.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	f, _ := new(big.Rat).SetFrac(q, scale).Float64()
	return f
}

// percent is 100 × part / whole to 2 decimals; null when whole is 0.
func percent(part, whole int64) *float64 {
	if whole == 0 {
		return nil
	}
	return ptr(roundHalfAway(big.NewInt(100*part), big.NewInt(whole), 2))
}

func seconds(micros int64) float64 {
	f, _ := big.NewRat(micros, 1_000_000).Float64()
	return f
}

// recordsPerSecond is records / duration to 2 decimals; null without a duration or with 0.
func recordsPerSecond(records, micros int64) *float64 {
	if micros == 0 {
		return nil
	}
	num := new(big.Int).Mul(big.NewInt(records), big.NewInt(1_000_000))
	return ptr(roundHalfAway(num, big.NewInt(micros), 2))
}

// shownMessage is what the API shows of a stored message: NULL stays null; a message a
// store returns cut (see syncs.CutMessage) is its head and tail; it is cleaned, then its
// secrets are masked.
func shownMessage(m *string) *string {
	if m == nil {
		return nil
	}
	text := *m
	if n := utf8.RuneCountInString(text); n > syncs.MessageHead+syncs.MessageTail {
		r := []rune(text)
		text = syncs.CutMessage(string(r[:syncs.MessageHead]), string(r[n-syncs.MessageTail:]), n)
	}
	return ptr(errclass.Mask(syncs.CleanText(text, syncs.MaxMessageLength)))
}

func (o oracle) overview() dashboard.Overview {
	var v dashboard.Overview
	for _, r := range o.rows {
		if r.status == "running" {
			v.ActiveSyncs++
			if stuck(r) {
				v.StuckSyncs++
			}
			continue
		}
		if at, _ := r.finishedAt(); !inLast24Hours(at) {
			continue
		}
		switch r.status {
		case "success":
			v.CompletedToday++
		case "failed":
			v.FailedToday++
		case "partial":
			v.PartialToday++
		}
	}
	v.SuccessRate = percent(v.CompletedToday, v.CompletedToday+v.FailedToday+v.PartialToday)
	return v
}

func (o oracle) checkStats(t *testing.T, d *dashboard.Dashboard) {
	got, err := d.Stats(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o.overview(), got.Overview); diff != "" {
		t.Errorf("seed %d: api/stats overview (-oracle +dashboard):\n%s", o.seed, diff)
	}
}

func (o oracle) crmStatus() []dashboard.CRMStatus {
	// The contract's default list of known sources, in its order.
	configuredSources := []string{"hubspot", "callrail", "genius", "salesrabbit", "arrivy",
		"five9", "marketsharp", "leadconduit", "salespro", "gsheet"}
	sources := slices.Clone(configuredSources)
	var others []string
	for _, r := range o.rows {
		recent := !r.Start.Before(Now.Add(-30*day)) && !r.Start.After(Now)
		if recent && !slices.Contains(configuredSources, r.CRMSource) && !slices.Contains(others, r.CRMSource) {
			others = append(others, r.CRMSource)
		}
	}
	slices.Sort(others)
	sources = append(sources, others...)

	out := make([]dashboard.CRMStatus, 0, len(sources))
	for _, source := range sources {
		c := o.crmHeader(source)
		// No schedules are inserted: next_sync is null, nothing is overdue.
		out = append(out, c)
	}
	return out
}

func (o oracle) checkCRMStatus(t *testing.T, d *dashboard.Dashboard) {
	got, err := d.CRMStatus(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(o.crmStatus(), got.CRMs, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("seed %d: api/crm-status (-oracle +dashboard):\n%s", o.seed, clip(diff))
	}
}

func (o oracle) recent(q dashboard.RecentQuery) []dashboard.SyncRun {
	var sel history
	for _, r := range o.rows {
		if (q.CRMSource == "" || r.CRMSource == q.CRMSource) && (q.Status == "" || r.status == q.Status) {
			sel = append(sel, r)
		}
	}
	slices.SortFunc(sel, startedLater)
	sel = sel[:min(len(sel), q.Limit)]
	out := make([]dashboard.SyncRun, 0, len(sel))
	for _, r := range sel {
		s := dashboard.SyncRun{
			ID: r.id, CRMSource: r.CRMSource, Name: syncs.DisplayName(r.CRMSource), SyncType: r.SyncType,
			Status: r.status, StartTime: r.Start, EndTime: r.End,
			RecordsProcessed: ptr(r.RecordsProcessed), RecordsCreated: ptr(r.RecordsCreated),
			RecordsUpdated: ptr(r.RecordsUpdated), RecordsFailed: ptr(r.RecordsFailed),
			ErrorMessage: shownMessage(r.ErrorMessage),
			Stuck:        stuck(r),
		}
		if us, ok := r.durationMicros(); ok {
			s.DurationSeconds = ptr(seconds(us))
			s.RecordsPerSecond = recordsPerSecond(r.RecordsProcessed, us)
		}
		if r.status == "failed" {
			s.ErrorType = ptr(string(errclass.Classify(r.ErrorMessage)))
		}
		out = append(out, s)
	}
	return out
}

func (o oracle) checkRecentSyncs(t *testing.T, d *dashboard.Dashboard) {
	queries := []dashboard.RecentQuery{
		{Limit: dashboard.DefaultRecentLimit}, {Limit: 1}, {Limit: 7}, {Limit: dashboard.MaxRecentLimit},
		{Limit: 20, CRMSource: "nosuchcrm"},
		{Limit: 50, CRMSource: crmBusy2, Status: "success"},
		{Limit: 200, CRMSource: crmBusy2, Status: "running"},
		{Limit: 5, CRMSource: crmUnknownOld, Status: "failed"},
		{Limit: 3, CRMSource: crmOnlyRuns, Status: "success"},
	}
	for _, source := range []string{crmBusy1, crmBusy2, crmBusy3, crmBusy4, crmUnknown, crmOnlyOld, crmUnknownOld, crmOnlyRuns, crmEdge, crmAhead, crmTieB} {
		queries = append(queries, dashboard.RecentQuery{Limit: 20, CRMSource: source})
	}
	queries = append(queries, dashboard.RecentQuery{Limit: 200, CRMSource: crmBusy1})
	for _, status := range []string{"success", "running", "failed", "partial", "skipped", "cancelled", "nosuchstatus"} {
		queries = append(queries, dashboard.RecentQuery{Limit: 200, Status: status})
	}
	for _, q := range queries {
		got, err := d.RecentSyncs(ctx(t), q)
		if err != nil {
			t.Fatal(err)
		}
		if got.Total != len(got.Syncs) {
			t.Errorf("seed %d: api/recent-syncs %+v: total %d for %d syncs", o.seed, q, got.Total, len(got.Syncs))
		}
		if diff := cmp.Diff(o.recent(q), got.Syncs, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("seed %d: api/recent-syncs %+v (-oracle +dashboard):\n%s", o.seed, q, clip(diff))
		}
	}
}

// shownDays are the last n calendar days up to and including today in loc: day i runs
// from bounds[i] (a local midnight) up to, not including, bounds[i+1].
type shownDays struct {
	bounds []time.Time
	labels []string
}

func lastDays(n int, loc *time.Location) shownDays {
	today := Now.In(loc)
	var s shownDays
	for i := n - 1; i >= -1; i-- {
		midnight := time.Date(today.Year(), today.Month(), today.Day()-i, 0, 0, 0, 0, loc)
		s.bounds = append(s.bounds, midnight)
		if i >= 0 {
			s.labels = append(s.labels, midnight.Format("Jan 2"))
		}
	}
	return s
}

// day returns which shown day t falls on.
func (s shownDays) day(t time.Time) (int, bool) {
	for i := range s.labels {
		if !t.Before(s.bounds[i]) && t.Before(s.bounds[i+1]) {
			return i, true
		}
	}
	return 0, false
}

// rankedCounts lists the sources with a count above 0 under their display names, largest
// first (ties by label, an order the contract leaves open: see sameCounts).
func rankedCounts(bySource map[string]int64) dashboard.Counts {
	var c dashboard.Counts
	for source, n := range bySource {
		if n > 0 {
			c.Labels = append(c.Labels, syncs.DisplayName(source))
			c.Data = append(c.Data, n)
		}
	}
	return inCanonicalOrder(c)
}

// inCanonicalOrder sorts counts largest first, equal counts by label.
func inCanonicalOrder(c dashboard.Counts) dashboard.Counts {
	idx := make([]int, len(c.Labels))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if d := stdcmp.Compare(c.Data[b], c.Data[a]); d != 0 {
			return d
		}
		return strings.Compare(c.Labels[a], c.Labels[b])
	})
	var out dashboard.Counts
	for _, i := range idx {
		out.Labels = append(out.Labels, c.Labels[i])
		out.Data = append(out.Data, c.Data[i])
	}
	return out
}

// sameCounts compares two "largest first" count lists. The contract does not order equal
// counts, so got must be largest first and is then compared in the oracle's tie order.
func sameCounts(want, got dashboard.Counts) string {
	if len(got.Labels) != len(got.Data) {
		return fmt.Sprintf("%d labels for %d values: %+v", len(got.Labels), len(got.Data), got)
	}
	if !slices.IsSortedFunc(got.Data, func(a, b int64) int { return stdcmp.Compare(b, a) }) {
		return fmt.Sprintf("not largest first: %+v", got)
	}
	return cmp.Diff(want, inCanonicalOrder(got), cmpopts.EquateEmpty())
}

func (o oracle) charts(n int) dashboard.ChartsResponse {
	days := lastDays(n, o.loc)
	durationSum, durationCount := make([]int64, n), make([]int64, n)
	succeeded, failed, partial := make([]int64, n), make([]int64, n), make([]int64, n)
	records, frequency := map[string]int64{}, map[string]int64{}
	for _, r := range o.rows {
		if _, ok := days.day(r.Start); ok {
			frequency[r.CRMSource]++
		}
		at, finished := r.finishedAt()
		i, shown := days.day(at)
		if !finished || !shown {
			continue
		}
		records[r.CRMSource] += r.RecordsProcessed
		switch r.status {
		case "success":
			succeeded[i]++
		case "failed":
			failed[i]++
		case "partial":
			partial[i]++
		}
		if us, ok := r.durationMicros(); ok && (r.status == "success" || r.status == "partial") {
			durationSum[i] += us
			durationCount[i]++
		}
	}
	c := dashboard.ChartsResponse{
		SyncDurationTrend: dashboard.Trend{Labels: days.labels, Data: make([]*float64, n)},
		SuccessRateTrend:  dashboard.Trend{Labels: days.labels, Data: make([]*float64, n)},
		RecordsByCRM:      rankedCounts(records),
		SyncFrequency:     rankedCounts(frequency),
		Days:              n,
		TimeZone:          o.loc.String(),
	}
	for i := range n {
		if durationCount[i] > 0 {
			// The mean of microseconds, in seconds: sum / (count × 10⁶).
			den := new(big.Int).Mul(big.NewInt(durationCount[i]), big.NewInt(1_000_000))
			c.SyncDurationTrend.Data[i] = ptr(roundHalfAway(big.NewInt(durationSum[i]), den, 1))
		}
		c.SuccessRateTrend.Data[i] = percent(succeeded[i], succeeded[i]+failed[i]+partial[i])
	}
	return c
}

func (o oracle) checkCharts(t *testing.T, d *dashboard.Dashboard, days int) {
	got, err := d.Charts(ctx(t), days)
	if err != nil {
		t.Fatal(err)
	}
	want := o.charts(days)
	if diff := sameCounts(want.RecordsByCRM, got.RecordsByCRM); diff != "" {
		t.Errorf("seed %d: performance-charts days=%d records_by_crm (-oracle +dashboard):\n%s", o.seed, days, diff)
	}
	if diff := sameCounts(want.SyncFrequency, got.SyncFrequency); diff != "" {
		t.Errorf("seed %d: performance-charts days=%d sync_frequency (-oracle +dashboard):\n%s", o.seed, days, diff)
	}
	want.RecordsByCRM, want.SyncFrequency = dashboard.Counts{}, dashboard.Counts{}
	got.RecordsByCRM, got.SyncFrequency = dashboard.Counts{}, dashboard.Counts{}
	got.Meta = dashboard.Meta{}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("seed %d: performance-charts days=%d (-oracle +dashboard):\n%s", o.seed, days, diff)
	}
}

func (o oracle) errors(n int) dashboard.ErrorsResponse {
	days := lastDays(n, o.loc)
	var failures history
	types := map[string]int64{}
	type tally struct{ failed, total int64 }
	bySource := map[string]*tally{}
	for _, r := range o.rows {
		if r.status == "failed" {
			failures = append(failures, r)
		}
		at, finished := r.finishedAt()
		if _, shown := days.day(at); !finished || !shown {
			continue
		}
		if r.status == "failed" {
			types[string(errclass.Classify(r.ErrorMessage))]++
		}
		if r.status == "success" || r.status == "failed" || r.status == "partial" {
			s := bySource[r.CRMSource]
			if s == nil {
				s = &tally{}
				bySource[r.CRMSource] = s
			}
			s.total++
			if r.status == "failed" {
				s.failed++
			}
		}
	}

	e := dashboard.ErrorsResponse{Days: n, Since: days.bounds[0]}
	// recent_errors has no window: the ten latest failures of all time.
	slices.SortFunc(failures, finishedLater)
	for _, r := range failures[:min(10, len(failures))] {
		at, _ := r.finishedAt()
		e.RecentErrors = append(e.RecentErrors, dashboard.ErrorEntry{
			ID: r.id, CRMSource: r.CRMSource, Name: syncs.DisplayName(r.CRMSource), SyncType: r.SyncType,
			FailedAt: at, ErrorType: string(errclass.Classify(r.ErrorMessage)),
			ErrorMessage: shownMessage(r.ErrorMessage),
		})
	}

	for typ, count := range types {
		e.ErrorDistribution.Labels = append(e.ErrorDistribution.Labels, typ)
		e.ErrorDistribution.Data = append(e.ErrorDistribution.Data, count)
	}
	e.ErrorDistribution = inCanonicalOrder(e.ErrorDistribution)

	var problems []dashboard.ProblematicCRM
	for source, s := range bySource {
		if s.failed > 0 {
			problems = append(problems, dashboard.ProblematicCRM{Source: source, Name: syncs.DisplayName(source),
				Failed: s.failed, Total: s.total, FailureRate: *percent(s.failed, s.total)})
		}
	}
	// Highest exact rate first (a/b > c/d ⇔ a·d > c·b), then more failures, then source.
	slices.SortFunc(problems, func(a, b dashboard.ProblematicCRM) int {
		if c := stdcmp.Compare(b.Failed*a.Total, a.Failed*b.Total); c != 0 {
			return c
		}
		if c := stdcmp.Compare(b.Failed, a.Failed); c != 0 {
			return c
		}
		return strings.Compare(a.Source, b.Source)
	})
	e.ProblematicCRMs = problems[:min(5, len(problems))]
	return e
}

func (o oracle) checkErrors(t *testing.T, d *dashboard.Dashboard, days int) {
	got, err := d.Errors(ctx(t), days)
	if err != nil {
		t.Fatal(err)
	}
	want := o.errors(days)
	if diff := sameCounts(want.ErrorDistribution, got.ErrorDistribution); diff != "" {
		t.Errorf("seed %d: api/errors days=%d error_distribution (-oracle +dashboard):\n%s", o.seed, days, diff)
	}
	want.ErrorDistribution, got.ErrorDistribution = dashboard.Counts{}, dashboard.Counts{}
	got.Meta = dashboard.Meta{}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("seed %d: api/errors days=%d (-oracle +dashboard):\n%s", o.seed, days, clip(diff))
	}
}

// clip keeps a diff readable when long messages differ.
func clip(diff string) string {
	const most = 20000
	if len(diff) <= most {
		return diff
	}
	return diff[:most] + fmt.Sprintf("\n… (%d more bytes of diff)", len(diff)-most)
}
