package web_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/syncs"
	"github.com/syncwatch/syncwatch/internal/web"
)

// The drill-down's handlers over a fake, in the fast tier: parameters, errors, pages and
// the CSV's streaming, with no database.

// fakeDrilldown answers each question with a small JSON naming it as the server parsed
// it. The CRM "nosuch" and the run 404 do not exist.
type fakeDrilldown struct {
	err error // returned by every answer when set

	mu    sync.Mutex
	asked []string
	// export writes the CSV; nil writes two lines.
	export func(ctx context.Context, w io.Writer, flush func()) error
}

func (f *fakeDrilldown) answer(question string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, question)
	if f.err != nil {
		return nil, f.err
	}
	return []byte(fmt.Sprintf("{\"question\":%q}\n", question)), nil
}

func (f *fakeDrilldown) questions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

func (f *fakeDrilldown) CRMJSON(_ context.Context, source string, days int) ([]byte, error) {
	if source == "nosuch" {
		return nil, fmt.Errorf("crm: %w", dashboard.ErrNotFound)
	}
	return f.answer(fmt.Sprintf("crm %s days=%d", source, days))
}

func (f *fakeDrilldown) RunDetailJSON(_ context.Context, id int64) ([]byte, error) {
	if id == 404 {
		return nil, fmt.Errorf("run: %w", dashboard.ErrNotFound)
	}
	return f.answer(fmt.Sprintf("run %d", id))
}

func describe(q dashboard.HistoryQuery) string {
	var b strings.Builder
	fmt.Fprintf(&b, "history limit=%d", q.Limit)
	if len(q.CRMSources) > 0 {
		fmt.Fprintf(&b, " crm=%s", strings.Join(q.CRMSources, "|"))
	}
	if q.SyncType != "" {
		fmt.Fprintf(&b, " sync_type=%s", q.SyncType)
	}
	if len(q.Statuses) > 0 {
		fmt.Fprintf(&b, " status=%s", strings.Join(q.Statuses, "|"))
	}
	if q.ErrorType != "" {
		fmt.Fprintf(&b, " error_type=%s", q.ErrorType)
	}
	if !q.From.IsZero() {
		fmt.Fprintf(&b, " from=%s", q.From.Format(time.RFC3339))
	}
	if !q.To.IsZero() {
		fmt.Fprintf(&b, " to=%s", q.To.Format(time.RFC3339))
	}
	if q.MinDurationSeconds != nil {
		fmt.Fprintf(&b, " min_duration=%d", *q.MinDurationSeconds)
	}
	if q.Text != "" {
		fmt.Fprintf(&b, " q=%s", q.Text)
	}
	if q.Cursor != nil {
		fmt.Fprintf(&b, " cursor=%s", dashboard.FormatCursor(*q.Cursor))
	}
	return b.String()
}

func (f *fakeDrilldown) HistoryJSON(_ context.Context, q dashboard.HistoryQuery) ([]byte, error) {
	return f.answer(describe(q))
}

func (f *fakeDrilldown) ExportHistoryCSV(ctx context.Context, w io.Writer, flush func(), q dashboard.HistoryQuery) error {
	if _, err := f.answer("csv " + describe(q)); err != nil {
		return err
	}
	if f.export != nil {
		return f.export(ctx, w, flush)
	}
	_, err := io.WriteString(w, "id,crm_source\n1,hubspot\n")
	flush()
	return err
}

// drillServer serves the fakes under basePath.
func drillServer(t *testing.T, d *fakeDrilldown) http.Handler {
	t.Helper()
	h, _ := fakeServer(t, &fakeFigures{}, web.Config{Drilldown: d})
	return h
}

func TestDrillDownAnswersGoToTheirQuestions(t *testing.T) {
	t.Parallel()
	cases := []struct{ path, question string }{
		{"api/crms/genius/", "crm genius days=7"},
		{"api/crms/HubSpot/?days=30", "crm hubspot days=30"},
		{"api/crms/acme.io/?days=90&other=1", "crm acme.io days=90"},
		{"api/runs/12345/", "run 12345"},
		{"api/history/", "history limit=50"},
		{"api/history/?crm=genius,HubSpot&crm=acme&status=completed,FAILED&sync_type=job_change_orders",
			"history limit=50 crm=genius|hubspot|acme sync_type=job_change_orders status=success|failed"},
		{"api/history/?error_type=rate_limit&from=2025-10-01&to=2025-10-09T12:30:00%2B02:00&min_duration=0&limit=200",
			"history limit=200 error_type=rate_limit from=2025-10-01T00:00:00Z to=2025-10-09T10:30:00Z min_duration=0"},
		{"api/history/?q=api_key%3D***+rejected&cursor=1760000000000000_42",
			"history limit=50 q=api_key=*** rejected cursor=1760000000000000_42"},
		{"api/history/?cursor=1760000000000000_-9223372036854775808",
			"history limit=50 cursor=1760000000000000_-9223372036854775808"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			d := &fakeDrilldown{}
			rec := do(drillServer(t, d), "GET", basePath+c.path, nil)
			if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/json; charset=utf-8" ||
				rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("status %d, headers %v: %s", rec.Code, rec.Header(), rec.Body)
			}
			if got := d.questions(); len(got) != 1 || got[0] != c.question {
				t.Errorf("asked %q, want [%q]", got, c.question)
			}
			if want := fmt.Sprintf("{\"question\":%q}\n", c.question); rec.Body.String() != want {
				t.Errorf("body %q, want the answer's own bytes %q", rec.Body, want)
			}
		})
	}
}

func TestDrillDownBadParametersAreA400NamingThem(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 201)
	cases := []struct{ path, names string }{
		{"api/crms/genius/?days=0", "days"},
		{"api/crms/genius/?days=91", "days"},
		{"api/history/?limit=0", "limit"},
		{"api/history/?limit=201", "limit"},
		{"api/history.csv?limit=100001", "limit"},
		{"api/history/?crm=" + strings.Repeat("a", 51), "crm"},
		{"api/history/?crm=" + strings.Repeat("a,", 21), "crm"},
		{"api/history/?sync_type=a&sync_type=b", "sync_type"},
		{"api/history/?sync_type=%07bell", "sync_type"},
		{"api/history/?status=fa%20iled", "status"},
		{"api/history/?error_type=nope", "error_type"},
		{"api/history/?from=yesterday", "from"},
		{"api/history/?to=2025-13-01", "to"},
		{"api/history/?from=2025-10-09&to=2025-10-01", "to"},
		{"api/history/?min_duration=-1", "min_duration"},
		{"api/history/?min_duration=1.5", "min_duration"},
		{"api/history/?q=" + long, "q"},
		{"api/history/?q=a%0Ab", "q"},
		{"api/history/?cursor=abc", "cursor"},
		{"api/history/?cursor=-250000000000000000_1", "cursor"},  // before year 1
		{"api/history/?cursor=-9223372036854775808_0", "cursor"}, // the least int64
		{"api/history/?cursor=253402300800000000_1", "cursor"},   // year 10000
		{"api/history/?q=%zz", "q"},
		{"api/history.csv?status=%", "status"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			d := &fakeDrilldown{}
			rec := do(drillServer(t, d), "GET", basePath+c.path, nil)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
			code, msg := decodeError(t, rec.Body.Bytes())
			if code != "bad_request" || !strings.HasPrefix(msg, c.names+" ") {
				t.Errorf("error %q %q, want bad_request naming %s", code, msg, c.names)
			}
			if strings.Contains(msg, "xxxxxxxx") || strings.Contains(msg, "yesterday") {
				t.Errorf("the message %q echoes the value", msg)
			}
			if q := d.questions(); len(q) != 0 {
				t.Errorf("a bad request still asked %q", q)
			}
		})
	}
}

func TestDrillDownNotFound(t *testing.T) {
	t.Parallel()
	h := drillServer(t, &fakeDrilldown{})
	for _, path := range []string{"api/crms/nosuch/", "api/runs/404/", "api/runs/abc/", "api/runs/0/", "api/runs/-1/", "api/runs/007/"} {
		rec := do(h, "GET", basePath+path, nil)
		if code, _ := decodeError(t, rec.Body.Bytes()); rec.Code != 404 || code != "not_found" {
			t.Errorf("%s: %d %s, want 404 not_found", path, rec.Code, code)
		}
	}
	for path, says := range map[string]string{
		"crm/nosuch/":     "knows no CRM named",
		"crm/%07x/":       "knows no CRM named",
		"runs/404/":       "No run with id",
		"runs/x%3Cb%3E/":  "No run with id",
		"runs/123456789/": "", // exists
	} {
		rec := do(h, "GET", basePath+path, nil)
		body := rec.Body.String()
		if says == "" {
			if rec.Code != 200 || !strings.Contains(body, "page-run.js") {
				t.Errorf("%s: %d, want the run's page", path, rec.Code)
			}
			continue
		}
		if rec.Code != 404 || !strings.Contains(body, says) || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Errorf("%s: %d %q, want a 404 page saying %q", path, rec.Code, rec.Header().Get("Content-Type"), says)
		}
		if strings.Contains(body, "<b>") || strings.Contains(body, "\a") {
			t.Errorf("%s: the path reached the page unescaped: %s", path, body)
		}
	}
}

func TestDrillDownFailuresAnswerWhatTheyMean(t *testing.T) {
	t.Parallel()
	cases := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("history: %w: %w: canceled", syncs.ErrUnavailable, syncs.ErrTooSlow), 503, "too_slow"},
		{fmt.Errorf("export: %w", dashboard.ErrBusy), 503, "busy"},
		{fmt.Errorf("history: %w", syncs.ErrUnavailable), 503, "unavailable"},
	}
	for _, c := range cases {
		h := drillServer(t, &fakeDrilldown{err: c.err})
		for _, path := range []string{"api/history/", "api/history.csv"} {
			rec := do(h, "GET", basePath+path, nil)
			code, _ := decodeError(t, rec.Body.Bytes())
			if rec.Code != c.status || code != c.code {
				t.Errorf("%s with %v: %d %s, want %d %s", path, c.err, rec.Code, code, c.status, c.code)
			}
			if rec.Header().Get("Content-Disposition") != "" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
				t.Errorf("%s: an error answered as a download: %v", path, rec.Header())
			}
			if c.code == "busy" && rec.Header().Get("Retry-After") == "" {
				t.Errorf("%s: busy without Retry-After", path)
			}
		}
	}
}

func TestHistoryCSVIsADownload(t *testing.T) {
	t.Parallel()
	d := &fakeDrilldown{}
	rec := do(drillServer(t, d), "GET", basePath+"api/history.csv?crm=genius&status=failed&cursor=5_6", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(rec.Header().Get("Content-Disposition"), `attachment; filename="sync-history-`) ||
		rec.Header().Get("Cache-Control") != "no-store" || !rec.Flushed {
		t.Errorf("status %d, headers %v, flushed %v: want a flushed CSV download", rec.Code, rec.Header(), rec.Flushed)
	}
	if got := d.questions(); len(got) != 1 || got[0] != "csv history limit=100000 crm=genius status=failed cursor=5_6" {
		t.Errorf("asked %q", got)
	}
}

// A HEAD says what the download would be, without reading a row (nor taking one of the
// exports' places).
func TestHistoryCSVHeadReadsNoRow(t *testing.T) {
	t.Parallel()
	d := &fakeDrilldown{}
	rec := do(drillServer(t, d), "HEAD", basePath+"api/history.csv?crm=genius", nil)
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/csv; charset=utf-8" {
		t.Errorf("HEAD: status %d, headers %v; want 200 and the CSV's headers", rec.Code, rec.Header())
	}
	if got := d.questions(); len(got) != 0 {
		t.Errorf("HEAD asked %q, want nothing", got)
	}
}

// The CSV leaves the server as it is written: the client reads the first rows while the
// export still holds the rest back.
func TestHistoryCSVReachesTheClientBeforeTheExportEnds(t *testing.T) {
	t.Parallel()
	firstRead := make(chan struct{})
	d := &fakeDrilldown{export: func(ctx context.Context, w io.Writer, flush func()) error {
		if _, err := io.WriteString(w, "id,crm_source\n1,hubspot\n"); err != nil {
			return err
		}
		flush()
		select { // the rest only once the client has the first rows
		case <-firstRead:
		case <-ctx.Done():
			return ctx.Err()
		}
		_, err := io.WriteString(w, "2,genius\n")
		flush()
		return err
	}}
	ts := httptest.NewServer(drillServer(t, d))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+basePath+"api/history.csv", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	r := bufio.NewReader(res.Body)
	for _, want := range []string{"id,crm_source\n", "1,hubspot\n"} {
		if line, err := r.ReadString('\n'); line != want || err != nil {
			t.Fatalf("read %q, %v: want %q before the export goes on", line, err, want)
		}
	}
	close(firstRead)
	if rest, _ := io.ReadAll(r); string(rest) != "2,genius\n" {
		t.Errorf("then %q", rest)
	}
}

func TestDrillDownPages(t *testing.T) {
	t.Parallel()
	d := &fakeDrilldown{}
	h := drillServer(t, d)
	cases := []struct {
		path, module, initial, question string
	}{
		{"crm/genius/", "page-crm.js", `{"question":"crm genius days=7"}`, "crm genius days=7"},
		{"crm/Google%20Sheets/", "page-crm.js", `"crm gsheet days=7"`, "crm gsheet days=7"},
		{"history/?crm=genius&status=failed", "page-history.js", `"history limit=50 crm=genius status=failed"`, "history limit=50 crm=genius status=failed"},
		{"history/?limit=0", "page-history.js", `null`, ""},
		{"runs/77/", "page-run.js", `"run 77"`, "run 77"},
	}
	for _, c := range cases {
		rec := do(h, "GET", basePath+c.path, nil)
		body := rec.Body.String()
		if rec.Code != 200 || !strings.Contains(body, c.module) {
			t.Errorf("%s: %d, want the page with %s", c.path, rec.Code, c.module)
			continue
		}
		if !strings.Contains(body, `id="initial-data">`) || !strings.Contains(strings.ReplaceAll(body, `\u0022`, `"`), c.initial) {
			t.Errorf("%s: the page does not carry %s as its first figures", c.path, c.initial)
		}
		// Every URL of the page is relative to itself, back up to the base path.
		if strings.Contains(body, `href="/`) || strings.Contains(body, `src="/`) {
			t.Errorf("%s: an absolute URL in the page", c.path)
		}
	}
	// Without a drill-down, the pages and their API do not exist.
	plain, _ := fakeServer(t, &fakeFigures{}, web.Config{})
	for _, path := range []string{"api/history/", "api/crms/genius/", "history/"} {
		if rec := do(plain, "GET", basePath+path, nil); rec.Code != 404 {
			t.Errorf("%s without a drill-down: %d, want 404", path, rec.Code)
		}
	}
}

// Each drill-down page preloads exactly the modules its entry point imports, directly or
// not, as the overview does (TestPagePreloadsEveryModuleItImports), and every URL it
// names leads back up to the base path.
func TestDrillDownPagesPreloadEveryModuleTheyImport(t *testing.T) {
	t.Parallel()
	h := drillServer(t, &fakeDrilldown{})
	for path, root := range map[string]string{"crm/genius/": "../../", "history/": "../", "runs/1/": "../../"} {
		page := do(h, "GET", basePath+path, nil).Body.String()
		module := regexp.MustCompile(`<script type="module" src="`+regexp.QuoteMeta(root)+`(static/[^"?]+)\?v=[^"]+"`).FindAllStringSubmatch(page, -1)
		if len(module) != 1 {
			t.Errorf("%s: %d module scripts under %sstatic/, want one", path, len(module), root)
			continue
		}
		var preloaded []string
		for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="([^"?]+)\?v=`).FindAllStringSubmatch(page, -1) {
			if !strings.HasPrefix(m[1], root+"static/") {
				t.Errorf("%s preloads %s, not under %sstatic/", path, m[1], root)
			}
			preloaded = append(preloaded, strings.TrimPrefix(m[1], root))
		}
		imported := map[string]bool{}
		queue := []string{module[0][1]}
		for len(queue) > 0 {
			url := queue[0]
			queue = queue[1:]
			rec := do(h, "GET", basePath+url, nil)
			if rec.Code != 200 {
				t.Fatalf("%s: GET %s: %d", path, url, rec.Code)
			}
			for _, spec := range specifiers(rec.Body.String()) {
				name, _, _ := strings.Cut(strings.TrimPrefix(spec, "./"), "?")
				if !imported["static/"+name] {
					imported["static/"+name] = true
					queue = append(queue, "static/"+name)
				}
			}
		}
		want := slices.Sorted(maps.Keys(imported))
		slices.Sort(preloaded)
		if !slices.Equal(preloaded, want) {
			t.Errorf("%s preloads\n\t%v\nbut its modules import\n\t%v", path, preloaded, want)
		}
	}
}
