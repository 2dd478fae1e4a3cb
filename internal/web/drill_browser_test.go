package web_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/syncwatch/syncwatch/internal/browsertest"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/storetest"
)

// The drill-down in Chromium over a real database: from the overview to a CRM, a run and
// the history and back with the browser's buttons, the history's filters in the URL, the
// CSV, phones, and hostile text.
func TestDrillDownInBrowser(t *testing.T) {
	needsServices(t)
	b := browsertest.New(t)
	t.Run("goes from the overview to a CRM, a run and the history, and back", func(t *testing.T) {
		t.Parallel()
		testDrillNavigation(t, b)
	})
	t.Run("keeps the history's filters in the URL, pages and downloads them", func(t *testing.T) {
		t.Parallel()
		testHistoryFilters(t, b)
	})
	t.Run("reads whole on phones", func(t *testing.T) {
		t.Parallel()
		testDrillPhones(t, b)
	})
	t.Run("shows hostile text as text and runs none of it", func(t *testing.T) {
		t.Parallel()
		testDrillHostile(t, b)
	})
	t.Run("names a CRM's firing alerts", func(t *testing.T) {
		t.Parallel()
		testCRMAlerts(t, b)
	})
}

func testCRMAlerts(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	seed := func(t *testing.T, db *pgtest.DB) {
		db.Insert(t, storetest.Row{CRMSource: "hubspot", Status: "failed", Start: now.Add(-10 * time.Minute), End: ptr(now.Add(-5 * time.Minute))},
			storetest.Row{CRMSource: "genius", Start: now.Add(-10 * time.Minute), End: ptr(now.Add(-5 * time.Minute))})
	}
	s := newSite(t, siteOptions{alerts: firingEngine(t, now), seed: seed})
	for source, want := range map[string][]string{"hubspot": {"Sync failing: hubspot · contacts"}, "genius": {}} {
		tab := b.NewTab(t)
		tab.Do(t, 20*time.Second, chromedp.Navigate(s.pageURL()+"crm/"+source+"/"))
		waitReady(t, tab, "crm")
		tab.WaitFor(t, 10*time.Second, `document.getElementById("crm-alerts").dataset.firing !== undefined`)
		got := browsertest.Eval[[]string](t, tab, `[...document.querySelectorAll("#crm-alerts .sw-flag")].map(f => f.textContent)`)
		if !slices.Equal(got, want) {
			t.Errorf("%s: alerts %q, want %q", source, got, want)
		}
		tab.Console.AssertClean(t)
	}
	// With the alerts off, the page says nothing of them.
	off := newSite(t, siteOptions{seed: seed})
	tab := b.NewTab(t)
	tab.Do(t, 20*time.Second, chromedp.Navigate(off.pageURL()+"crm/hubspot/"))
	waitReady(t, tab, "crm")
	tab.WaitFor(t, 10*time.Second, `document.getElementById("crm-alerts").dataset.checked === "1"`)
	if !browsertest.Eval[bool](t, tab, `document.getElementById("crm-alerts").hidden`) {
		t.Errorf("alerts off: the CRM's page shows an alerts line")
	}
}

// seedDrill is seedRealistic, and genius's entities over 30 days: one that fails in a
// row, one whose runs turned empty, one slow in progress, and configuration columns.
func seedDrill(now time.Time) func(t *testing.T, db *pgtest.DB) {
	realistic := seedRealistic(now)
	return func(t *testing.T, db *pgtest.DB) {
		realistic(t, db)
		rnd := newRand(11)
		var rows []storetest.Row
		cfg := `{"batch_size": 500, "since_date": "2025-09-01", "api_key": "gn_live_7f3a9c2e1b"}`
		metrics := `{"duration_seconds": 212.4, "records_per_second": 10.8, "api_calls": 37}`
		for _, e := range []struct {
			name    string
			records int
			seconds int
		}{{"jobs", 900, 180}, {"job_change_orders", 120, 60}, {"leads", 400, 95}, {"users", 40, 20}, {"invoices", 700, 300},
			{"estimates", 260, 75}, {"projects", 90, 40}} {
			for d := 29; d >= 0; d-- {
				for i := range 4 {
					start := now.Truncate(24 * time.Hour).Add(-time.Duration(d)*24*time.Hour + time.Duration(1+i*6)*time.Hour + 8*time.Minute)
					if !start.Add(time.Hour).Before(now) {
						continue
					}
					secs := time.Duration(e.seconds*(80+rnd.intn(45))/100) * time.Second
					r := storetest.Row{CRMSource: "genius", SyncType: e.name, Status: "success", Start: start,
						End: ptr(start.Add(secs)), RecordsProcessed: int64(e.records * (70 + rnd.intn(60)) / 100),
						Configuration: ptr(cfg), PerformanceMetrics: ptr(metrics)}
					// By age, not by calendar day, so the fixture is the same at any time of day.
					age := now.Sub(start)
					switch {
					case e.name == "job_change_orders" && age < 24*time.Hour:
						r.Status, r.RecordsProcessed = "failed", 0
						r.ErrorMessage = ptr("Invalid pagination token - CorrelationId: 4f1c2d3e-1111-2222-3333-444455556666")
					case e.name == "users" && age < 48*time.Hour:
						r.RecordsProcessed = 0 // its runs turned empty
					case rnd.intn(25) == 0:
						r.Status = "partial"
					}
					rows = append(rows, r)
				}
			}
		}
		// invoices: a run in progress for longer than any of its own runs took.
		rows = append(rows, storetest.Row{CRMSource: "genius", SyncType: "invoices", Status: "running", Start: now.Add(-9 * time.Minute)})
		db.Insert(t, rows...)
	}
}

// waitReady waits until a drill-down page of this kind painted its figures.
func waitReady(t *testing.T, tab *browsertest.Tab, kind string) {
	t.Helper()
	tab.WaitFor(t, 15*time.Second, `document.body.dataset.kind === "`+kind+`" && document.body.dataset.state === "ready"`)
}

func location(t *testing.T, tab *browsertest.Tab) string {
	return browsertest.Eval[string](t, tab, `location.pathname + location.search`)
}

// click clicks the element selector finds, as a viewer would (the browser follows a
// link's href, a form is submitted), failing when there is none.
func click(t *testing.T, tab *browsertest.Tab, selector string) {
	t.Helper()
	if !browsertest.Eval[bool](t, tab, `(() => { const n = document.querySelector(`+jsString(selector)+`); if (!n) return false; n.click(); return true; })()`) {
		t.Fatalf("nothing to click at %s", selector)
	}
}

// back goes back in the tab's history, as the browser's button does, to want (a path
// and query), whether that is another document or an entry the page pushed itself.
func back(t *testing.T, tab *browsertest.Tab, want string) {
	t.Helper()
	browsertest.Eval[bool](t, tab, `history.back(), true`)
	tab.WaitFor(t, 15*time.Second, `location.pathname + location.search === `+jsString(want)+` && document.body.dataset.state === "ready"`)
}

func testDrillNavigation(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	s := newSite(t, siteOptions{seed: seedDrill(now), health: &fixedHealth{at: now.Add(-4 * time.Second)}})
	tab := open(t, b, s.pageURL(), 1366, 900, false)

	// Overview → the CRM's name → its page.
	click(t, tab, `#crm-rows tr[data-source="genius"] a.sw-crm-link`)
	waitReady(t, tab, "crm")
	if got := location(t, tab); got != basePath+"crm/genius/" {
		t.Fatalf("the CRM's name led to %s", got)
	}
	api := s.api(t, "crms/genius/")
	entities := api["entities"].([]any)
	got := browsertest.Eval[[]string](t, tab, `[...document.querySelectorAll("#entity-rows tr[data-sync-type]")].map(r => r.dataset.syncType)`)
	var want []string
	for _, e := range entities {
		want = append(want, e.(map[string]any)["sync_type"].(string))
	}
	if !slices.Equal(got, want) || len(want) < 8 {
		t.Errorf("entity rows %v, want the API's %v", got, want)
	}
	// Each entity's figures as the API gives them.
	for _, e := range entities {
		e := e.(map[string]any)
		row := `document.querySelector('#entity-rows tr[data-sync-type="` + e["sync_type"].(string) + `"]')`
		cells := browsertest.Eval[map[string]string](t, tab, `Object.fromEntries([...`+row+`.querySelectorAll("[data-field]")].map(c => [c.dataset.field, c.dataset.value ?? ""]))`)
		for field, want := range map[string]string{
			"runs_7d": number(e["runs_7d"]), "failed_7d": number(e["failed_7d"]), "success_rate_7d": number(e["success_rate_7d"]),
			"consecutive_failures": number(e["consecutive_failures"]),
			"duration":             number(e["duration_p50"]) + "/" + number(e["duration_p95"]),
			"records":              number(e["records_last"]) + "/" + number(e["records_median_30d"]),
		} {
			if cells[field] != want {
				t.Errorf("%s %s: page %q, API %q", e["sync_type"], field, cells[field], want)
			}
		}
	}
	marks := browsertest.Eval[map[string]string](t, tab, `Object.fromEntries([...document.querySelectorAll("#entity-rows tr[data-sync-type]")].map(r => [r.dataset.syncType, [...r.querySelectorAll(".sw-marks .sw-flag")].map(f => f.textContent).join(",")]))`)
	if !strings.Contains(marks["job_change_orders"], "failures in a row") || marks["users"] != "Empty runs" || marks["invoices"] != "Slow" {
		t.Errorf("marks %v: want a failure streak on job_change_orders, empty runs on users, a slow run of invoices", marks)
	}
	if n := browsertest.Eval[int](t, tab, `document.querySelectorAll("#running-list [data-slow=true]").length`); n != 1 {
		t.Errorf("%d slow runs listed as running now, want 1", n)
	}
	checkReadable(t, tab, 1366)
	saveScreenshot(t, tab, "crm.png")

	// The 30 days, in the URL; the back button returns to 7.
	click(t, tab, `#days-buttons button[data-days="30"]`)
	tab.WaitFor(t, 10*time.Second, `document.querySelector('#days-buttons .active').dataset.days === "30" && location.search === "?days=30"`)
	back(t, tab, basePath+"crm/genius/")
	tab.WaitFor(t, 10*time.Second, `document.querySelector('#days-buttons .active').dataset.days === "7" && location.search === ""`)

	// The CRM's page → a run (the last run of job_change_orders, which failed).
	click(t, tab, `#entity-rows tr[data-sync-type="job_change_orders"] a.sw-run-link`)
	waitReady(t, tab, "run")
	runPath := location(t, tab)
	if !strings.HasPrefix(runPath, basePath+"runs/") {
		t.Fatalf("the last run led to %s", runPath)
	}
	id := strings.TrimSuffix(strings.TrimPrefix(runPath, basePath+"runs/"), "/")
	run := s.api(t, "runs/"+id+"/")
	r := run["run"].(map[string]any)
	if text := browsertest.Eval[string](t, tab, `document.getElementById("run-error-text").textContent`); text != r["error_message"] {
		t.Errorf("the run's message: %q, want the API's %q", text, r["error_message"])
	}
	config := browsertest.Eval[string](t, tab, `document.querySelector('#run-column-list pre[data-column="configuration"]').textContent`)
	if !strings.Contains(config, "\n  \"batch_size\": 500") || strings.Contains(config, "gn_live_7f3a9c2e1b") || config != r["configuration"] {
		t.Errorf("configuration shown %q: want the API's, formatted, its key masked", config)
	}
	if prev := browsertest.Eval[string](t, tab, `document.querySelector("#run-links a") ? document.querySelector("#run-links a").getAttribute("href") : ""`); prev == "" {
		t.Errorf("no link to the run before")
	}
	checkReadable(t, tab, 1366)
	saveScreenshot(t, tab, "run.png")

	// The run → its entity's history → the failures.
	click(t, tab, `#crumbs [data-step="1"] a`)
	waitReady(t, tab, "history")
	if got := location(t, tab); got != basePath+"history/?crm=genius&sync_type=job_change_orders" {
		t.Errorf("the entity led to %s", got)
	}
	if got := browsertest.Eval[[]string](t, tab, `[...document.querySelectorAll("#history-rows tr[data-id]")].map(r => r.dataset.id)`); len(got) != 50 || got[0] != id {
		t.Errorf("history rows %v…, want 50 from the run %s", got[:min(3, len(got))], id)
	}

	// And back, with the browser's back button, page by page.
	back(t, tab, runPath)
	waitReady(t, tab, "run")
	back(t, tab, basePath+"crm/genius/")
	waitReady(t, tab, "crm")
	back(t, tab, basePath)
	if kind := browsertest.Eval[string](t, tab, `document.body.dataset.kind || ""`); kind != "" {
		t.Errorf("back to the overview: a page of kind %q", kind)
	}

	// Overview → a recent activity row → its run; an error type → its history; a CRM's
	// failed count → its failures.
	click(t, tab, `#recent-rows tr[data-id] a.sw-run-link`)
	waitReady(t, tab, "run")
	back(t, tab, basePath)
	click(t, tab, `#error-list a.sw-type-link`)
	waitReady(t, tab, "history")
	if got := location(t, tab); !strings.HasPrefix(got, basePath+"history/?error_type=") {
		t.Errorf("an error type led to %s", got)
	}
	types := browsertest.Eval[[]string](t, tab, `[...document.querySelectorAll("#history-rows .sw-error-row .sw-type")].map(n => n.textContent)`)
	wantType := strings.TrimPrefix(location(t, tab), basePath+"history/?error_type=")
	for _, typ := range types {
		if typ != wantType {
			t.Errorf("history of %s shows a failure of type %s", wantType, typ)
		}
	}
	back(t, tab, basePath)
	click(t, tab, `#problem-rows tr[data-source="marketsharp"] td[data-field="failed"] a`)
	waitReady(t, tab, "history")
	// The failures of the shown days: from the first day's midnight (in the display
	// zone, here UTC).
	since := now.AddDate(0, 0, -6).Format("2006-01-02") + "T00:00:00Z"
	if got := location(t, tab); got != basePath+"history/?crm=marketsharp&status=failed&from="+url.QueryEscape(since) {
		t.Errorf("the failed count led to %s, want the failures since %s", got, since)
	}

	// A CRM and a run that do not exist.
	for path, says := range map[string]string{"crm/nosuchcrm/": "knows no CRM named", "runs/987654321/": "No run with id"} {
		nf := b.NewTab(t)
		nf.Do(t, 20*time.Second, chromedp.Navigate(s.pageURL()+path))
		if text := browsertest.Eval[string](t, nf, `document.getElementById("not-found-text").textContent`); !strings.Contains(text, says) {
			t.Errorf("%s: %q", path, text)
		}
		nf.Console.Reset() // the 404 itself is logged by the browser
	}
	tab.Console.AssertClean(t)
}

func testHistoryFilters(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	s := newSite(t, siteOptions{seed: seedDrill(now)})
	start := s.pageURL() + "history/?crm=genius,marketsharp&status=failed,partial&q=token&limit=25"
	tab := open(t, b, s.pageURL(), 1366, 900, false)
	tab.Do(t, 20*time.Second, chromedp.Navigate(start))
	waitReady(t, tab, "history")

	type form struct {
		CRM    []string `json:"crm"`
		Status []string `json:"status"`
		Q      string   `json:"q"`
		Limit  string   `json:"limit"`
		Type   string   `json:"error_type"`
		Sync   string   `json:"sync_type"`
	}
	readForm := `({crm: [...document.getElementById("f-crm").selectedOptions].map(o => o.value),
		status: [...document.querySelectorAll("#f-status input:checked")].map(b => b.value),
		q: document.getElementById("f-q").value, limit: document.getElementById("f-limit").value,
		error_type: document.getElementById("f-error-type").value, sync_type: document.getElementById("f-sync-type").value})`
	// The filters restore from the URL.
	if got := browsertest.Eval[form](t, tab, readForm); !slices.Equal(got.CRM, []string{"genius", "marketsharp"}) ||
		!slices.Equal(got.Status, []string{"failed", "partial"}) || got.Q != "token" || got.Limit != "25" {
		t.Errorf("form %+v, want the URL's filters", got)
	}
	rows := func() []string {
		return browsertest.Eval[[]string](t, tab, `[...document.querySelectorAll("#history-rows tr[data-id]")].map(r => r.dataset.id)`)
	}
	api := s.api(t, "history/?crm=genius,marketsharp&status=failed,partial&q=token&limit=25")
	var want []string
	for _, r := range api["runs"].([]any) {
		want = append(want, number(r.(map[string]any)["id"]))
	}
	if got := rows(); !slices.Equal(got, want) || len(want) == 0 {
		t.Errorf("rows %v, want the API's %v", got, want)
	}

	// New filters from the form: the URL follows; back restores the old view and form.
	browsertest.Eval[bool](t, tab, `document.getElementById("f-q").value = "", document.getElementById("f-sync-type").value = "jobs", true`)
	click(t, tab, `#f-status input[value="partial"]`)
	click(t, tab, `#f-status input[value="success"]`)
	click(t, tab, "#apply-filters")
	tab.WaitFor(t, 10*time.Second, `location.search === "?crm=genius%2Cmarketsharp&sync_type=jobs&status=success%2Cfailed&limit=25"`)
	tab.WaitFor(t, 10*time.Second, `document.querySelectorAll("#history-rows tr[data-id]").length === 25`)
	csvLink := browsertest.Eval[string](t, tab, `document.getElementById("csv-link").getAttribute("href")`)
	if csvLink != "../api/history.csv?crm=genius%2Cmarketsharp&sync_type=jobs&status=success%2Cfailed" {
		t.Errorf("CSV link %q, want the same filters, from the newest run", csvLink)
	}
	page1 := rows()
	// The next page, by cursor; back to the first.
	click(t, tab, "#next-page")
	tab.WaitFor(t, 10*time.Second, `location.search.includes("cursor=")`)
	tab.WaitFor(t, 10*time.Second, `document.querySelector("#history-rows tr[data-id]").dataset.id !== "`+page1[0]+`"`)
	page2 := rows()
	for _, id := range page2 {
		if slices.Contains(page1, id) {
			t.Errorf("run %s on both pages", id)
		}
	}
	back(t, tab, basePath+"history/?crm=genius%2Cmarketsharp&sync_type=jobs&status=success%2Cfailed&limit=25")
	tab.WaitFor(t, 10*time.Second, `document.querySelector("#history-rows tr[data-id]").dataset.id === "`+page1[0]+`"`)
	back(t, tab, basePath+"history/?crm=genius,marketsharp&status=failed,partial&q=token&limit=25")
	if got := browsertest.Eval[form](t, tab, readForm); got.Q != "token" || got.Sync != "" || !slices.Equal(got.Status, []string{"failed", "partial"}) {
		t.Errorf("after back: form %+v, want the first view's filters", got)
	}
	tab.WaitFor(t, 10*time.Second, `document.querySelector("#history-rows tr[data-id]") && document.querySelector("#history-rows tr[data-id]").dataset.id === "`+want[0]+`"`)
	checkReadable(t, tab, 1366)
	saveScreenshot(t, tab, "history.png")

	// The CSV downloads: the same rows as the API.
	dir := t.TempDir()
	tab.Do(t, 10*time.Second, chromedp.Func(func(ctx context.Context, target *chromedp.Target) error {
		_, err := cdp.Call(ctx, target, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir})
		return err
	}))
	click(t, tab, "#csv-link")
	var files []os.DirEntry
	deadline := time.Now().Add(15 * time.Second)
	for {
		files, _ = os.ReadDir(dir)
		if len(files) == 1 && strings.HasSuffix(files[0].Name(), ".csv") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no CSV downloaded: %v", files)
		}
		time.Sleep(100 * time.Millisecond)
	}
	f, err := os.Open(filepath.Join(dir, files[0].Name()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	records, err := cr.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	// A bad filter in the URL: the page says which, where its rows would be.
	bad := b.NewTab(t)
	bad.Do(t, 20*time.Second, chromedp.Navigate(s.pageURL()+"history/?limit=0&status=failed"))
	waitReady(t, bad, "history")
	banner := browsertest.Eval[string](t, bad, `document.getElementById("banner").textContent`)
	cell := browsertest.Eval[string](t, bad, `document.querySelector("#history-rows td").textContent`)
	if !strings.HasPrefix(banner, "limit must be") || !strings.Contains(cell, "limit must be") {
		t.Errorf("a bad limit: banner %q, rows %q: want both to name the parameter", banner, cell)
	}
	if got := browsertest.Eval[[]string](t, bad, `[...document.querySelectorAll("#f-status input:checked")].map(b => b.value)`); !slices.Equal(got, []string{"failed"}) {
		t.Errorf("a bad limit: the form's statuses %v, want the URL's", got)
	}
	bad.Console.Reset() // the 400 is logged by the browser

	all := s.api(t, "history/?crm=genius,marketsharp&status=failed,partial&q=token&limit=200")
	if len(records) != len(all["runs"].([]any))+1 || records[0][0] != "id" || records[1][0] != want[0] {
		t.Errorf("CSV of %d records starting %v, want the header and the %d runs of the view", len(records), records[:min(2, len(records))], len(all["runs"].([]any)))
	}
	tab.Console.AssertClean(t)
}

func testDrillPhones(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	s := newSite(t, siteOptions{seed: seedDrill(now)})
	run := s.api(t, "history/?crm=genius&status=failed&limit=1")["runs"].([]any)[0].(map[string]any)
	// Only the CRM's page is kept as a picture of a phone: the README shows it.
	pages := []struct{ kind, path, shot string }{
		{"crm", "crm/genius/", "crm-phone.png"},
		{"history", "history/?crm=genius,marketsharp&status=failed,partial", ""},
		{"run", "runs/" + number(run["id"]) + "/", ""},
	}
	for _, width := range readableWidths {
		for _, p := range pages {
			tab := b.NewTab(t)
			tab.Do(t, 20*time.Second, chromedp.EmulateViewport(width, 800, chromedp.EmulateMobile, chromedp.EmulateScale(2)),
				browsertest.ColorScheme("light"), chromedp.Navigate(s.pageURL()+p.path))
			waitReady(t, tab, p.kind)
			// Every message opened, as a reader would.
			browsertest.Eval[int](t, tab, `[...document.querySelectorAll("details")].map(d => d.open = true).length`)
			checkReadable(t, tab, int(width))
			tab.Console.AssertClean(t)
			if width == 375 && p.shot != "" {
				saveScreenshot(t, tab, p.shot)
			}
		}
	}
}

func testDrillHostile(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	var ids []int64
	s := newSite(t, siteOptions{seed: func(t *testing.T, db *pgtest.DB) {
		h := storetest.Hostile()
		h.CRMSource = "hubspot"
		h.Start, h.End = now.Add(-time.Hour), ptr(now.Add(-50*time.Minute))
		h.Endpoint = ptr(`https://x/"><script>window.__pwned=4</script>`)
		h.Configuration = ptr(`{"note": "</pre><img src=x onerror=\"window.__pwned=5\">", "password": "sk_live_0123456789abcdef"}`)
		odd := h
		odd.SyncType, odd.Status = "contacts", "<b>weird</b>"
		ids = db.Insert(t, h, odd, storetest.Row{CRMSource: "hubspot", Start: now.Add(-2 * time.Hour), End: ptr(now.Add(-110 * time.Minute))})
	}})
	tab := open(t, b, s.pageURL(), 1366, 900, false)
	for _, p := range []struct{ kind, path string }{
		{"crm", "crm/hubspot/"},
		{"history", "history/?crm=hubspot"},
		{"history", "history/?q=" + strings.ReplaceAll("<script>", "<", "%3C")},
		{"run", "runs/" + fmt.Sprint(ids[0]) + "/"},
		{"run", "runs/" + fmt.Sprint(ids[1]) + "/"},
	} {
		tab.Do(t, 20*time.Second, chromedp.Navigate(s.pageURL()+p.path))
		waitReady(t, tab, p.kind)
		browsertest.Eval[int](t, tab, `[...document.querySelectorAll("details")].map(d => d.open = true).length`)
		if pwned := browsertest.Eval[any](t, tab, `window.__pwned ?? null`); pwned != nil {
			t.Errorf("%s: hostile text ran (window.__pwned = %v)", p.path, pwned)
		}
		if n := browsertest.Eval[int](t, tab, `document.querySelectorAll("main script, main img, main b").length`); n != 0 {
			t.Errorf("%s: %d elements made from the database's text", p.path, n)
		}
		if body := browsertest.Eval[string](t, tab, `document.body.innerText`); strings.Contains(body, "sk_live_0123456789abcdef") {
			t.Errorf("%s: a secret is shown", p.path)
		}
	}
	// The markup is there, as text.
	tab.Do(t, 20*time.Second, chromedp.Navigate(s.pageURL()+"runs/"+fmt.Sprint(ids[0])+"/"))
	waitReady(t, tab, "run")
	if text := browsertest.Eval[string](t, tab, `document.getElementById("run-error-text").textContent`); !strings.HasPrefix(text, "<script>window.__pwned=1</script>") {
		t.Errorf("message %.60q: want the markup shown as text", text)
	}
	if cfg := browsertest.Eval[string](t, tab, `document.querySelector('pre[data-column="configuration"]').textContent`); !strings.Contains(cfg, `onerror=\"window.__pwned=5\"`) {
		t.Errorf("configuration %q: want the markup shown as text", cfg)
	}
	tab.Console.AssertClean(t)
}
