package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/syncs"
	"github.com/syncwatch/syncwatch/internal/web"
)

// The fast tier: the server over a fake of the figures, with no database, broker or
// browser, so that it runs in well under a second (go test -short ./internal/web runs
// only these and the parameter tests).

// fakeFigures answers every question with a small JSON naming it, and records the
// questions as the server parsed them.
type fakeFigures struct {
	err error // returned by every JSON answer when set

	mu         sync.Mutex
	asked      []string
	checkedNow int
}

func (f *fakeFigures) answer(question string) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, question)
	if f.err != nil {
		return nil, f.err
	}
	return []byte(fmt.Sprintf("{\"question\":%q,\"stale\":false}\n", question)), nil
}

func (f *fakeFigures) questions() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.asked...)
}

func (f *fakeFigures) StatsJSON(context.Context) ([]byte, error)     { return f.answer("stats") }
func (f *fakeFigures) CRMStatusJSON(context.Context) ([]byte, error) { return f.answer("crm-status") }
func (f *fakeFigures) RecentSyncsJSON(_ context.Context, q dashboard.RecentQuery) ([]byte, error) {
	return f.answer(fmt.Sprintf("recent limit=%d crm=%s status=%s", q.Limit, q.CRMSource, q.Status))
}
func (f *fakeFigures) ChartsJSON(_ context.Context, days int) ([]byte, error) {
	return f.answer(fmt.Sprintf("charts days=%d", days))
}
func (f *fakeFigures) ErrorsJSON(_ context.Context, days int) ([]byte, error) {
	return f.answer(fmt.Sprintf("errors days=%d", days))
}
func (f *fakeFigures) SystemHealth() dashboard.SystemHealthResponse {
	var r dashboard.SystemHealthResponse
	r.Database.Status = health.StatusHealthy
	return r
}
func (f *fakeFigures) CheckHealthNow(context.Context) dashboard.SystemHealthResponse {
	f.mu.Lock()
	f.checkedNow++
	f.mu.Unlock()
	return f.SystemHealth()
}
func (f *fakeFigures) RefreshInterval() time.Duration { return 30 * time.Second }
func (f *fakeFigures) DefaultDays() int               { return 7 }

// logBuffer collects log lines safely from the server's goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// fakeServer serves f under basePath; cfg may set Auth and Ready.
func fakeServer(t *testing.T, f web.Figures, cfg web.Config) (http.Handler, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	cfg.BasePath, cfg.Figures, cfg.Version = basePath, f, "test"
	cfg.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	srv, err := web.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return srv, logs
}

// do serves one request and returns the recorded response.
func do(h http.Handler, method, target string, header http.Header) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func decodeError(t *testing.T, body []byte) (code, message string) {
	t.Helper()
	var e struct {
		Error struct{ Code, Message string }
	}
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("not a JSON error: %q: %v", body, err)
	}
	return e.Error.Code, e.Error.Message
}

func TestEveryAnswerGoesToItsQuestion(t *testing.T) {
	t.Parallel()
	cases := []struct {
		path     string
		question string
	}{
		{"api/stats/", "stats"},
		{"api/crm-status/", "crm-status"},
		{"api/recent-syncs/", "recent limit=20 crm= status="},
		{"api/recent-syncs/?limit=5&crm=genius&status=completed", "recent limit=5 crm=genius status=success"},
		{"api/recent-syncs/?status=in_progress&unknown=x", "recent limit=20 crm= status=running"},
		{"api/recent-syncs/?status=SUCCESS&crm=HubSpot", "recent limit=20 crm=hubspot status=success"},
		{"api/stats/?unknown=%zz&%zz=1", "stats"},
		{"api/performance-charts/", "charts days=7"},
		{"api/performance-charts/?days=90", "charts days=90"},
		{"api/errors/?days=1", "errors days=1"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			f := &fakeFigures{}
			h, _ := fakeServer(t, f, web.Config{})
			rec := do(h, "GET", basePath+c.path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if got := rec.Header().Get("Content-Type"); got != "application/json; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if got := rec.Header().Get("Cache-Control"); got != "no-store" {
				t.Errorf("Cache-Control %q", got)
			}
			want := fmt.Sprintf("{\"question\":%q,\"stale\":false}\n", c.question)
			if rec.Body.String() != want {
				t.Errorf("body %q, want the figures' own bytes %q", rec.Body, want)
			}
			if got := f.questions(); len(got) != 1 || got[0] != c.question {
				t.Errorf("asked %q, want [%q]", got, c.question)
			}
		})
	}
}

func TestBadParametersAreA400NamingThem(t *testing.T) {
	t.Parallel()
	cases := []struct{ path, names string }{
		{"api/recent-syncs/?limit=0", "limit"},
		{"api/recent-syncs/?limit=201", "limit"},
		{"api/recent-syncs/?limit=1&limit=2", "limit"},
		{"api/recent-syncs/?crm=%3Cscript%3E", "crm"},
		{"api/recent-syncs/?status=fa%20iled", "status"},
		{"api/performance-charts/?days=0", "days"},
		{"api/performance-charts/?days=91", "days"},
		{"api/errors/?days=seven", "days"},
		{"api/system-health/?check=later", "check"},
		{"api/recent-syncs/?limit=%zz", "limit"},
		{"api/recent-syncs/?crm=hub%2", "crm"},
		{"api/performance-charts/?days=%G7", "days"},
		{"api/system-health/?check=%", "check"},
	}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			t.Parallel()
			f := &fakeFigures{}
			h, logs := fakeServer(t, f, web.Config{})
			rec := do(h, "GET", basePath+c.path, nil)
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400: %s", rec.Code, rec.Body)
			}
			code, msg := decodeError(t, rec.Body.Bytes())
			if code != "bad_request" || !strings.HasPrefix(msg, c.names+" ") {
				t.Errorf("error %q %q, want bad_request naming %s", code, msg, c.names)
			}
			if q := f.questions(); len(q) != 0 {
				t.Errorf("a bad request still asked %q", q)
			}
			if logs.String() != "" {
				t.Errorf("a bad request was logged: %s", logs)
			}
		})
	}
}

func TestFailuresAnswerWhatTheyMean(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		err    error
		status int
		code   string
		logged bool
	}{
		{"database down, no earlier figures", fmt.Errorf("figures: %w", syncs.ErrUnavailable), 503, "unavailable", false},
		{"figures still being computed", context.DeadlineExceeded, 503, "unavailable", false},
		{"a bug", errors.New("index out of range in the figures, password=hunter2"), 500, "internal", true},
		{"a warehouse without its table", fmt.Errorf("figures: %w", &syncs.SourceError{Kind: syncs.ErrNotReady,
			Reason: "table orchestration.sync_history does not exist; run `syncwatch doctor`",
			Err:    errors.New("ERROR: relation does not exist, password=hunter2")}), 503, "warehouse_not_ready", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h, logs := fakeServer(t, &fakeFigures{err: c.err}, web.Config{})
			rec := do(h, "GET", basePath+"api/stats/", nil)
			code, msg := decodeError(t, rec.Body.Bytes())
			if rec.Code != c.status || code != c.code {
				t.Errorf("got %d %s, want %d %s", rec.Code, code, c.status, c.code)
			}
			if strings.Contains(rec.Body.String(), "hunter2") || strings.Contains(msg, "index out of range") {
				t.Errorf("the cause reached the client: %s", rec.Body)
			}
			if why, ok := syncs.Reason(c.err); ok && !strings.Contains(msg, why) {
				t.Errorf("message %q does not give the reason %q", msg, why)
			}
			// A figure that cannot be computed is logged once by the dashboard, when its
			// refresh fails; only a bug is logged again here, with its cause.
			if got := strings.Contains(logs.String(), "level=ERROR"); got != c.logged {
				t.Errorf("logged at error level: %v, want %v: %s", got, c.logged, logs)
			}
		})
	}
}

func TestEveryResponseCarriesTheSecurityHeaders(t *testing.T) {
	t.Parallel()
	auth, err := web.NewAuth(nil, "a-token-of-sixteen-chars")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := fakeServer(t, &fakeFigures{}, web.Config{Auth: auth})
	bearer := http.Header{"Authorization": {"Bearer a-token-of-sixteen-chars"}}
	for _, c := range []struct {
		path   string
		header http.Header
		status int
	}{
		{basePath, bearer, 200},
		{basePath + "api/stats/", bearer, 200},
		{basePath + "static/app.css", bearer, 200},
		{basePath + "api/nothing/", bearer, 404},
		{basePath + "api/stats/", nil, 401},
		{"/healthz", nil, 200},
	} {
		rec := do(h, "GET", c.path, c.header)
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.path, rec.Code, c.status)
		}
		hd := rec.Header()
		if !strings.Contains(hd.Get("Content-Security-Policy"), "script-src 'self'") ||
			hd.Get("X-Content-Type-Options") != "nosniff" || hd.Get("Referrer-Policy") != "no-referrer" ||
			hd.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: security headers missing: %v", c.path, hd)
		}
	}
}

func TestAuthentication(t *testing.T) {
	t.Parallel()
	const token = "a-token-of-sixteen-chars"
	auth, err := web.NewAuth(nil, token)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := fakeServer(t, &fakeFigures{}, web.Config{Auth: auth, Ready: func(context.Context) error { return nil }})
	basic := func(user, pass string) http.Header {
		req := httptest.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pass)
		return req.Header
	}
	cases := []struct {
		name    string
		path    string
		header  http.Header
		status  int
		message string
	}{
		{"no credentials", basePath + "api/stats/", nil, 401, "credentials are required"},
		{"the bearer token", basePath + "api/stats/", http.Header{"Authorization": {"Bearer " + token}}, 200, ""},
		{"a wrong bearer token", basePath + "api/stats/", http.Header{"Authorization": {"Bearer " + token + "x"}}, 401, "invalid credentials"},
		{"the token as a browser sends it", basePath, basic("anyone", token), 200, ""},
		{"a wrong password", basePath, basic("anyone", "not-the-token-at-all"), 401, "invalid credentials"},
		{"healthz stays open", "/healthz", nil, 200, ""},
		{"readyz stays open", "/readyz", nil, 200, ""},
	}
	for _, c := range cases {
		rec := do(h, "GET", c.path, c.header)
		if rec.Code != c.status {
			t.Errorf("%s: status %d, want %d", c.name, rec.Code, c.status)
		}
		if c.status == 401 {
			if !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Basic realm=") {
				t.Errorf("%s: no WWW-Authenticate: %v", c.name, rec.Header())
			}
			if code, msg := decodeError(t, rec.Body.Bytes()); code != "unauthorized" || msg != c.message {
				t.Errorf("%s: %q %q, want unauthorized %q", c.name, code, msg, c.message)
			}
		}
	}
}

func TestUnknownPathsAndMethodsAnswerInJSON(t *testing.T) {
	t.Parallel()
	h, _ := fakeServer(t, &fakeFigures{}, web.Config{})
	rec := do(h, "GET", basePath+"api/nothing/", nil)
	if code, _ := decodeError(t, rec.Body.Bytes()); rec.Code != 404 || code != "not_found" {
		t.Errorf("unknown API path: %d %s", rec.Code, code)
	}
	rec = do(h, "POST", basePath+"api/stats/", nil)
	if code, _ := decodeError(t, rec.Body.Bytes()); rec.Code != 405 || code != "method_not_allowed" || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d %s, Allow %q", rec.Code, code, rec.Header().Get("Allow"))
	}
	rec = do(h, "GET", "/", nil)
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != basePath {
		t.Errorf("/: %d to %q, want a redirect to the base path", rec.Code, rec.Header().Get("Location"))
	}
}

func TestSystemHealthChecksNowOnlyWhenAsked(t *testing.T) {
	t.Parallel()
	f := &fakeFigures{}
	h, _ := fakeServer(t, f, web.Config{})
	for _, path := range []string{"api/system-health/", "api/system-health/?check=now"} {
		rec := do(h, "GET", basePath+path, nil)
		var r dashboard.SystemHealthResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &r); rec.Code != 200 || err != nil || r.Database.Status != health.StatusHealthy {
			t.Errorf("%s: %d %v %s", path, rec.Code, err, rec.Body)
		}
	}
	if f.checkedNow != 1 {
		t.Errorf("checked now %d times, want once (for check=now only)", f.checkedNow)
	}
}

func TestReadinessLogsOnlyItsChanges(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var down error
	ready := func(context.Context) error {
		mu.Lock()
		defer mu.Unlock()
		return down
	}
	h, logs := fakeServer(t, &fakeFigures{}, web.Config{Ready: ready})
	probe := func(want int) {
		t.Helper()
		if rec := do(h, "GET", "/readyz", nil); rec.Code != want {
			t.Fatalf("readyz: %d, want %d", rec.Code, want)
		}
	}
	probe(200)
	mu.Lock()
	down = errors.New("database unhealthy: connection refused")
	mu.Unlock()
	for range 5 {
		probe(503)
	}
	if n := strings.Count(logs.String(), "not ready"); n != 1 {
		t.Errorf("five probes during an outage logged %d warnings, want 1:\n%s", n, logs)
	}
	mu.Lock()
	down = nil
	mu.Unlock()
	probe(200)
	probe(200)
	if n := strings.Count(logs.String(), "ready again"); n != 1 {
		t.Errorf("the recovery was logged %d times, want once:\n%s", n, logs)
	}
}

func TestThePageCarriesTheAnswersItStartsWith(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		err  error
		want string
	}{
		{"figures", nil, `"stats":{"question":"stats","stale":false}`},
		{"no figures yet", syncs.ErrUnavailable, `"stats":null`},
	} {
		h, _ := fakeServer(t, &fakeFigures{err: c.err}, web.Config{})
		rec := do(h, "GET", basePath, nil)
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "text/html; charset=utf-8" {
			t.Fatalf("%s: page %d %q", c.name, rec.Code, rec.Header().Get("Content-Type"))
		}
		body, _ := io.ReadAll(rec.Body)
		if !bytes.Contains(body, []byte(c.want)) {
			t.Errorf("%s: the page's initial data lacks %s", c.name, c.want)
		}
		if !bytes.Contains(body, []byte(`"recent_syncs":`)) || !bytes.Contains(body, []byte(`"system_health":{`)) ||
			!bytes.Contains(body, []byte(`"alerts":{"enabled":false`)) {
			t.Errorf("%s: the page's initial data lacks a section", c.name)
		}
	}
}

// fakeAlerts answers api/alerts/ with fixed bytes.
type fakeAlerts struct{ body []byte }

func (f fakeAlerts) AlertsJSON() []byte { return f.body }

func TestAlertsAnswerFromMemoryAndStillAnswerWhenOff(t *testing.T) {
	t.Parallel()
	body := []byte(`{"enabled":true,"firing":[{"name":"sync_failing"}]}` + "\n")
	h, _ := fakeServer(t, &fakeFigures{}, web.Config{Alerts: fakeAlerts{body}})
	rec := do(h, "GET", basePath+"api/alerts/", nil)
	if rec.Code != 200 || !bytes.Equal(rec.Body.Bytes(), body) || rec.Header().Get("Cache-Control") != "no-store" ||
		rec.Header().Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("alerts: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	if rec := do(h, "POST", basePath+"api/alerts/", nil); rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST: %d", rec.Code)
	}

	// Off: the same shape, empty, so the warehouse's old template keeps polling it.
	h, _ = fakeServer(t, &fakeFigures{}, web.Config{})
	rec = do(h, "GET", basePath+"api/alerts/", nil)
	var off map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &off); err != nil || rec.Code != 200 {
		t.Fatalf("off: %d %q: %v", rec.Code, rec.Body, err)
	}
	for _, key := range []string{"firing", "pending", "resolved", "channels", "alerts"} {
		if list, ok := off[key].([]any); !ok || len(list) != 0 {
			t.Errorf("off: %s = %v, want []", key, off[key])
		}
	}
	stats, _ := off["alert_stats"].(map[string]any)
	if off["enabled"] != false || stats["active_alerts"] != 0.0 || stats["total_alerts_24h"] != 0.0 || off["timestamp"] == nil {
		t.Errorf("off: %v", off)
	}
}
