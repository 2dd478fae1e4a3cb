package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/syncwatch/syncwatch/internal/browsertest"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/storetest"
)

// The API's answer when the database cannot be reached and no earlier figures exist.
const unavailableMessage = "the sync history database cannot be reached and no earlier figures exist"

// partialFront stands in front of a site and breaks one endpoint, as a partial outage
// does: the page comes without that endpoint's figures (as page.go sends a part it could
// not compute in time), and the endpoint answers 503 while broken is set. Everything
// else is the real server's.
type partialFront struct {
	ts       *httptest.Server
	endpoint string // below api/, e.g. "recent-syncs/"
	initial  string // the endpoint's key in the initial-data block
	broken   atomic.Bool
}

func newPartialFront(t *testing.T, s *site, endpoint, initial string) *partialFront {
	t.Helper()
	upstream, err := url.Parse(s.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	f := &partialFront{endpoint: endpoint, initial: initial}
	f.broken.Store(true)
	proxy := httputil.NewSingleHostReverseProxy(upstream)
	proxy.ModifyResponse = func(res *http.Response) error {
		if res.Request.URL.Path != basePath || !f.broken.Load() {
			return nil
		}
		page, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		page, err = withoutInitial(page, f.initial)
		if err != nil {
			return err
		}
		res.Body = io.NopCloser(bytes.NewReader(page))
		res.ContentLength = int64(len(page))
		res.Header.Set("Content-Length", strconv.Itoa(len(page)))
		return nil
	}
	f.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.broken.Load() && r.URL.Path == basePath+"api/"+f.endpoint {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, `{"error":{"code":"unavailable","message":%q}}`, unavailableMessage)
			return
		}
		r.Header.Del("Accept-Encoding") // the page is rewritten: keep it plain
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(f.ts.Close)
	return f
}

// withoutInitial sets one part of the page's initial-data block to null.
func withoutInitial(page []byte, key string) ([]byte, error) {
	const open = `<script type="application/json" id="initial-data">`
	i := bytes.Index(page, []byte(open))
	if i < 0 {
		return nil, fmt.Errorf("the page has no initial-data block")
	}
	start := i + len(open)
	end := start + bytes.Index(page[start:], []byte("</script>"))
	var parts map[string]json.RawMessage
	if err := json.Unmarshal(page[start:end], &parts); err != nil {
		return nil, err
	}
	parts[key] = json.RawMessage("null")
	block, err := json.Marshal(parts) // escapes <, > and &, as html/template does
	if err != nil {
		return nil, err
	}
	return append(append(append([]byte{}, page[:start]...), block...), page[end:]...), nil
}

// banner reads the page's one banner: its tone ("" when hidden) and its text.
func readBanner(t *testing.T, tab *browsertest.Tab) (tone, text string) {
	t.Helper()
	got := browsertest.Eval[[2]string](t, tab, `(b => [b.hidden ? "" : b.dataset.tone, b.hidden ? "" : b.textContent])(document.getElementById("banner"))`)
	if n := browsertest.Eval[int](t, tab, `document.querySelectorAll(".sw-banner:not([hidden])").length`); n > 1 {
		t.Errorf("%d banners are shown at once", n)
	}
	return got[0], got[1]
}

// The outage of issue 16: the recent runs cannot be had while every other figure is
// kept, stale. The page shows one banner that says both, and the recent activity says
// what is missing and why instead of "Loading…"; when the outage ends, all is back.
func testPartialOutage(t *testing.T, b *browsertest.Browser) {
	now := time.Now().UTC()
	s := newSite(t, siteOptions{refresh: time.Second, run: true, seed: func(t *testing.T, db *pgtest.DB) {
		db.Insert(t, storetest.Row{CRMSource: "hubspot", Start: now.Add(-time.Hour), End: ptr(now.Add(-58 * time.Minute)), RecordsProcessed: 10})
	}})
	front := newPartialFront(t, s, "recent-syncs/", "recent_syncs")
	tab := open(t, b, front.ts.URL+basePath, 360, 800, true)

	// The recent runs never came: their table says so, with the API's reason.
	wantMissing := "Recent activity could not be loaded: " + unavailableMessage
	tab.WaitFor(t, 10*time.Second, `document.getElementById("recent-rows").textContent === `+jsString(wantMissing))
	tone, text := readBanner(t, tab)
	if tone != "danger" || !strings.Contains(text, wantMissing) || strings.Contains(text, "No figures could be loaded") {
		t.Errorf("banner with the recent runs missing: %s %q", tone, text)
	}
	if got := browsertest.Eval[string](t, tab, `document.querySelector('[data-stat="completed_today"]').dataset.value`); got != "1" {
		t.Errorf("the overview shows %q, want its figure 1 beside the missing recent runs", got)
	}

	// Now the database goes away too: the other figures are kept, stale. Still one
	// banner, and it does not claim that nothing could be loaded.
	setConnections(t, s.db, false)
	tab.WaitFor(t, 15*time.Second, `document.getElementById("banner").textContent.includes("cannot be reached since")`)
	tone, text = readBanner(t, tab)
	if tone != "danger" || !strings.Contains(text, wantMissing) || !strings.Contains(text, "Overview, CRM status, charts and errors show figures from") ||
		strings.Contains(text, "No figures could be loaded") || strings.Contains(text, "Showing figures from") {
		t.Errorf("banner with stale figures and the recent runs missing: %s %q", tone, text)
	}
	if !browsertest.Eval[bool](t, tab, `!document.body.innerText.includes("Loading…")`) {
		t.Errorf("a part of the page still says Loading…")
	}
	checkReadable(t, tab, 360)

	// The outage ends: every figure comes back and the banner goes.
	setConnections(t, s.db, true)
	front.broken.Store(false)
	tab.WaitFor(t, 20*time.Second, `document.getElementById("banner").hidden && document.querySelector("#recent-rows tr[data-id]") !== null`)
	for _, p := range tab.Console.Problems() {
		// The 503s of the broken endpoint are expected; nothing else is.
		if !strings.Contains(p, "503") {
			t.Errorf("the page reported: %s", p)
		}
	}
}

// setConnections lets syncwatch connect to its database, or shuts it out (and ends the
// connections it has), as a database that goes away does.
func setConnections(t *testing.T, db *pgtest.DB, allow bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// A database cannot close its own doors: ask from the server's default database.
	admin, err := pgx.Connect(ctx, pgtest.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	sqls := []string{fmt.Sprintf("ALTER DATABASE %s ALLOW_CONNECTIONS %v", db.Name, allow)}
	if !allow {
		sqls = append(sqls, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"+db.Name+"' AND application_name = 'syncwatch'")
	}
	for _, sql := range sqls {
		if _, err := admin.Exec(ctx, sql); err != nil {
			t.Fatal(err)
		}
	}
}

// A page that could load none of its figures from the database (it was never reachable)
// says in every part what is missing and why: no part stays on "Loading…".
func testNothingLoaded(t *testing.T, b *browsertest.Browser) {
	ts := siteWithoutDatabase(t)

	tab := open(t, b, ts.URL+basePath, 360, 800, true)
	tab.WaitFor(t, 10*time.Second, `document.getElementById("banner").dataset.tone === "danger"`)
	type part struct {
		Sel  string `json:"sel"`
		Text string `json:"text"`
	}
	parts := browsertest.Eval[[]part](t, tab, `["#crm-rows", "#recent-rows", "#error-list", "#problem-rows"].map(sel => ({sel, text: document.querySelector(sel).textContent}))`)
	for _, p := range parts {
		if !strings.Contains(p.Text, "could not be loaded: ") || strings.Contains(p.Text, "Loading") {
			t.Errorf("%s says %q, want what is missing and why", p.Sel, p.Text)
		}
	}
	notes := browsertest.Eval[[]string](t, tab, `[...document.querySelectorAll(".sw-chart-empty")].filter(n => !n.hidden).map(n => n.textContent)`)
	if len(notes) != 5 {
		t.Errorf("charts: %d notes shown, want 5: %q", len(notes), notes)
	}
	for _, n := range notes {
		if !strings.Contains(n, "could not be loaded") {
			t.Errorf("chart note %q does not say the chart could not be loaded", n)
		}
	}
	if !browsertest.Eval[bool](t, tab, `!document.body.innerText.includes("Loading…")`) {
		t.Errorf("a part of the page still says Loading…")
	}
	// The system health answers without the database, so something is shown: the banner
	// names the parts missing instead of saying nothing could be loaded.
	tone, text := readBanner(t, tab)
	if tone != "danger" || !strings.Contains(text, "Overview, CRM status, recent activity, charts and errors could not be loaded") {
		t.Errorf("banner: %s %q", tone, text)
	}
	checkReadable(t, tab, 360)
}
