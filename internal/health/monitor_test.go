package health

// The Monitor against real servers: timeouts, sharing, the background loop, and the
// database, Redis and HTTP sections.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/servicetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// hungPeer accepts TCP connections and never answers: each waits, unread, until the
// test's end closes it.
func hungPeer(t *testing.T) string {
	t.Helper()
	return fakePeer(t, func(c net.Conn) {
		_, _ = io.Copy(io.Discard, c) // returns when the test's end closes c
	})
}

func TestHungPeersDoNotBlock(t *testing.T) {
	t.Parallel()
	const timeout = 500 * time.Millisecond
	addr := hungPeer(t)
	entered, stuck := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	m, clock := newTestMonitor(t, Config{
		RedisURL:  "redis://" + addr + "/0",
		BrokerURL: "redis://:pw@" + addr + "/0",
		Timeout:   timeout,
		Database: func(context.Context) (syncs.DatabaseHealth, error) {
			if calls.Add(1) == 1 {
				close(entered)
			}
			<-stuck // ignores its context altogether
			return syncs.DatabaseHealth{}, nil
		},
		Endpoints: []EndpointConfig{{Name: "CRM API", URL: "http://" + addr + "/health"}},
	})
	t.Cleanup(func() { close(stuck) }) // before the monitor's close, which waits for the check
	clock.Advance(minCheckGap)
	done := make(chan Report)
	start := time.Now()
	go func() { done <- m.CheckNow(context.Background()) }()

	// While the check hangs, Report answers, with what it had: a Report that waited for
	// the check would never return, since the database check returns only at cleanup.
	<-entered
	if rep := m.Report(); !rep.Celery.Pending || !rep.Database.Pending {
		t.Errorf("report during the first check: got celery %+v, database %+v; want both pending", rep.Celery.Check, rep.Database.Check)
	}

	rep := <-done
	if elapsed, limit := time.Since(start), timeout+runGrace+350*time.Millisecond; elapsed > limit {
		t.Errorf("CheckNow took %s, want at most %s", elapsed, limit)
	}
	for name, c := range map[string]Check{"database": rep.Database.Check, "redis": rep.Redis.Check, "celery": rep.Celery.Check, "endpoint": rep.Endpoints[0].Check} {
		if c.Status != StatusUnhealthy || !strings.Contains(c.Error, "timed out after 500ms") || c.CheckedAt == nil {
			t.Errorf("%s: got %q %q, want unhealthy, timed out after 500ms, checked", name, c.Status, c.Error)
		}
	}

	// The database check still hangs: the next round does not start a second one behind
	// it, and says so.
	rep = check(t, m, clock)
	if c := rep.Database.Check; c.Status != StatusUnhealthy || !strings.Contains(c.Error, "the previous check has not returned yet") || calls.Load() != 1 {
		t.Errorf("database while its check still hangs: got %q %q after %d calls, want unhealthy, the previous check has not returned, 1 call",
			c.Status, c.Error, calls.Load())
	}
}

// TestConcurrentCheckNowShareOneRun: 200 viewers at once cost one round of checks, whose
// five broadcasts (ping, stats, active_queues, active, reserved) Redis counts as five
// PUBLISH calls.
func TestConcurrentCheckNowShareOneRun(t *testing.T) {
	t.Parallel()
	srv := servicetest.NewRedis(t, servicetest.RedisOptions{})
	c := srv.Client(t, 0)
	m, clock := newTestMonitor(t, Config{BrokerURL: srv.URL(0), RedisURL: srv.URL(0)})
	if err := c.ConfigResetStat(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	clock.Advance(minCheckGap)
	reports := make([]Report, 200)
	var wg sync.WaitGroup
	for i := range reports {
		wg.Go(func() { reports[i] = m.CheckNow(context.Background()) })
	}
	wg.Wait()
	const rounds = 5 // ping, stats, active_queues, active, reserved
	if got := commandCalls(t, c, "publish"); got != rounds {
		t.Errorf("PUBLISH calls for 200 concurrent CheckNow: got %d, want %d (one round)", got, rounds)
	}
	first := reports[0].Celery.CheckedAt
	for i, r := range reports {
		if r.Celery.CheckedAt == nil || !r.Celery.CheckedAt.Equal(*first) {
			t.Fatalf("report %d: got checked_at %v, want the shared run's %v", i, r.Celery.CheckedAt, first)
		}
	}

	// Within the coalescing window: the same results, no new broadcast.
	clock.Advance(minCheckGap - time.Millisecond)
	if r := m.CheckNow(context.Background()); !r.Celery.CheckedAt.Equal(*first) {
		t.Errorf("CheckNow within 2s: got checked_at %v, want %v", r.Celery.CheckedAt, first)
	}
	if got := commandCalls(t, c, "publish"); got != rounds {
		t.Errorf("PUBLISH calls after a CheckNow within 2s: got %d, want %d", got, rounds)
	}
	// After it: a new round.
	clock.Advance(time.Millisecond)
	if r := m.CheckNow(context.Background()); r.Celery.CheckedAt.Equal(*first) {
		t.Errorf("CheckNow after 2s: got the old checked_at %v, want a new run", first)
	}
	if got := commandCalls(t, c, "publish"); got != 2*rounds {
		t.Errorf("PUBLISH calls after a second round: got %d, want %d", got, 2*rounds)
	}
}

// TestRunChecksInTheBackgroundUntilCancelled: Run checks at once and then at every tick
// of its clock, publishes each stored report to its subscribers, and when its context
// ends closes the clients and the feed.
func TestRunChecksInTheBackgroundUntilCancelled(t *testing.T) {
	t.Parallel()
	const interval = 15 * time.Second
	fake := clock.NewFake(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	m, err := NewMonitor(Config{RedisURL: "unix://" + shared.Socket(), Interval: interval, Timeout: time.Second, Clock: fake})
	if err != nil {
		t.Fatal(err)
	}
	before := m.Report().Redis
	if before.Status != StatusDegraded || !before.Pending || before.CheckedAt != nil || before.Warnings[0] != "not checked yet" {
		t.Errorf("before the first check: got %+v, want degraded, pending, not checked yet, checked_at null", before.Check)
	}
	sub := m.Subscribe()
	defer sub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { m.Run(ctx); close(stopped) }()

	next := func(what string) RedisReport {
		t.Helper()
		return receive(t, sub.C(), what).Redis
	}
	first := next("first check")
	if first.Status != StatusHealthy || first.Pending || first.CheckedAt == nil || !first.CheckedAt.Equal(fake.Now()) {
		t.Errorf("first check: got %q %s pending=%v at %v, want healthy, checked at the clock's %v", first.Status, first.Error, first.Pending, first.CheckedAt, fake.Now())
	}
	if got := m.Report().Redis; !got.CheckedAt.Equal(*first.CheckedAt) {
		t.Errorf("Report after the first publication: got checked_at %v, want %v", got.CheckedAt, first.CheckedAt)
	}

	// The loop waits on its ticker; one interval later it checks again.
	waitCtx, cancelWait := context.WithTimeout(ctx, 10*time.Second)
	defer cancelWait()
	if err := fake.BlockUntil(waitCtx, 1); err != nil {
		t.Fatalf("Run did not wait on its clock's ticker: %v", err)
	}
	fake.Advance(interval)
	second := next("second check")
	if !second.CheckedAt.Equal(first.CheckedAt.Add(interval)) {
		t.Errorf("second check: got checked_at %v, want one interval after the first, %v", second.CheckedAt, first.CheckedAt.Add(interval))
	}

	cancel()
	<-stopped
	assertFeedClosed(t, sub.C())
	last := m.Report().Redis.CheckedAt
	fake.Advance(minCheckGap)
	if r := m.CheckNow(context.Background()); !r.Redis.CheckedAt.Equal(*last) {
		t.Errorf("CheckNow after Run ended: got a new check at %v, want the last results", r.Redis.CheckedAt)
	}
	if err := m.redis.conn.get().Ping(context.Background()).Err(); !errors.Is(err, redis.ErrClosed) {
		t.Errorf("redis client after Run ended: got %v, want it closed", err)
	}
	assertFeedClosed(t, m.Subscribe().C())
}

func TestDatabaseSection(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	tests := []struct {
		name        string
		measure     func(context.Context) (syncs.DatabaseHealth, error)
		status      Status
		reason      string
		rtt         any
		connections any
	}{
		{"a healthy database", func(context.Context) (syncs.DatabaseHealth, error) {
			return syncs.DatabaseHealth{ResponseTime: 3200 * time.Microsecond, ConnectionCount: 5}, nil
		}, StatusHealthy, "", 3.2, int64(5)},
		{"a slow round trip", func(context.Context) (syncs.DatabaseHealth, error) {
			return syncs.DatabaseHealth{ResponseTime: 150 * time.Millisecond, ConnectionCount: 7}, nil
		}, StatusDegraded, "", 150.0, int64(7)},
		{"an error with a connection string", func(context.Context) (syncs.DatabaseHealth, error) {
			return syncs.DatabaseHealth{}, errors.New("connect postgres://app:Secr3t@db:5432/dw: connection refused")
		}, StatusUnhealthy, "database: connect postgres://app:***@db:5432/dw: connection refused", nil, nil},
		{"a hang that honours its context", func(ctx context.Context) (syncs.DatabaseHealth, error) {
			<-ctx.Done()
			return syncs.DatabaseHealth{}, ctx.Err()
		}, StatusUnhealthy, "database: timed out after 200ms", nil, nil},
		{"a hang that ignores its context (measure nil: see below)", nil,
			StatusUnhealthy, "database: timed out after 200ms", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			measure, stuck := tt.measure, make(chan struct{})
			if measure == nil {
				measure = func(context.Context) (syncs.DatabaseHealth, error) {
					<-stuck
					return syncs.DatabaseHealth{}, nil
				}
			}
			m, clock := newTestMonitor(t, Config{Database: measure, Timeout: timeout})
			t.Cleanup(func() { close(stuck) }) // before the monitor's close, which waits for the check
			start := time.Now()
			rep := check(t, m, clock).Database
			if elapsed := time.Since(start); elapsed > timeout+runGrace+300*time.Millisecond {
				t.Errorf("check took %s, want within the timeout", elapsed)
			}
			if rep.Status != tt.status || rep.Error != tt.reason || deref(rep.ResponseTimeMS) != tt.rtt || deref(rep.ConnectionCount) != tt.connections {
				t.Errorf("got %q %q rtt %v connections %v, want %q %q %v %v",
					rep.Status, rep.Error, deref(rep.ResponseTimeMS), deref(rep.ConnectionCount), tt.status, tt.reason, tt.rtt, tt.connections)
			}
			if rep.CheckedAt == nil || rep.CheckedAt.Location() != time.UTC {
				t.Errorf("checked_at: got %v, want a UTC time", rep.CheckedAt)
			}
		})
	}
}

func TestRedisSection(t *testing.T) {
	t.Parallel()
	db := nextDB(t)
	info, err := shared.Client(t, db).Info(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	wantVersion := parseInfo(info)["redis_version"]
	for _, url := range []string{
		shared.URL(db),
		"unix://" + shared.Socket() + "?db=" + strconv.Itoa(db),
		"redis+socket://" + shared.Socket() + "?virtual_host=" + strconv.Itoa(db),
	} {
		t.Run(url, func(t *testing.T) {
			t.Parallel()
			m, clock := newTestMonitor(t, Config{RedisURL: url})
			rep := check(t, m, clock).Redis
			if rep.Status != StatusHealthy || rep.Version != wantVersion {
				t.Errorf("got %q %s version %q, want healthy, %q", rep.Status, rep.Error, rep.Version, wantVersion)
			}
			if deref(rep.ConnectedClients) == nil || *rep.ConnectedClients < 1 || deref(rep.MemoryUsedMB) == nil || *rep.MemoryUsedMB <= 0 ||
				rep.UptimeSeconds == nil || rep.ResponseTimeMS == nil || rep.MemoryMaxMB != nil {
				t.Errorf("got clients %v, memory %v MiB (max %v), uptime %v, rtt %v; want measured, no max",
					deref(rep.ConnectedClients), deref(rep.MemoryUsedMB), deref(rep.MemoryMaxMB), deref(rep.UptimeSeconds), deref(rep.ResponseTimeMS))
			}
		})
	}

	t.Run("used memory near maxmemory", func(t *testing.T) {
		t.Parallel()
		srv := servicetest.NewRedis(t, servicetest.RedisOptions{})
		c := srv.Client(t, 0)
		ctx := context.Background()
		used := *intField(parseInfo(c.Info(ctx, "memory").Val()), "used_memory")
		if err := c.ConfigSet(ctx, "maxmemory", strconv.FormatInt(used*21/20, 10)).Err(); err != nil {
			t.Fatal(err)
		}
		m, clock := newTestMonitor(t, Config{RedisURL: srv.URL(0)})
		rep := check(t, m, clock).Redis
		if rep.Status != StatusDegraded || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "of maxmemory") || rep.MemoryMaxMB == nil {
			t.Errorf("got %q %v max %v, want degraded: used memory is …%% of maxmemory", rep.Status, rep.Warnings, deref(rep.MemoryMaxMB))
		}
	})

	t.Run("a stopped server", func(t *testing.T) {
		t.Parallel()
		srv := servicetest.NewRedis(t, servicetest.RedisOptions{Password: "Cache-Pa55"})
		m, clock := newTestMonitor(t, Config{RedisURL: srv.URL(0)})
		srv.Stop()
		rep := check(t, m, clock).Redis
		if rep.Status != StatusUnhealthy || !strings.Contains(rep.Error, "redis unreachable") || !strings.Contains(rep.Error, "refused") ||
			rep.ResponseTimeMS != nil || rep.MemoryUsedMB != nil {
			t.Errorf("got %q %q rtt %v memory %v, want unhealthy, redis unreachable, connection refused, nulls",
				rep.Status, rep.Error, deref(rep.ResponseTimeMS), deref(rep.MemoryUsedMB))
		}
		if want := "redis://:***@" + srv.Addr() + "/0"; rep.Server != want || strings.Contains(rep.Error, "Cache-Pa55") {
			t.Errorf("got server %q error %q, want %q and no password", rep.Server, rep.Error, want)
		}
	})
}

// TestRedisOverTLS: rediss:// against a TLS-only redis-server with a test CA: trusted
// with ssl_ca_certs, refused without, accepted with ssl_cert_reqs=none.
func TestRedisOverTLS(t *testing.T) {
	t.Parallel()
	files := servicetest.NewTLSFiles(t)
	srv := servicetest.NewRedis(t, servicetest.RedisOptions{TLS: files})
	base := "rediss://" + srv.Addr() + "/0"
	tests := []struct {
		url    string
		status Status
	}{
		{base + "?ssl_ca_certs=" + files.CA, StatusHealthy},
		{base + "?ssl_cert_reqs=CERT_NONE", StatusHealthy},
		{base, StatusUnhealthy}, // the system's roots do not know the test CA
	}
	for _, tt := range tests {
		m, clock := newTestMonitor(t, Config{RedisURL: tt.url})
		if rep := check(t, m, clock).Redis; rep.Status != tt.status {
			t.Errorf("%s: got %q %q, want %q", tt.url, rep.Status, rep.Error, tt.status)
		}
	}
}

func TestEndpointsSection(t *testing.T) {
	t.Parallel()
	const timeout = time.Second
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("fine")) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ok", http.StatusFound) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) { time.Sleep(timeout * 2 / 3) })
	mux.HandleFunc("/hung", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(func() { close(release); srv.Close() })
	withCreds := strings.Replace(srv.URL, "http://", "http://crm:Pa55word@", 1)

	m, clock := newTestMonitor(t, Config{Timeout: timeout, Endpoints: []EndpointConfig{
		{Name: "HubSpot", URL: srv.URL + "/ok?hapikey=topsecretkey"},
		{Name: "Salesforce", URL: withCreds + "/down"},
		{Name: "Pipedrive", URL: srv.URL + "/moved", ExpectedStatus: http.StatusFound},
		{Name: "Zoho", URL: srv.URL + "/slow"},
		{Name: "Dynamics", URL: withCreds + "/hung?token=topsecrettoken"},
		{Name: "Closed port", URL: "http://" + hungPeerClosed(t) + "/"},
	}})
	rep := check(t, m, clock)
	tests := []struct {
		status Status
		code   any
		url    string
		reason string
	}{
		{StatusHealthy, 200, srv.URL + "/ok", ""},
		{StatusUnhealthy, 503, srv.URL + "/down", "got status 503, want 200"},
		{StatusHealthy, 302, srv.URL + "/moved", ""},
		{StatusDegraded, 200, srv.URL + "/slow", ""},
		{StatusUnhealthy, nil, srv.URL + "/hung", "request: timed out after 1s"},
		{StatusUnhealthy, nil, "", "connection refused"},
	}
	if len(rep.Endpoints) != len(tests) {
		t.Fatalf("endpoints: got %d, want %d", len(rep.Endpoints), len(tests))
	}
	for i, tt := range tests {
		e := rep.Endpoints[i]
		if e.Status != tt.status || deref(e.StatusCode) != tt.code || (tt.url != "" && e.URL != tt.url) || !strings.Contains(e.Error, tt.reason) {
			t.Errorf("%s: got %q %v %q %q, want %q %v %q %q", e.Name, e.Status, deref(e.StatusCode), e.URL, e.Error, tt.status, tt.code, tt.url, tt.reason)
		}
	}
	out, _ := json.Marshal(rep)
	for _, secret := range []string{"Pa55word", "topsecretkey", "topsecrettoken"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("the report contains %q: %s", secret, out)
		}
	}
}

// hungPeerClosed returns an address where nothing listens.
func hungPeerClosed(t *testing.T) string {
	t.Helper()
	port, err := servicetest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// monitorCommands streams what a real redis-server receives (its MONITOR command).
func monitorCommands(t *testing.T, addr string) <-chan string {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := conn.Write([]byte("MONITOR\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(conn)
	if line, err := r.ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("MONITOR: got %q, %v", line, err)
	}
	lines := make(chan string, 1000)
	go func() {
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				close(lines)
				return
			}
			lines <- line
		}
	}()
	return lines
}

// TestBRPOPWaitsWithSubSecondTimeouts: a listener on the broadcast channel that is not a
// worker makes the broadcast wait for replies until the deadline. The BRPOP timeouts sent
// are decimals below the time left, where go-redis's BRPop would send "1" for 300 ms.
func TestBRPOPWaitsWithSubSecondTimeouts(t *testing.T) {
	t.Parallel()
	srv := servicetest.NewRedis(t, servicetest.RedisOptions{})
	ctx := context.Background()
	stranger := srv.Client(t, 0).Subscribe(ctx, "/0.celery.pidbox")
	if _, err := stranger.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stranger.Close() })
	lines := monitorCommands(t, srv.Addr())

	plain := srv.Client(t, 0)
	plain.BRPop(ctx, 300*time.Millisecond, "go-redis-brpop")

	ep, _ := parseRedisURL(srv.URL(0))
	client := redis.NewClient(redisOptions(ep, time.Second))
	t.Cleanup(func() { client.Close() })
	start := time.Now()
	res, err := inspect(ctx, client, kombuNames{}, []string{"ping"}, nil, start.Add(300*time.Millisecond))
	elapsed := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	if res.listeners["ping"] != 1 || len(res.replies["ping"]) != 0 {
		t.Errorf("got %d listeners and %d replies, want 1 and 0", res.listeners["ping"], len(res.replies["ping"]))
	}
	if elapsed < 290*time.Millisecond || elapsed > 800*time.Millisecond {
		t.Errorf("the wait took %s, want about the 300ms left", elapsed)
	}

	var goRedisTimeout string
	var ours []float64
	deadline := time.After(2 * time.Second)
	for goRedisTimeout == "" || len(ours) == 0 {
		select {
		case line := <-lines:
			fields := strings.Fields(line)
			if len(fields) < 4 || !strings.EqualFold(strings.Trim(fields[3], `"`), "brpop") {
				continue
			}
			last := strings.Trim(fields[len(fields)-1], `"`)
			if strings.Contains(line, "go-redis-brpop") {
				goRedisTimeout = last
				continue
			}
			f, err := strconv.ParseFloat(last, 64)
			if err != nil {
				t.Fatalf("BRPOP timeout %q is not a number", last)
			}
			ours = append(ours, f)
		case <-deadline:
			t.Fatalf("MONITOR did not show both BRPOPs: go-redis %q, ours %v", goRedisTimeout, ours)
		}
	}
	if goRedisTimeout != "1" {
		t.Errorf("go-redis BRPop(300ms) sent %q; this package assumes it rounds up to \"1\"", goRedisTimeout)
	}
	for _, f := range ours {
		if f <= 0 || f > 0.3 {
			t.Errorf("our BRPOP timeout: got %v, want in (0, 0.3]", f)
		}
	}

	// A caller that gives up mid-wait still leaves no binding and no reply list behind.
	cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start = time.Now()
	if _, err := inspect(cctx, client, kombuNames{}, []string{"ping", "stats"}, nil, time.Now().Add(time.Second)); err == nil {
		t.Errorf("inspect with a context ending mid-wait: got no error, want one")
	}
	if elapsed := time.Since(start); elapsed > 600*time.Millisecond {
		t.Errorf("inspect with a context ending after 100ms took %s", elapsed)
	}
	assertNoReplyQueuesLeft(t, plain, "")
}

// TestReportJSONHasTheContractsFields checks the names and kinds of the fields the API
// contract gives for api/system-health/, on a real check.
func TestReportJSONHasTheContractsFields(t *testing.T) {
	t.Parallel()
	db := nextDB(t)
	m, clock := newTestMonitor(t, Config{
		BrokerURL: shared.URL(db),
		RedisURL:  shared.URL(db),
		Database: func(context.Context) (syncs.DatabaseHealth, error) {
			return syncs.DatabaseHealth{ResponseTime: 12 * time.Millisecond, ConnectionCount: 5}, nil
		},
	})
	out, err := json.Marshal(check(t, m, clock))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"database": {"status": "string", "checked_at": "string", "response_time_ms": "number", "connection_count": "number"},
		"celery":   {"status": "string", "checked_at": "string", "active_workers": "number", "pending_tasks": "number", "error": "string"},
		"redis":    {"status": "string", "checked_at": "string", "memory_used_mb": "number", "connected_clients": "number"},
	}
	for section, fields := range want {
		for field, kind := range fields {
			v, ok := got[section][field]
			var gotKind string
			switch v.(type) {
			case string:
				gotKind = "string"
			case float64:
				gotKind = "number"
			}
			if !ok || gotKind != kind {
				t.Errorf("%s.%s: got %v (%T), want a %s", section, field, v, v, kind)
			}
		}
	}
	if at, err := time.Parse(time.RFC3339, got["redis"]["checked_at"].(string)); err != nil || at.Location() != time.UTC {
		t.Errorf("checked_at: got %v, %v; want RFC 3339 in UTC", got["redis"]["checked_at"], err)
	}
	if _, ok := got["endpoints"]; ok {
		t.Errorf("endpoints: got %s, want it left out when none are configured", out)
	}
}
