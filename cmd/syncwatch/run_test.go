package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/storetest"
)

// server is syncwatch started by run(), as main starts it.
type server struct {
	base   string // http://host:port/ingestion/monitoring/
	root   string // http://host:port
	stderr *syncBuffer
	done   chan error
	cancel context.CancelFunc
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// start runs syncwatch with args and env until the test ends, and waits for its address.
func start(t *testing.T, env map[string]string, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	s := &server{stderr: &syncBuffer{}, done: make(chan error, 1), cancel: cancel}
	getenv := func(k string) string { return env[k] }
	go func() {
		err := run(ctx, args, getenv, outW, s.stderr)
		outW.CloseWithError(errors.New("run returned"))
		s.done <- err
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-s.done:
		case <-time.After(15 * time.Second):
			t.Error("run did not return after its context was cancelled")
		}
	})
	line, err := bufio.NewReader(outR).ReadString('\n')
	if err != nil {
		t.Fatalf("no address printed: %v; stderr:\n%s", err, s.stderr)
	}
	_, url, ok := strings.Cut(strings.TrimSpace(line), "serving ")
	if !ok {
		t.Fatalf("got first line %q, want it to say where it serves", line)
	}
	go io.Copy(io.Discard, outR)
	s.base = url
	s.root = url[:strings.Index(url[len("http://"):], "/")+len("http://")]
	return s
}

func get(t *testing.T, url string, header http.Header) (int, []byte, http.Header) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header
}

func dbWithRows(t *testing.T) *pgtest.DB {
	db := pgtest.New(t, pgtest.ShapeA)
	now := time.Now()
	end := now.Add(-time.Minute)
	msg := "HTTP 429: Too Many Requests"
	db.Insert(t,
		storetest.Row{CRMSource: "hubspot", Start: now.Add(-2 * time.Minute), End: &end, RecordsProcessed: 10},
		storetest.Row{CRMSource: "genius", Status: "failed", Start: now.Add(-2 * time.Minute), End: &end, ErrorMessage: &msg},
	)
	return db
}

func TestServeAnswersEveryEndpoint(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	s := start(t, map[string]string{"DATABASE_URL": db.URL}, "--addr", "127.0.0.1:0")
	for _, path := range []string{"api/stats/", "api/crm-status/", "api/recent-syncs/", "api/performance-charts/",
		"api/errors/", "api/system-health/"} {
		status, body, h := get(t, s.base+path, nil)
		var v map[string]any
		if status != 200 || h.Get("Content-Type") != "application/json; charset=utf-8" || json.Unmarshal(body, &v) != nil {
			t.Errorf("%s: got %d %q %.200s, want 200 with JSON", path, status, h.Get("Content-Type"), body)
			continue
		}
		if _, ok := v["timestamp"]; !ok {
			t.Errorf("%s: no timestamp in %.200s", path, body)
		}
	}
	var stats struct {
		Overview struct {
			CompletedToday int `json:"completed_today"`
			FailedToday    int `json:"failed_today"`
		}
	}
	_, body, _ := get(t, s.base+"api/stats/", nil)
	if json.Unmarshal(body, &stats) != nil || stats.Overview.CompletedToday != 1 || stats.Overview.FailedToday != 1 {
		t.Errorf("got stats %s, want 1 completed and 1 failed", body)
	}
	status, body, h := get(t, s.base, nil)
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") || bytes.Contains(body, []byte("<script>")) {
		t.Errorf("page: got %d %q, want HTML without inline script", status, h.Get("Content-Type"))
	}
	if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("got CSP %q, want scripts from self only and no framing", csp)
	}
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noRedirect.Get(s.root + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "/ingestion/monitoring/" {
		t.Errorf("GET /: got %d to %q, want a redirect to the base path", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestBadParametersAnswer400(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	s := start(t, map[string]string{"DATABASE_URL": db.URL}, "--addr", "127.0.0.1:0")
	cases := map[string]string{
		"api/recent-syncs/?limit=abc":                      "limit",
		"api/recent-syncs/?limit=0":                        "limit",
		"api/recent-syncs/?limit=100000":                   "limit",
		"api/recent-syncs/?limit=1&limit=2":                "limit",
		"api/performance-charts/?days=-1":                  "days",
		"api/errors/?days=91":                              "days",
		"api/recent-syncs/?crm=%27%3B%20DROP%20TABLE%20x":  "crm",
		"api/recent-syncs/?crm=" + strings.Repeat("a", 51): "crm",
		"api/recent-syncs/?crm=%3Cscript%3E":               "crm",
		"api/recent-syncs/?status=SUCCESS%00":              "status",
	}
	for path, param := range cases {
		status, body, _ := get(t, s.base+path, nil)
		var e struct {
			Error struct{ Code, Message string }
		}
		if status != 400 || json.Unmarshal(body, &e) != nil || e.Error.Code != "bad_request" || !strings.HasPrefix(e.Error.Message, param) {
			t.Errorf("%s: got %d %s, want 400 bad_request naming %s", path, status, body, param)
		}
	}
	// Unknown parameters are ignored.
	if status, body, _ := get(t, s.base+"api/stats/?foo=bar", nil); status != 200 {
		t.Errorf("unknown parameter: got %d %s, want 200", status, body)
	}
}

func TestNetworkAddressNeedsAuthentication(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	err := run(context.Background(), []string{"--addr", "0.0.0.0:0"}, func(k string) string {
		return map[string]string{"DATABASE_URL": db.URL}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "without authentication") {
		t.Fatalf("got %v, want a refusal to serve a network address without authentication", err)
	}

	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("# admins\nalice:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const token = "0123456789abcdef-token"
	s := start(t, map[string]string{"DATABASE_URL": db.URL, "SYNCWATCH_AUTH_TOKEN": token},
		"--addr", "0.0.0.0:0", "--auth-htpasswd-file", htpasswd)
	s.base = strings.Replace(s.base, "0.0.0.0", "127.0.0.1", 1)
	s.root = strings.Replace(s.root, "0.0.0.0", "127.0.0.1", 1)
	basic := func(user, pass string) http.Header {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(user, pass)
		return r.Header
	}
	cases := []struct {
		name   string
		url    string
		header http.Header
		want   int
	}{
		{"no credentials", s.base + "api/stats/", nil, 401},
		{"the page without credentials", s.base, nil, 401},
		{"static files without credentials", s.base + "static/dashboard.js", nil, 401},
		{"a wrong password", s.base + "api/stats/", basic("alice", "wrong"), 401},
		{"an unknown user", s.base + "api/stats/", basic("mallory", "correct horse"), 401},
		{"a wrong token", s.base + "api/stats/", http.Header{"Authorization": {"Bearer nope-nope-nope-nope"}}, 401},
		{"basic auth", s.base + "api/stats/", basic("alice", "correct horse"), 200},
		{"basic auth again (remembered)", s.base + "api/crm-status/", basic("alice", "correct horse"), 200},
		{"the bearer token", s.base + "api/stats/", http.Header{"Authorization": {"Bearer " + token}}, 200},
		{"the token as a browser's password", s.base, basic("anyone", token), 200},
		{"liveness stays open", s.root + "/healthz", nil, 200},
	}
	for _, c := range cases {
		status, body, h := get(t, c.url, c.header)
		if status != c.want {
			t.Errorf("%s: got %d %.100s, want %d", c.name, status, body, c.want)
		}
		if status == 401 && !strings.HasPrefix(h.Get("WWW-Authenticate"), "Basic ") {
			t.Errorf("%s: got WWW-Authenticate %q, want a basic-auth challenge", c.name, h.Get("WWW-Authenticate"))
		}
	}
	// Readiness answers 200 only once the health monitor's first database check is done,
	// so it is polled; behind authentication it would stay 401.
	eventually(t, 5*time.Second, "readiness open without credentials", func() bool {
		status, _, _ := get(t, s.root+"/readyz", nil)
		return status == 200
	})
}

func TestShutdownFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	s := start(t, map[string]string{"DATABASE_URL": db.URL}, "--addr", "127.0.0.1:0")
	if status, _, _ := get(t, s.base+"api/stats/", nil); status != 200 {
		t.Fatalf("got %d before shutdown", status)
	}

	// Hold a request genuinely in flight: figures never computed before (13 days), whose
	// queries wait for a lock the test holds.
	lock := lockHistory(t, db)
	answered := requestWaitingForTheLock(t, db, s.base+"api/performance-charts/?days=13")

	// The signal arrives; the server stops listening at once...
	s.cancel()
	addr := strings.TrimPrefix(s.root, "http://")
	poll(t, "the listener closes", func() bool {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err != nil
	})
	// ...and answers the request in flight once its figures come.
	if err := lock.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := <-answered
	if a.err != nil || a.status != 200 || !bytes.Contains(a.body, []byte(`"days":13`)) {
		t.Errorf("the request in flight got %d %s %v, want its figures", a.status, a.body, a.err)
	}
	if err := <-s.done; err != nil {
		t.Errorf("got %v, want a clean shutdown", err)
	}
	s.done <- nil // for the cleanup
}

// A request still running when the shutdown's grace has passed is stopped through its
// context and answers what it can, before the store closes; the shutdown is clean.
func TestShutdownStopsRequestsAfterTheGrace(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	s := start(t, map[string]string{"DATABASE_URL": db.URL}, "--addr", "127.0.0.1:0", "--shutdown-grace", "500ms")
	if status, _, _ := get(t, s.base+"api/stats/", nil); status != 200 {
		t.Fatalf("got %d before shutdown", status)
	}
	lockHistory(t, db)
	answered := requestWaitingForTheLock(t, db, s.base+"api/history.csv")
	s.cancel()
	// The lock is never released: the export is stopped at the end of the grace.
	a := <-answered
	if a.err != nil || a.status != http.StatusServiceUnavailable || !bytes.Contains(a.body, []byte("shutting down")) {
		t.Errorf("the export in flight got %d %s %v, want a 503 saying syncwatch is shutting down", a.status, a.body, a.err)
	}
	if err := <-s.done; err != nil {
		t.Errorf("got %v, want a clean shutdown", err)
	}
	s.done <- nil // for the cleanup
}

// lockHistory locks sync_history until the test ends or the transaction it returns is
// rolled back: every query of it waits.
func lockHistory(t *testing.T, db *pgtest.DB) pgx.Tx {
	t.Helper()
	lock, err := db.Conn().Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lock.Rollback(context.Background()) })
	if _, err := lock.Exec(context.Background(), "LOCK TABLE orchestration.sync_history IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	return lock
}

// answer is what a request got.
type answer struct {
	status int
	body   []byte
	err    error
}

// requestWaitingForTheLock sends a GET to url, and returns once one of its queries waits
// for a lock (see lockHistory); its answer comes on the channel.
func requestWaitingForTheLock(t *testing.T, db *pgtest.DB, url string) <-chan answer {
	t.Helper()
	answered := make(chan answer, 1)
	go func() {
		resp, err := http.Get(url)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, body, err}
	}()
	poll(t, "a query of the request waits for the lock", func() bool {
		var waiting int
		err := db.Conn().QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting)
		return err == nil && waiting > 0
	})
	return answered
}

// poll waits until cond holds, for conditions outside this process that send no signal
// (a server's state); it gives up after 10 s.
func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestCommandLine(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"version"}, func(string) string { return "" }, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "syncwatch ") {
		t.Errorf("version: got %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, func(string) string { return "" }, io.Discard, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("unknown command: got %v, want a usage error", err)
	}
	if err := run(context.Background(), []string{"--no-such-flag"}, func(string) string { return "" }, io.Discard, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("unknown flag: got %v, want a usage error", err)
	}
	if err := run(context.Background(), []string{"serve", "-h"}, func(string) string { return "" }, io.Discard, io.Discard); err != nil {
		t.Errorf("help: got %v, want nil", err)
	}
	err := run(context.Background(), nil, func(k string) string {
		return map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x", "SYNCWATCH_REFRESH_INTERVAL": "often"}[k]
	}, io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "SYNCWATCH_REFRESH_INTERVAL") {
		t.Errorf("bad environment: got %v, want an error naming the variable", err)
	}
}

func TestBrokerDownOnlyTurnsItsPartsRed(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	// Nothing listens on port 1: the broker is down from the start.
	s := start(t, map[string]string{"DATABASE_URL": db.URL, "CELERY_BROKER_URL": "redis://:hunter2@127.0.0.1:1/0"},
		"--addr", "127.0.0.1:0", "--health-timeout", "500ms")
	var h struct {
		Database, Celery, Redis struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		start := time.Now()
		status, body, _ := get(t, s.base+"api/system-health/", nil)
		if took := time.Since(start); took > time.Second {
			t.Errorf("system health took %v with the broker down, want an answer without waiting on it", took)
		}
		if status != 200 || json.Unmarshal(body, &h) != nil {
			t.Fatalf("got %d %s", status, body)
		}
		// The database is not red; on a loaded machine its check may be slow, degraded.
		databaseUp := h.Database.Status == "healthy" || h.Database.Status == "degraded"
		if h.Celery.Status == "unhealthy" && h.Redis.Status == "unhealthy" && databaseUp {
			if strings.Contains(string(body), "hunter2") {
				t.Errorf("the broker's password is in the response: %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %s, want celery and redis unhealthy and the database up", body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status, body, _ := get(t, s.base+"api/stats/", nil); status != 200 {
		t.Errorf("stats with the broker down: got %d %s, want 200", status, body)
	}
	if strings.Contains(s.stderr.String(), "hunter2") {
		t.Errorf("the broker's password is in the log")
	}
}

func TestParseEndpoints(t *testing.T) {
	t.Parallel()
	got, err := parseEndpoints(" HubSpot=https://api.hubapi.com/=200; CallRail=https://api.callrail.com/v3/a.json?x=1=401 ;")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != "HubSpot" || got[0].URL != "https://api.hubapi.com/" || got[0].ExpectedStatus != 200 ||
		got[1].URL != "https://api.callrail.com/v3/a.json?x=1" || got[1].ExpectedStatus != 401 {
		t.Errorf("got %+v", got)
	}
	for _, bad := range []string{"nourl", "X=ftp://host/", "=https://x/"} {
		if _, err := parseEndpoints(bad); err == nil {
			t.Errorf("%q: got no error, want one", bad)
		}
	}
}

func TestDoctorNamesTheMissingIndex(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeB)
	var out bytes.Buffer
	err := run(context.Background(), []string{"doctor", "--database-url", db.URL}, func(string) string { return "" }, &out, io.Discard)
	const create = "CREATE INDEX CONCURRENTLY sync_history_end_time_idx ON orchestration.sync_history (end_time DESC);"
	if !errors.Is(err, errProblems) || !strings.Contains(out.String(), create) || !strings.Contains(out.String(), "shape B") {
		t.Fatalf("got %v:\n%s\nwant the end_time index named, with its statement", err, out.String())
	}
	// The drill-down's two indexes are named too; the administrators run every
	// statement printed.
	statements := regexp.MustCompile(`CREATE INDEX CONCURRENTLY [^;]+;`).FindAllString(out.String(), -1)
	if len(statements) != 3 {
		t.Errorf("got statements %q, want the end_time index and the drill-down's two", statements)
	}
	for _, stmt := range statements {
		db.Exec(t, stmt)
	}
	db.Exec(t, "ANALYZE orchestration.sync_history")
	out.Reset()
	if err := run(context.Background(), []string{"doctor"}, func(k string) string {
		return map[string]string{"DATABASE_URL": db.URL}[k]
	}, &out, io.Discard); err != nil || !strings.Contains(out.String(), "all good") {
		t.Errorf("after the fix: got %v:\n%s", err, out.String())
	}
}

// TestZeroSetupDemo is the README's first command: no configuration at all gives a live
// demo on the embedded database, whose figures move. The file is a copy of demoFile, as a
// demo run before leaves it: syncwatch adds the minutes since, rather than filling 30
// days (TestOpenDemo tests the fill).
func TestZeroSetupDemo(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "demo.sqlite")
	demoFile.CopyTo(t, path)
	// serve bounds a computation of the figures at three statement timeouts: here 3 min,
	// against a hang, not for speed. Under the race detector one takes 20 s of CPU on the
	// demo's 30 days, and more than the default 30 s on a busy machine.
	s := start(t, map[string]string{"SYNCWATCH_SQLITE_PATH": path, "SYNCWATCH_DEMO_INTERVAL": "100ms"},
		"--addr", "127.0.0.1:0", "--refresh", "1s", "--statement-timeout", "1m")
	// The first figures take that long too; until then the API says they are being
	// computed (503), as the page's first load may.
	eventually(t, 3*time.Minute, "the first figures", func() bool {
		status, _, _ := get(t, s.base+"api/stats/", nil)
		return status == 200
	})
	for _, p := range []string{"api/stats/", "api/crm-status/", "api/recent-syncs/", "api/performance-charts/", "api/errors/", "api/system-health/", ""} {
		if status, body, _ := get(t, s.base+p, nil); status != 200 {
			t.Errorf("%s: got %d %.200s", p, status, body)
		}
	}
	var stats struct {
		Overview struct {
			CompletedToday int `json:"completed_today"`
		} `json:"overview"`
	}
	_, body, _ := get(t, s.base+"api/stats/", nil)
	if err := json.Unmarshal(body, &stats); err != nil || stats.Overview.CompletedToday < 100 {
		t.Fatalf("got %s, want a day of demo history", body)
	}
	first := func() string {
		_, body, _ := get(t, s.base+"api/recent-syncs/?limit=1", nil)
		var r struct {
			Syncs []struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			} `json:"syncs"`
		}
		if err := json.Unmarshal(body, &r); err != nil || len(r.Syncs) != 1 {
			t.Fatalf("recent syncs: %s", body)
		}
		return fmt.Sprint(r.Syncs[0])
	}
	// The simulator writes a run every other look (every 100 ms) and the figures are
	// recomputed every second, inside run(): a change there sends no signal out of the
	// process, so the test watches the API for it, bounded against a hang.
	before := first()
	eventually(t, 3*time.Minute, "the demo's newest run changes", func() bool { return first() != before })
	// The simulator claims the file it writes with a lock file beside it.
	if _, err := os.Stat(path + ".simulator"); err != nil {
		t.Errorf("the demo does not simulate in the file it was given: %v", err)
	}
}

// TestDemoIsNeverOnWithAWarehouse asks for the demo beside a warehouse: syncwatch shows the
// warehouse, and neither opens the embedded database nor starts a simulator.
func TestDemoIsNeverOnWithAWarehouse(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	path := filepath.Join(t.TempDir(), "demo.sqlite")
	s := start(t, map[string]string{"DATABASE_URL": db.URL, "SYNCWATCH_SQLITE_PATH": path, "SYNCWATCH_DEMO": "true"},
		"--addr", "127.0.0.1:0", "--demo-interval", "50ms")
	_, body, _ := get(t, s.base+"api/recent-syncs/", nil)
	var r struct {
		Total int `json:"total"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.Total != 2 {
		t.Errorf("got %s, want only the warehouse's two rows", body)
	}
	// run() opens its store before it prints its address: a demo database would exist by
	// now. Once run() has returned, every goroutine it started has ended, and a simulator
	// would have said so in the log first.
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("an embedded database was created beside a warehouse: %v", err)
	}
	s.cancel()
	if err := <-s.done; err != nil {
		t.Errorf("got %v, want a clean shutdown", err)
	}
	s.done <- nil // for the cleanup
	if log := s.stderr.String(); strings.Contains(log, "demo simulator") || strings.Contains(log, path) {
		t.Errorf("the log shows a demo beside a warehouse:\n%s", log)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("an embedded database was created beside a warehouse: %v", err)
	}
}

func TestDoctorExplainsARefresh(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"doctor", "--explain", "--database-url", db.URL},
		func(string) string { return "" }, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Query Text:", "Buffers: shared", "orchestration.sync_history", "one refresh:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the plans lack %q:\n%.2000s", want, out.String())
		}
	}
}

func TestHelpAndFlagErrorsShowNoSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		"DATABASE_URL":         "postgres://u:pg-secret@db/dw",
		"CELERY_BROKER_URL":    "redis://:broker-secret@redis:6379/0",
		"REDIS_URL":            "redis://:redis-secret@redis:6379/1",
		"SYNCWATCH_AUTH_TOKEN": "token-secret-0123456789",
	}
	for _, args := range [][]string{{"serve", "-h"}, {"--no-such-flag"}, {"doctor", "-h"}, {"doctor", "--nope"}} {
		var stderr bytes.Buffer
		_ = run(context.Background(), args, func(k string) string { return env[k] }, io.Discard, &stderr)
		for _, secret := range []string{"pg-secret", "broker-secret", "redis-secret", "token-secret"} {
			if strings.Contains(stderr.String(), secret) {
				t.Errorf("%v: the output shows %s:\n%s", args, secret, stderr.String())
			}
		}
		help := args[len(args)-1] == "-h"
		if help && !strings.Contains(stderr.String(), "(env DATABASE_URL)") {
			t.Errorf("%v: the help no longer says where the URL comes from:\n%s", args, stderr.String())
		}
		// A bad flag is the error and one line pointing to -h, not a screen of help
		// that scrolls the error away.
		if lines := strings.Count(stderr.String(), "\n"); !help && (lines != 2 || !strings.Contains(stderr.String(), " -h' for its flags")) {
			t.Errorf("%v: got %d lines, want the error and a pointer to -h:\n%s", args, lines, stderr.String())
		}
	}
}

func TestFlagValuesAreCheckedByName(t *testing.T) {
	t.Parallel()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cases := []struct {
		args []string
		want string // in the error
	}{
		{[]string{"--addr=nonsense"}, `--addr: "nonsense" is not host:port`},
		{[]string{"--addr=127.0.0.1:99999"}, "--addr: "},
		{[]string{"--addr", busy.Addr().String()}, "already in use (another syncwatch?); choose another with --addr"},
		{[]string{"--stuck-after=-5m"}, "--stuck-after: -5m0s must be a positive duration"},
		{[]string{"--health-timeout=0s"}, "--health-timeout: "},
		{[]string{"--overdue-grace=-1m"}, "--overdue-grace: "},
		{[]string{"--overdue-grace=0s"}, "--overdue-grace: 0s must be a positive duration"}, // not silently 10m
		{[]string{"--base-path=noslash"}, `--base-path: "noslash" must start with a slash`},
		{[]string{"--refresh=10ms"}, "--refresh must be at least 1s"},
	}
	for _, c := range cases {
		err := run(context.Background(), c.args, func(k string) string {
			return map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x"}[k]
		}, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error saying %q", c.args, err, c.want)
		}
	}
	if err := run(context.Background(), []string{"version", "--bogus"}, func(string) string { return "" }, io.Discard, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("version --bogus: got %v, want a usage error", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, func(string) string { return "" }, &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "syncwatch ") {
		t.Errorf("--version: got %v %q", err, out.String())
	}
}

func TestAllInterfacesPrintsAnAddressToOpen(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	s := start(t, map[string]string{"DATABASE_URL": db.URL, "SYNCWATCH_AUTH_TOKEN": "0123456789abcdef-token"}, "--addr", "0.0.0.0:0")
	if !strings.HasPrefix(s.base, "http://127.0.0.1:") {
		t.Errorf("printed %q, want an address a browser can open", s.base)
	}
	if status, _, _ := get(t, s.root+"/healthz", nil); status != 200 {
		t.Errorf("the printed address does not answer: %d", status)
	}
}

func TestHealthChecksOnDemand(t *testing.T) {
	t.Parallel()
	db := dbWithRows(t)
	// A broker that accepts connections and never answers: a round of checks lasts the
	// whole timeout, and the background one starts with the server.
	hung, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hung.Close()
	go func() {
		for {
			c, err := hung.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s := start(t, map[string]string{"DATABASE_URL": db.URL, "CELERY_BROKER_URL": "redis://" + hung.Addr().String() + "/0"},
		"--addr", "127.0.0.1:0", "--health-interval", "1h", "--health-timeout", "3s")
	celery := func(query string) (string, bool) {
		status, body, _ := get(t, s.base+"api/system-health/"+query, nil)
		var h struct {
			Celery struct {
				Status  string `json:"status"`
				Pending bool   `json:"pending"`
			} `json:"celery"`
		}
		if status != 200 || json.Unmarshal(body, &h) != nil {
			t.Fatalf("%s: got %d %s", query, status, body)
		}
		return h.Celery.Status, h.Celery.Pending
	}
	// Without check=now the answer is the latest reading, at once: the first round is
	// still waiting for the broker. With it, the answer waits for the round's results.
	if _, pending := celery(""); !pending {
		t.Fatal("the first round of checks ended before the test could ask; the broker answered?")
	}
	if status, pending := celery("?check=now"); pending || status != "unhealthy" {
		t.Errorf("check=now: got %s (pending %v), want the round's verdict on a silent broker", status, pending)
	}
	if status, body, _ := get(t, s.base+"api/system-health/?check=soon", nil); status != 400 || !strings.Contains(string(body), "check") {
		t.Errorf("check=soon: got %d %s, want 400 naming check", status, body)
	}
}

func TestAnEmptyDatabaseSaysWhatIsMissing(t *testing.T) {
	t.Parallel()
	db := pgtest.NewEmpty(t)
	s := start(t, map[string]string{"DATABASE_URL": db.URL}, "--addr", "127.0.0.1:0")
	for _, p := range []string{"api/stats/", "api/crm-status/", "api/recent-syncs/?limit=20", "api/performance-charts/", "api/errors/"} {
		status, body, _ := get(t, s.base+p, nil)
		var e struct {
			Error struct{ Code, Message string }
		}
		if err := json.Unmarshal(body, &e); err != nil || status != 503 || e.Error.Code != "warehouse_not_ready" ||
			!strings.Contains(e.Error.Message, "orchestration.sync_history does not exist") || !strings.Contains(e.Error.Message, "syncwatch doctor") {
			t.Errorf("%s: got %d %s, want 503 warehouse_not_ready naming the table and the doctor", p, status, body)
		}
	}
	eventually(t, 10*time.Second, "the database health turns unhealthy with the reason", func() bool {
		_, body, _ := get(t, s.base+"api/system-health/", nil)
		return strings.Contains(string(body), `"status":"unhealthy","error":"database: table orchestration.sync_history does not exist`)
	})
	if status, _, _ := get(t, s.root+"/readyz", nil); status != 503 {
		t.Errorf("readyz: %d, want 503", status)
	}
	if n := strings.Count(s.stderr.String(), "the warehouse is not as syncwatch needs it"); n != 1 {
		t.Errorf("the start-up check logged %d times, want one clear line:\n%s", n, s.stderr)
	}
}

// builtBinary builds syncwatch as a user does, in its git checkout (with VCS stamping),
// once for the tests that need the real binary.
var builtBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "syncwatch-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "syncwatch")
	if out, err := exec.Command("go", "build", "-buildvcs=true", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

func binary(t *testing.T) string {
	t.Helper()
	bin, err := builtBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// TestVersionSaysWhatWasBuilt checks that version names the commit syncwatch was built
// from.
func TestVersionSaysWhatWasBuilt(t *testing.T) {
	t.Parallel()
	head, err := exec.Command("git", "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatalf("git rev-parse HEAD: %v (the tests run in syncwatch's git checkout)", err)
	}
	out, err := exec.Command(binary(t), "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "revision " + strings.TrimSpace(string(head)); !strings.Contains(string(out), want) {
		t.Errorf("--version printed %q, want it to name %s", out, want)
	}
}

// TestSystemdUnitVerifies checks docs/deploy/syncwatch.service with systemd's own
// checker, pointed at a real binary: every directive must be one this systemd knows.
func TestSystemdUnitVerifies(t *testing.T) {
	t.Parallel()
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Fatal("systemd-analyze not found: install systemd (scripts/test.sh does)")
	}
	unit, err := os.ReadFile("../../docs/deploy/syncwatch.service")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(unit, []byte("ExecStart=/usr/local/bin/syncwatch serve")) {
		t.Fatal("the unit no longer starts /usr/local/bin/syncwatch serve")
	}
	for _, want := range []string{"DynamicUser=yes", "EnvironmentFile=", "Restart=on-failure"} {
		if !bytes.Contains(unit, []byte(want)) {
			t.Errorf("the unit lacks %s", want)
		}
	}
	path := filepath.Join(t.TempDir(), "syncwatch.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(unit, []byte("/usr/local/bin/syncwatch"), []byte(binary(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", path).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

func TestAlertSettingsAreCheckedByName(t *testing.T) {
	t.Parallel()
	cases := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{nil, []string{"--alert-failing-runs=0"}, "--alert-failing-runs must be at least 1"},
		{nil, []string{"--alert-stale-after-crm=hubspot"}, `--alert-stale-after-crm: "hubspot" is not crm=duration`},
		{map[string]string{"SYNCWATCH_ALERT_STALE_AFTER_CRM": "genius=2d"}, nil, `--alert-stale-after-crm: "genius": "2d" is not a positive duration`},
		{map[string]string{"SYNCWATCH_ALERT_EMPTY_RUNS": "three"}, nil, `SYNCWATCH_ALERT_EMPTY_RUNS: "three" is not a whole number`},
		{map[string]string{"EMAIL_USE_TLS": "yes please"}, nil, `EMAIL_USE_TLS: "yes please" is not true or false`},
		{map[string]string{"ALERT_EMAIL_RECIPIENTS": "ops@example.com", "EMAIL_USE_TLS": "True", "EMAIL_USE_SSL": "True"}, nil,
			"EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other"},
		{map[string]string{"ALERT_EMAIL_RECIPIENTS": "not-an-address"}, nil, `recipient "not-an-address" is not an address`},
		{map[string]string{"ALERT_WEBHOOK_URLS": "https://ok.example/x,ftp://secret-token@host/"}, nil, "ALERT_WEBHOOK_URLS: URL 2 must be an http:// or https:// URL"},
		{map[string]string{"SLACK_WEBHOOK_URL": "hooks.slack.com/services/T/B/secret-token"}, nil, "SLACK_WEBHOOK_URL must be an http:// or https:// URL"},
		{nil, []string{"--alertmanager-url=alertmanager:9093"}, "--alertmanager-url must be an http:// or https:// URL"},
		{nil, []string{"--external-url=syncwatch.example"}, "--external-url must be an http:// or https:// URL"},
		{nil, []string{"--alert-max-per-hour=-1"}, "--alert-max-per-hour must not be negative"},
		{nil, []string{"--alert-lock-lease=1ms"}, "--alert-lock-lease must be at least 300ms"},
	}
	for _, c := range cases {
		env := map[string]string{"DATABASE_URL": "postgres://x@127.0.0.1:1/x"}
		for k, v := range c.env {
			env[k] = v
		}
		err := run(context.Background(), c.args, func(k string) string { return env[k] }, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "secret-token") {
			t.Errorf("%v %v: got %v, want an error saying %q", c.env, c.args, err, c.want)
		}
	}
	// The channels' secrets are never shown, by the help or by a flag error.
	env := map[string]string{"SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/slack-secret",
		"EMAIL_HOST_PASSWORD": "smtp-secret", "ALERT_WEBHOOK_URLS": "https://h.example/hook-secret",
		"SYNCWATCH_ALERTMANAGER_URL": "https://u:am-secret@am.example", "SYNCWATCH_ALERT_LOCK_URL": "redis://:lock-secret@r/0"}
	for _, args := range [][]string{{"serve", "-h"}, {"--no-such-flag"}, {"alerts", "test", "-h"}, {"alerts", "test", "--nope"}} {
		var stderr bytes.Buffer
		_ = run(context.Background(), args, func(k string) string { return env[k] }, io.Discard, &stderr)
		for _, secret := range []string{"slack-secret", "smtp-secret", "hook-secret", "am-secret", "lock-secret"} {
			if strings.Contains(stderr.String(), secret) {
				t.Errorf("%v: the output shows %s", args, secret)
			}
		}
	}
}
