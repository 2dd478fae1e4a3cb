package web_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/postgres"
	"github.com/syncwatch/syncwatch/internal/storetest"
	"github.com/syncwatch/syncwatch/internal/web"
)

func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, string(body)
}

// initialData returns the JSON block the page carries its first figures in.
func initialData(t *testing.T, page string) map[string]any {
	t.Helper()
	const open = `<script type="application/json" id="initial-data">`
	i := strings.Index(page, open)
	if i < 0 {
		t.Fatalf("the page has no initial-data block")
	}
	rest := page[i+len(open):]
	block := rest[:strings.Index(rest, "</script>")]
	var v map[string]any
	if err := json.Unmarshal([]byte(block), &v); err != nil {
		t.Fatalf("initial-data is not JSON (%v): %.200s", err, block)
	}
	return v
}

func TestPageCarriesItsFirstFiguresSafely(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	breakout := `</script><script>window.__pwned=1</script><!-- <script>`
	s := newSite(t, siteOptions{seed: func(t *testing.T, db *pgtest.DB) {
		db.Insert(t, storetest.Row{CRMSource: "hubspot", Status: "failed", Start: now.Add(-time.Hour),
			End: ptr(now.Add(-59 * time.Minute)), ErrorMessage: ptr(breakout)})
	}})
	res, page := get(t, s.pageURL())
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET page: %s %s", res.Status, res.Header.Get("Content-Type"))
	}
	// Two script elements load files and one holds the figures: any other "</script"
	// would be database text ending a script element early.
	if n := strings.Count(strings.ToLower(page), "</script"); n != 3 {
		t.Errorf("the page has %d </script> tags, want 3", n)
	}
	if strings.Contains(page, "style=") || regexp.MustCompile(`<script>`).MatchString(page) {
		t.Errorf("the page has an inline style or script, which the CSP forbids")
	}
	in := initialData(t, page)
	for _, name := range []string{"stats", "crm_status", "recent_syncs", "charts", "errors", "system_health"} {
		if in[name] == nil {
			t.Errorf("initial-data.%s is null; the page should come with its figures", name)
		}
	}
	got := in["recent_syncs"].(map[string]any)["syncs"].([]any)[0].(map[string]any)["error_message"]
	want := s.api(t, "recent-syncs/?limit=20")["syncs"].([]any)[0].(map[string]any)["error_message"]
	if got != want || !strings.Contains(want.(string), "</script>") {
		t.Errorf("initial-data message: got %q, want the API's %q", got, want)
	}
	if got := regexp.MustCompile(`data-refresh-seconds="(\d+)"`).FindStringSubmatch(page); got == nil || got[1] != "30" {
		t.Errorf("data-refresh-seconds: got %v, want the server's 30", got)
	}
}

func TestPageRendersWithoutADatabase(t *testing.T) {
	t.Parallel()
	ts := siteWithoutDatabase(t)
	start := time.Now()
	res, page := get(t, ts.URL+basePath)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET page: %s", res.Status)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("the page took %s without a database; it must not wait long for figures", took)
	}
	in := initialData(t, page)
	if in["stats"] != nil || in["system_health"] == nil {
		t.Errorf("initial-data: got stats %v, health %v; want stats null (the page fetches it) and health present", in["stats"], in["system_health"])
	}
}

// The vendored libraries are what scripts/vendor-assets.sh recorded: a hand edit or a
// half-finished upgrade fails here.
func TestVendoredFilesMatchTheirChecksums(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("static", "vendor")
	f, err := os.Open(filepath.Join(dir, "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	listed := map[string]bool{"SHA256SUMS": true}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		sum, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: bad line %q", sc.Text())
		}
		listed[name] = true
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		got := sha256.Sum256(body)
		if hex.EncodeToString(got[:]) != sum {
			t.Errorf("%s does not match SHA256SUMS: run scripts/vendor-assets.sh", name)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !listed[e.Name()] {
			t.Errorf("%s is in vendor/ but not in SHA256SUMS", e.Name())
		}
	}
	for _, licence := range []string{"bootstrap.LICENSE.txt", "chart.js.LICENSE.txt"} {
		if !listed[licence] {
			t.Errorf("the licence %s is missing", licence)
		}
	}
}

// siteWithoutDatabase serves the page over a store whose database never answers: nothing
// listens on port 1, so every query fails at once.
func siteWithoutDatabase(t *testing.T) *httptest.Server {
	t.Helper()
	store, err := postgres.Open(context.Background(), "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1", postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	dash, err := dashboard.New(dashboard.Config{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.NewServer(web.Config{BasePath: basePath, Figures: dash})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts
}
