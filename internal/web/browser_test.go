package web_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/browsertest"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// The browser tests drive Debian's Chromium over the real server and a real database.
// Each subtest has its own database and tab and runs in parallel with the others; they
// share one browser, which costs a second to start.
func TestPageInBrowser(t *testing.T) {
	needsServices(t)
	browser := browsertest.New(t)
	t.Run("shows every figure the API answers, on a desktop and a phone", func(t *testing.T) {
		t.Parallel()
		testFigures(t, browser)
	})
	t.Run("shows a new run without a reload and pauses while hidden", func(t *testing.T) {
		t.Parallel()
		testLiveUpdate(t, browser)
	})
	t.Run("shows hostile text as text and runs none of it", func(t *testing.T) {
		t.Parallel()
		testHostileText(t, browser)
	})
	t.Run("keeps its figures and says so when a refresh fails", func(t *testing.T) {
		t.Parallel()
		testFailedRefresh(t, browser)
	})
	t.Run("says when its figures are stale because the database went away", func(t *testing.T) {
		t.Parallel()
		testStale(t, browser)
	})
	t.Run("shows an empty warehouse as dashes and empty lists", func(t *testing.T) {
		t.Parallel()
		testEmpty(t, browser)
	})
	t.Run("says in one banner and in each part what a partial outage leaves out", func(t *testing.T) {
		t.Parallel()
		testPartialOutage(t, browser)
	})
	t.Run("says in every part what is missing when nothing could be loaded", func(t *testing.T) {
		t.Parallel()
		testNothingLoaded(t, browser)
	})
	t.Run("shows what fires at the top, links it to its CRM and marks the CRM", func(t *testing.T) {
		t.Parallel()
		testAlerts(t, browser)
	})
}

// open loads the page in a new tab at the given viewport, in the system's light colour
// scheme unless another is given, and waits for the page's script to paint.
func open(t *testing.T, b *browsertest.Browser, url string, width, height int64, mobile bool, scheme ...string) *browsertest.Tab {
	t.Helper()
	tab := b.NewTab(t)
	var opts []chromedp.EmulateViewportOption
	if mobile {
		opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateScale(2))
	}
	tab.Do(t, 20*time.Second,
		chromedp.EmulateViewport(width, height, opts...),
		browsertest.ColorScheme(append(scheme, "light")[0]),
		chromedp.Navigate(url),
	)
	tab.WaitFor(t, 10*time.Second, `document.body.dataset.state === "ready"`)
	return tab
}

func testFigures(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	s := newSite(t, siteOptions{health: &fixedHealth{at: now.Add(-4 * time.Second)}, seed: func(t *testing.T, db *pgtest.DB) {
		seedRealistic(now)(t, db)
		seedEveryErrorType(now)(t, db)
	}})
	tab := open(t, b, s.pageURL(), 1366, 900, false)

	checkStats(t, tab, s.api(t, "stats/"))
	checkCRMs(t, tab, s.api(t, "crm-status/"))
	checkRecent(t, tab, s.api(t, "recent-syncs/?limit=20"))
	checkCharts(t, tab, s.api(t, "performance-charts/"))
	errs := s.api(t, "errors/")
	checkErrors(t, tab, errs)
	// The fixture has every error type, so the phones below see the longest legend.
	if types := errs["error_distribution"].(map[string]any)["labels"].([]any); len(types) < 11 || !slices.Contains(types, any("unknown")) || !slices.Contains(types, any("authentication")) {
		t.Errorf("fixture: want every error type, got %v", types)
	}
	checkHealth(t, tab, s.api(t, "system-health/"))
	checkReadable(t, tab, 1366)
	checkModuleLoads(t, tab)
	tab.Console.AssertClean(t)
	saveScreenshot(t, tab, "desktop.png")

	for _, width := range readableWidths {
		phone := open(t, b, s.pageURL(), width, 800, true)
		// Every text whole, and nothing scrolls sideways, not even inside a card.
		checkReadable(t, phone, int(width))
		if n := browsertest.Eval[int](t, phone, `document.querySelectorAll("#crm-rows tr[data-source]").length`); n < 10 {
			t.Errorf("phone at %d px: got %d CRM rows, want at least 10", width, n)
		}
		phone.Console.AssertClean(t)
		if width == 375 {
			saveScreenshot(t, phone, "phone.png")
		}
	}

	dark := open(t, b, s.pageURL(), 1366, 900, false, "dark")
	type theme struct {
		Theme      string `json:"theme"`
		Background string `json:"background"`
	}
	got := browsertest.Eval[theme](t, dark, `({theme: document.documentElement.dataset.bsTheme,
		background: getComputedStyle(document.body).backgroundColor})`)
	if got.Theme != "dark" || got.Background == "rgb(255, 255, 255)" || got.Background == "rgb(243, 245, 248)" {
		t.Errorf("dark mode: got theme %q and background %s", got.Theme, got.Background)
	}
	dark.Console.AssertClean(t)
	saveScreenshot(t, dark, "desktop-dark.png")
}

// saveScreenshot saves a screenshot of the page. Every run takes it (a page that cannot
// be captured fails); it lands in the test's temporary directory, or, when
// SYNCWATCH_SCREENSHOT_DIR is set (make screenshots sets it to docs/screenshots, which
// the README shows), there. Keeping it out of docs/ by default keeps a test run from
// changing tracked files: the relative times differ on every run.
func saveScreenshot(t *testing.T, tab *browsertest.Tab, name string) {
	t.Helper()
	dir := os.Getenv("SYNCWATCH_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The relative times ("3 min ago") and the spinners would make every run's image
	// differ; the screenshot is taken as the page is, which is what a reader should see.
	tab.Screenshot(t, filepath.Join(dir, name))
}

func checkPageWidth(t *testing.T, tab *browsertest.Tab, width int) {
	t.Helper()
	got := browsertest.Eval[int](t, tab, `Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)`)
	if got > width {
		t.Errorf("at %d px the document is %d px wide: the page scrolls sideways", width, got)
	}
}

func checkStats(t *testing.T, tab *browsertest.Tab, api map[string]any) {
	t.Helper()
	got := browsertest.Eval[map[string][2]string](t, tab, `Object.fromEntries(
		[...document.querySelectorAll("[data-stat]")].map(n => [n.dataset.stat, [n.dataset.value, n.textContent]]))`)
	overview := api["overview"].(map[string]any)
	for _, key := range []string{"active_syncs", "completed_today", "failed_today", "partial_today", "success_rate", "overdue_crms"} {
		want := number(overview[key])
		if got[key][0] != want {
			t.Errorf("card %s: got value %q, want %q", key, got[key][0], want)
		}
		if want == "" && got[key][1] != "—" || want != "" && strings.NewReplacer(",", "", " %", "").Replace(got[key][1]) != want {
			t.Errorf("card %s: shows %q for %q", key, got[key][1], want)
		}
	}
	if stuck := number(overview["stuck_syncs"]); stuck != "0" {
		note := browsertest.Eval[string](t, tab, `document.querySelector('[data-note="active_syncs"]').textContent`)
		if note != " "+stuck+" stuck" {
			t.Errorf("active card note: got %q, want the %s stuck syncs called out", note, stuck)
		}
	}
}

// domRow is a table row as the page shows it: its key, status and the cells that carry
// a data-field.
type domRow struct {
	Key    string              `json:"key"`
	Status string              `json:"status"`
	Text   string              `json:"text"`
	Fields map[string]domField `json:"fields"`
}

type domField struct {
	Value *string `json:"value"`
	Time  *string `json:"time"`
	Text  string  `json:"text"`
}

// rowsJS reads the rows matching a selector, keyed by the data attribute named.
const rowsJS = `((sel, key) => [...document.querySelectorAll(sel)].map(tr => ({
	key: tr.dataset[key], status: tr.dataset.status || "", text: tr.innerText,
	fields: Object.fromEntries([...tr.querySelectorAll("[data-field]")].map(c => [c.dataset.field, {
		value: c.dataset.value === undefined ? null : c.dataset.value,
		time: c.querySelector("time") ? c.querySelector("time").getAttribute("datetime") : null,
		text: c.innerText}]))})))`

func readRows(t *testing.T, tab *browsertest.Tab, sel, key string) []domRow {
	t.Helper()
	return browsertest.Eval[[]domRow](t, tab, rowsJS+`(`+jsString(sel)+`, `+jsString(key)+`)`)
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func checkCRMs(t *testing.T, tab *browsertest.Tab, api map[string]any) {
	t.Helper()
	rows := readRows(t, tab, "#crm-rows tr[data-source]", "source")
	crms := api["crms"].([]any)
	if len(rows) != len(crms) {
		t.Fatalf("CRM table: got %d rows, want %d", len(rows), len(crms))
	}
	sawAlert, sawStuck, sawRunning, sawNever := false, false, false, false
	for i, raw := range crms {
		c := raw.(map[string]any)
		r := rows[i]
		if r.Key != c["source"] || r.Status != c["status"] {
			t.Errorf("CRM row %d: got %s/%s, want %s/%s", i, r.Key, r.Status, c["source"], c["status"])
			continue
		}
		if !strings.Contains(r.Text, c["name"].(string)) {
			t.Errorf("CRM %s: row %q lacks the name %q", r.Key, r.Text, c["name"])
		}
		for _, f := range []string{"records_processed", "records_created", "records_updated", "duration_seconds"} {
			if got := r.Fields[f].Value; got == nil || *got != number(c[f]) {
				t.Errorf("CRM %s %s: got %v, want %q", r.Key, f, deref(got), number(c[f]))
			}
		}
		for _, f := range []string{"last_sync", "next_sync"} {
			want, _ := c[f].(string)
			if c["status"] == "running" && f == "last_sync" && want == "" {
				want, _ = c["last_start"].(string) // shown as "started … ago"
			}
			if got := r.Fields[f].Time; got == nil && want != "" || got != nil && *got != want {
				t.Errorf("CRM %s %s: got time %q, want %q", r.Key, f, deref(got), want)
			}
		}
		if c["status"] == "never" && !strings.Contains(r.Text, "Never run") {
			t.Errorf("CRM %s: never-seen CRM shows %q", r.Key, r.Text)
		}
		sawNever = sawNever || c["status"] == "never"
		if c["stuck"].(float64) > 0 {
			sawStuck = true
			if !strings.Contains(r.Text, "stuck") {
				t.Errorf("CRM %s has %v stuck runs, row shows %q", r.Key, c["stuck"], r.Text)
			}
		}
		if c["running"].(float64) > 0 {
			sawRunning = true
			if !strings.Contains(r.Text, "Running") && !strings.Contains(r.Text, "Stuck") {
				t.Errorf("CRM %s is running, row shows %q", r.Key, r.Text)
			}
		}
		if last, ok := c["last_success"].(string); c["status"] != "never" && (!ok || olderThan(last, 24*time.Hour)) {
			sawAlert = true
			if !strings.Contains(r.Fields["last_success"].Text, "No success for") && !strings.Contains(r.Fields["last_success"].Text, "Never succeeded") {
				t.Errorf("CRM %s last succeeded %q, row shows %q", r.Key, last, r.Fields["last_success"].Text)
			}
		}
	}
	if !sawAlert || !sawStuck || !sawRunning || !sawNever {
		t.Errorf("fixture: want a CRM without success, a stuck one, a running one and a never seen one; got %v %v %v %v",
			sawAlert, sawStuck, sawRunning, sawNever)
	}
}

func olderThan(iso string, d time.Duration) bool {
	at, err := time.Parse(time.RFC3339Nano, iso)
	return err == nil && time.Since(at) > d
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

func checkRecent(t *testing.T, tab *browsertest.Tab, api map[string]any) {
	t.Helper()
	rows := readRows(t, tab, "#recent-rows tr[data-id]", "id")
	runs := api["syncs"].([]any)
	if len(rows) != len(runs) || len(runs) != 20 {
		t.Fatalf("recent activity: got %d rows, API %d, want 20", len(rows), len(runs))
	}
	messages := browsertest.Eval[map[string]string](t, tab, `Object.fromEntries([...document.querySelectorAll("#recent-rows tr[data-error-for]")]
		.map(tr => [tr.dataset.errorFor, tr.querySelector(".sw-message-full").textContent]))`)
	for i, raw := range runs {
		run := raw.(map[string]any)
		r := rows[i]
		if r.Key != number(run["id"]) || r.Status != run["status"] {
			t.Errorf("recent row %d: got %s/%s, want %v/%v", i, r.Key, r.Status, run["id"], run["status"])
			continue
		}
		if got := deref(r.Fields["start_time"].Time); got != run["start_time"] {
			t.Errorf("run %s start: got %q, want %q", r.Key, got, run["start_time"])
		}
		if got := deref(r.Fields["records_processed"].Value); got != number(run["records_processed"]) {
			t.Errorf("run %s records: got %q, want %q", r.Key, got, number(run["records_processed"]))
		}
		if run["status"] != "running" {
			if got := deref(r.Fields["duration_seconds"].Value); got != number(run["duration_seconds"]) {
				t.Errorf("run %s duration: got %q, want %q", r.Key, got, number(run["duration_seconds"]))
			}
		}
		msg, _ := run["error_message"].(string)
		if got, ok := messages[r.Key]; msg != got || ok != (msg != "") {
			t.Errorf("run %s message: got %q (shown %v), want %q", r.Key, got, ok, msg)
		}
	}
}

// chartData reads a chart's labels and first dataset as Chart.js holds them.
type chartData struct {
	Labels []string   `json:"labels"`
	Data   []*float64 `json:"data"`
}

func readChart(t *testing.T, tab *browsertest.Tab, id string) chartData {
	t.Helper()
	return browsertest.Eval[chartData](t, tab, `(c => ({labels: c.data.labels, data: c.data.datasets[0].data}))(Chart.getChart(`+jsString(id)+`))`)
}

func checkCharts(t *testing.T, tab *browsertest.Tab, api map[string]any) {
	t.Helper()
	charts := map[string]string{
		"chart-duration":  "sync_duration_trend",
		"chart-rate":      "success_rate_trend",
		"chart-records":   "records_by_crm",
		"chart-frequency": "sync_frequency",
	}
	sawGap := false
	for id, field := range charts {
		got := readChart(t, tab, id)
		want := api[field].(map[string]any)
		compareSeries(t, id, got, want)
		for _, v := range want["data"].([]any) {
			sawGap = sawGap || v == nil
		}
	}
	if !sawGap {
		t.Errorf("fixture: want a day without data in the trends")
	}
}

func compareSeries(t *testing.T, id string, got chartData, want map[string]any) {
	t.Helper()
	labels, data := want["labels"].([]any), want["data"].([]any)
	if len(got.Labels) != len(labels) || len(got.Data) != len(data) {
		t.Errorf("%s: got %d labels and %d values, want %d and %d", id, len(got.Labels), len(got.Data), len(labels), len(data))
		return
	}
	for i := range labels {
		if got.Labels[i] != labels[i] {
			t.Errorf("%s label %d: got %q, want %q", id, i, got.Labels[i], labels[i])
		}
		switch w := data[i].(type) {
		case nil:
			if got.Data[i] != nil {
				t.Errorf("%s %s: got %v, want a gap (null)", id, labels[i], *got.Data[i])
			}
		case float64:
			if got.Data[i] == nil || *got.Data[i] != w {
				t.Errorf("%s %s: got %v, want %v", id, labels[i], got.Data[i], w)
			}
		}
	}
}

func checkErrors(t *testing.T, tab *browsertest.Tab, api map[string]any) {
	t.Helper()
	type item struct {
		ID       string  `json:"id"`
		FailedAt string  `json:"failed_at"`
		Type     string  `json:"type"`
		Message  *string `json:"message"`
	}
	items := browsertest.Eval[[]item](t, tab, `[...document.querySelectorAll("#error-list li[data-id]")].map(li => ({
		id: li.dataset.id,
		failed_at: li.querySelector("[data-field=failed_at] time").getAttribute("datetime"),
		type: li.querySelector(".sw-type").textContent,
		message: li.querySelector(".sw-message-full") ? li.querySelector(".sw-message-full").textContent : null}))`)
	recent := api["recent_errors"].([]any)
	if len(items) != len(recent) || len(recent) == 0 {
		t.Fatalf("recent errors: got %d, API %d (want some)", len(items), len(recent))
	}
	for i, raw := range recent {
		e := raw.(map[string]any)
		msg, _ := e["error_message"].(string)
		got := items[i]
		// A failure without a message says so instead of showing an empty one.
		messageOK := msg == "" && got.Message == nil || got.Message != nil && *got.Message == msg
		if got.ID != number(e["id"]) || got.FailedAt != e["failed_at"] || got.Type != e["error_type"] || !messageOK {
			t.Errorf("error %d: got %+v (message %q), want %v %v %v %q", i, got, deref(got.Message), e["id"], e["failed_at"], e["error_type"], msg)
		}
	}
	dist := api["error_distribution"].(map[string]any)
	compareSeries(t, "chart-error-types", readChart(t, tab, "chart-error-types"), dist)
	// The legend is HTML: each type in words, with its count.
	type legendItem struct {
		Type  string `json:"type"`
		Label string `json:"label"`
		Value string `json:"value"`
	}
	legend := browsertest.Eval[[]legendItem](t, tab, `[...document.querySelectorAll("#error-types-legend li")].map(li => ({
		type: li.dataset.type, label: li.querySelector(".sw-legend-label").textContent, value: li.querySelector(".sw-legend-value").textContent}))`)
	labels, counts := dist["labels"].([]any), dist["data"].([]any)
	if len(legend) != len(labels) {
		t.Errorf("error types legend: got %d items, want %d", len(legend), len(labels))
	} else {
		for i, l := range labels {
			if legend[i].Type != l || legend[i].Label != l || strings.ReplaceAll(legend[i].Value, ",", "") != number(counts[i]) {
				t.Errorf("error types legend %d: got %+v, want %v %v", i, legend[i], l, counts[i])
			}
		}
	}

	rows := readRows(t, tab, "#problem-rows tr[data-source]", "source")
	problems := api["problematic_crms"].([]any)
	if len(rows) != len(problems) {
		t.Fatalf("problematic CRMs: got %d rows, want %d", len(rows), len(problems))
	}
	for i, raw := range problems {
		p := raw.(map[string]any)
		r := rows[i]
		if r.Key != p["source"] {
			t.Errorf("problematic CRM %d: got %s, want %v", i, r.Key, p["source"])
		}
		for _, f := range []string{"failed", "total", "failure_rate"} {
			if got := deref(r.Fields[f].Value); got != number(p[f]) {
				t.Errorf("problematic CRM %s %s: got %q, want %q", r.Key, f, got, number(p[f]))
			}
		}
	}
}

func checkHealth(t *testing.T, tab *browsertest.Tab, api map[string]any) {
	t.Helper()
	type tile struct {
		Status string            `json:"status"`
		Text   string            `json:"text"`
		Values map[string]string `json:"values"`
	}
	tiles := browsertest.Eval[map[string]tile](t, tab, `Object.fromEntries([...document.querySelectorAll("#health-tiles [data-component]")].map(n => [n.dataset.component, {
		status: n.dataset.status, text: n.innerText,
		values: Object.fromEntries([...n.querySelectorAll("dd[data-field]")].map(d => [d.dataset.field, d.dataset.value]))}]))`)
	pills := browsertest.Eval[map[string]string](t, tab, `Object.fromEntries([...document.querySelectorAll("#health-pills [data-component]")].map(n => [n.dataset.component, n.dataset.status]))`)
	words := map[string]string{"healthy": "Healthy", "degraded": "Degraded", "unhealthy": "Unhealthy", "not_configured": "Not configured"}
	for _, name := range []string{"database", "celery", "redis"} {
		c := api[name].(map[string]any)
		got := tiles[name]
		if got.Status != c["status"] || pills[name] != c["status"] {
			t.Errorf("health %s: tile %q, pill %q, want %v", name, got.Status, pills[name], c["status"])
		}
		if !strings.Contains(got.Text, words[c["status"].(string)]) {
			t.Errorf("health %s: tile %q does not say %q in words", name, got.Text, words[c["status"].(string)])
		}
		for field, v := range got.Values {
			if v != number(c[field]) {
				t.Errorf("health %s %s: got %q, want %q", name, field, v, number(c[field]))
			}
		}
		if warnings, _ := c["warnings"].([]any); len(warnings) > 0 && !strings.Contains(got.Text, warnings[0].(string)) {
			t.Errorf("health %s: tile %q lacks the warning %q", name, got.Text, warnings[0])
		}
	}
	// The database is named as the store names it: a demo on SQLite never says PostgreSQL.
	if label, _ := api["database"].(map[string]any)["label"].(string); label == "" || !strings.Contains(tiles["database"].Text, label) {
		t.Errorf("health database: tile %q does not name the database %q", tiles["database"].Text, label)
	}
	if len(tiles["database"].Values) == 0 || len(tiles["celery"].Values) == 0 {
		t.Errorf("health tiles show no figures: %+v", tiles)
	}
	// The queue depth is what waits in the broker; the page says what it leaves out.
	if !strings.Contains(tiles["celery"].Text, "prefetched are reserved, not pending") {
		t.Errorf("the Celery tile does not say that prefetched messages are not pending: %q", tiles["celery"].Text)
	}
}

func testLiveUpdate(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	s := newSite(t, siteOptions{refresh: time.Second, run: true, seed: func(t *testing.T, db *pgtest.DB) {
		db.Insert(t, storetest.Row{CRMSource: "hubspot", Start: now.Add(-time.Hour), End: ptr(now.Add(-58 * time.Minute)), RecordsProcessed: 10})
	}})
	tab := open(t, b, s.pageURL(), 1366, 900, false)
	if got := browsertest.Eval[string](t, tab, `document.body.dataset.refreshSeconds`); got != "1" {
		t.Fatalf("data-refresh-seconds: got %q, want the server's 1", got)
	}
	// A mark that a reload would wipe out.
	browsertest.Eval[int](t, tab, `window.__sameDocument = 1`)

	ids := s.db.Insert(t, storetest.Row{CRMSource: "callrail", SyncType: "calls", Status: "failed",
		Start: now.Add(-time.Minute), End: ptr(now), ErrorMessage: ptr("live: connection reset by peer")})
	tab.WaitFor(t, 15*time.Second, `document.querySelector('#recent-rows tr[data-id="`+number(float64(ids[0]))+`"]')`)
	tab.WaitFor(t, 5*time.Second, `document.querySelector('[data-stat="failed_today"]').dataset.value === "1"`)
	if browsertest.Eval[int](t, tab, `window.__sameDocument`) != 1 {
		t.Errorf("the page reloaded to show the new row")
	}
	// A message the viewer opened stays open through the next refresh.
	msg := `document.querySelector('details[data-key="run-` + number(float64(ids[0])) + `"]')`
	browsertest.Eval[bool](t, tab, msg+`.open = true`)
	seen := browsertest.Eval[string](t, tab, `document.body.dataset.refreshes`)
	tab.WaitFor(t, 5*time.Second, `document.body.dataset.refreshes !== `+jsString(seen))
	if !browsertest.Eval[bool](t, tab, msg+`.open`) {
		t.Errorf("a refresh closed the message the viewer opened")
	}
	if got := browsertest.Eval[string](t, tab, `document.getElementById("updated").textContent`); !strings.HasPrefix(got, "Updated ") && got != "Updating…" {
		t.Errorf("updated note: got %q", got)
	}

	// Hidden: no refresh. Visible again: a refresh at once.
	browsertest.Eval[bool](t, tab, `Object.defineProperty(document, "hidden", {configurable: true, get: () => window.__hidden === true}),
		window.__hidden = true, document.dispatchEvent(new Event("visibilitychange")), true`)
	before := browsertest.Eval[string](t, tab, `document.body.dataset.refreshes`)
	time.Sleep(2500 * time.Millisecond)
	if after := browsertest.Eval[string](t, tab, `document.body.dataset.refreshes`); after != before {
		t.Errorf("hidden tab refreshed: %s refreshes, then %s", before, after)
	}
	browsertest.Eval[bool](t, tab, `window.__hidden = false, document.dispatchEvent(new Event("visibilitychange")), true`)
	tab.WaitFor(t, 3*time.Second, `document.body.dataset.refreshes !== `+jsString(before))

	// The refresh-now button fetches at once.
	before = browsertest.Eval[string](t, tab, `document.body.dataset.refreshes`)
	tab.Do(t, 5*time.Second, chromedp.Click(chromedp.ID("refresh-now")))
	tab.WaitFor(t, 3*time.Second, `document.body.dataset.refreshes !== `+jsString(before))
	tab.Console.AssertClean(t)
}

func testHostileText(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	hostile := `<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">`
	s := newSite(t, siteOptions{seed: func(t *testing.T, db *pgtest.DB) {
		h := storetest.Hostile()
		h.Start, h.End = now.Add(-time.Hour), ptr(now.Add(-50*time.Minute))
		db.Insert(t, h, storetest.Row{CRMSource: "genius", Status: "failed", Start: now.Add(-10 * time.Minute),
			End: ptr(now.Add(-9 * time.Minute)), ErrorMessage: ptr(hostile + ` </script><!-- "'&`)},
			// Markup in the status column too (within its 20 characters).
			storetest.Row{CRMSource: "arrivy", Status: "<b>x</b>", Start: now.Add(-5 * time.Minute), End: ptr(now)})
		// And in a schedule's name and mode.
		minute, any := "0", "*"
		db.InsertSchedule(t, syncs.Schedule{Name: `<img src=x onerror="window.__pwned=5">`, CRMSource: "hubspot",
			ModelName: "NA", Mode: "<b>m</b>", SourceKey: "hubspot", RecurrenceType: "crontab", Minute: &minute,
			Hour: &any, DayOfWeek: &any, DayOfMonth: &any, MonthOfYear: &any, Enabled: true, UpdatedAt: now})
	}})
	tab := open(t, b, s.pageURL(), 1366, 900, false)
	// Open every message, so that anything hidden would run now if it could.
	browsertest.Eval[bool](t, tab, `document.querySelectorAll("details").forEach(d => d.open = true), true`)
	time.Sleep(300 * time.Millisecond)
	if pwned := browsertest.Eval[string](t, tab, `String(window.__pwned)`); pwned != "undefined" {
		t.Errorf("window.__pwned = %s: text from the database ran as code", pwned)
	}
	if n := browsertest.Eval[int](t, tab, `document.querySelectorAll("main img, main script, main b").length`); n != 0 {
		t.Errorf("the page has %d elements made from database text", n)
	}
	errs := s.api(t, "errors/")["recent_errors"].([]any)
	for _, raw := range errs {
		e := raw.(map[string]any)
		want := e["error_message"].(string)
		got := browsertest.Eval[string](t, tab, `document.querySelector('#error-list li[data-id="`+number(e["id"])+`"] .sw-message-full').textContent`)
		if got != want {
			t.Errorf("error %v: shows %.120q, want the API's %.120q", e["id"], got, want)
		}
		if !strings.Contains(got, hostile) {
			t.Errorf("error %v: %.120q lacks the literal markup", e["id"], got)
		}
	}
	// The page's first figures travel inside a <script> block: a "</script>" in them
	// must not end it early.
	embedded := browsertest.Eval[string](t, tab, `JSON.parse(document.getElementById("initial-data").textContent).errors.recent_errors[0].error_message`)
	if want := errs[0].(map[string]any)["error_message"]; embedded != want {
		t.Errorf("first-paint figures: got %.80q, want %.80q", embedded, want)
	}
	checkReadable(t, tab, 1366)
	tab.Console.AssertClean(t)
	// Long words from the database wrap on a phone instead of widening the page.
	phone := open(t, b, s.pageURL(), 360, 800, true)
	checkReadable(t, phone, 360)
	phone.Console.AssertClean(t)
}

func testFailedRefresh(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	s := newSite(t, siteOptions{refresh: time.Second, seed: func(t *testing.T, db *pgtest.DB) {
		db.Insert(t, storetest.Row{CRMSource: "hubspot", Start: now.Add(-time.Hour), End: ptr(now.Add(-58 * time.Minute)), RecordsProcessed: 10})
	}})
	tab := open(t, b, s.pageURL(), 1366, 900, false)
	tab.WaitFor(t, 5*time.Second, `document.getElementById("updated").textContent.startsWith("Updated")`)
	s.ts.Close()
	tab.WaitFor(t, 10*time.Second, `document.getElementById("banner").dataset.tone === "danger"`)
	banner := browsertest.Eval[string](t, tab, `document.getElementById("banner").textContent`)
	if !strings.Contains(banner, "Refresh failed") || !strings.Contains(banner, "the figures below are from") {
		t.Errorf("banner: got %q", banner)
	}
	if got := browsertest.Eval[string](t, tab, `document.querySelector('[data-stat="completed_today"]').dataset.value`); got != "1" {
		t.Errorf("after a failed refresh the completed card shows %q, want the last figure 1", got)
	}
	if got := browsertest.Eval[int](t, tab, `document.querySelectorAll("#recent-rows tr[data-id]").length`); got != 1 {
		t.Errorf("after a failed refresh recent activity has %d rows, want the 1 it had", got)
	}
	// Failed loads are expected here; scripts must still not throw.
	for _, p := range tab.Console.Problems() {
		if strings.HasPrefix(p, "uncaught") || strings.Contains(p, "Content Security Policy") {
			t.Errorf("the page reported: %s", p)
		}
	}
}

func testEmpty(t *testing.T, b *browsertest.Browser) {
	s := newSite(t, siteOptions{})
	for _, width := range readableWidths {
		testEmptyAt(t, b, s, width)
	}
}

func testEmptyAt(t *testing.T, b *browsertest.Browser, s *site, width int64) {
	tab := open(t, b, s.pageURL(), width, 800, true)
	if got := browsertest.Eval[string](t, tab, `document.querySelector('[data-stat="success_rate"]').textContent`); got != "—" {
		t.Errorf("success rate with no rows: got %q, want —", got)
	}
	texts := browsertest.Eval[[]string](t, tab, `["#recent-rows", "#error-list", "#problem-rows"].map(s => document.querySelector(s).innerText.trim())`)
	for _, text := range texts {
		if !strings.HasPrefix(text, "No ") {
			t.Errorf("empty list shows %q, want a sentence saying there is nothing", text)
		}
	}
	notes := browsertest.Eval[[]bool](t, tab, `[...document.querySelectorAll(".sw-chart-empty")].map(p => !p.hidden)`)
	if len(notes) != 5 || slices.Contains(notes, false) {
		t.Errorf("charts without data: empty notes shown %v, want all 5", notes)
	}
	checkReadable(t, tab, int(width))
	tab.Console.AssertClean(t)
}

func testStale(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	s := newSite(t, siteOptions{refresh: time.Second, run: true, seed: func(t *testing.T, db *pgtest.DB) {
		db.Insert(t, storetest.Row{CRMSource: "hubspot", Start: now.Add(-time.Hour), End: ptr(now.Add(-58 * time.Minute)), RecordsProcessed: 10})
	}})
	tab := open(t, b, s.pageURL(), 1366, 900, false)
	// The database refuses syncwatch from now on: the dashboard keeps its last figures
	// and marks them stale.
	// (A database cannot close its own doors: ask from the server's default database.)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for _, sql := range []string{
		"ALTER DATABASE " + s.db.Name + " ALLOW_CONNECTIONS false",
		"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + s.db.Name + "' AND application_name = 'syncwatch'",
	} {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
	tab.WaitFor(t, 15*time.Second, `document.getElementById("banner").dataset.tone === "warning"`)
	banner := browsertest.Eval[string](t, tab, `document.getElementById("banner").textContent`)
	if !strings.Contains(banner, "Showing figures from") || !strings.Contains(banner, "cannot be reached since") {
		t.Errorf("stale banner: got %q", banner)
	}
	if got := browsertest.Eval[string](t, tab, `document.querySelector('[data-stat="completed_today"]').dataset.value`); got != "1" {
		t.Errorf("stale figures: completed card shows %q, want the kept 1", got)
	}
	tab.Console.AssertClean(t)
}

// checkModuleLoads checks what the browser itself fetched: each of the page's modules
// once, each under a URL with its hash, so one module never runs twice (under two URLs)
// and none is fetched without a version.
func checkModuleLoads(t *testing.T, tab *browsertest.Tab) {
	t.Helper()
	urls := browsertest.Eval[[]string](t, tab, `performance.getEntriesByType("resource").map(e => e.name).filter(n => /\/static\/[^/?]+\.js/.test(n))`)
	seen := map[string]string{}
	for _, u := range urls {
		name, v, _ := strings.Cut(u[strings.LastIndex(u, "/")+1:], "?v=")
		if len(v) != 12 {
			t.Errorf("the browser fetched %s without its hash", u)
		}
		if prev, ok := seen[name]; ok && prev != v {
			t.Errorf("the browser fetched %s under two versions, %s and %s", name, prev, v)
		}
		seen[name] = v
	}
	if len(seen) < 10 || seen["dashboard.js"] == "" || seen["format.js"] == "" || seen["chart.umd.min.js"] == "" {
		t.Errorf("the browser fetched %v; want Chart.js and every module of the page", seen)
	}
}
