package health

// The Monitor's goroutines and its feed: who owns what, and who waits for whom.

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// TestRunReturnsOnlyAfterEveryCheckItStarted: a database check that ignores its context
// is given up on by its run (reported timed out), but it stays the monitor's goroutine:
// Run, once cancelled, waits for it and returns only after it has; then no goroutine the
// monitor started is left, its clients' included. Not parallel: goleak looks at every
// goroutine of the process.
func TestRunReturnsOnlyAfterEveryCheckItStarted(t *testing.T) {
	const timeout = 300 * time.Millisecond
	hungHTTP := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hungHTTP.Close()
	hungTCP := hungPeer(t)
	before := goleak.IgnoreCurrent()

	entered, release := make(chan struct{}), make(chan struct{})
	fake := clock.NewFake(time.Now())
	m, err := NewMonitor(Config{
		Database: func(context.Context) (syncs.DatabaseHealth, error) {
			close(entered)
			<-release // ignores its context
			return syncs.DatabaseHealth{}, nil
		},
		RedisURL:  "unix://" + shared.Socket(),
		BrokerURL: "redis://" + hungTCP + "/0",
		Endpoints: []EndpointConfig{{Name: "hung API", URL: hungHTTP.URL}},
		Timeout:   timeout,
		Clock:     fake,
	})
	if err != nil {
		t.Fatal(err)
	}
	sub := m.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { m.Run(ctx); close(stopped) }()

	rep := receive(t, sub.C(), "the first round")
	if rep.Database.Status != StatusUnhealthy || !strings.Contains(rep.Database.Error, "timed out") {
		t.Fatalf("database: got %q %q, want unhealthy, timed out", rep.Database.Status, rep.Database.Error)
	}
	if rep.Redis.Status != StatusHealthy || rep.Celery.Status != StatusUnhealthy || rep.Endpoints[0].Status != StatusUnhealthy {
		t.Fatalf("got redis %q, celery %q, endpoint %q; want healthy, unhealthy, unhealthy", rep.Redis.Status, rep.Celery.Status, rep.Endpoints[0].Status)
	}

	cancel()
	// Run must now be waiting for the database check, which still ignores its context.
	waitForJoin(t, stopped)
	close(release)
	<-stopped
	assertFeedClosed(t, sub.C())
	goleak.VerifyNone(t, before)
}

// TestAMQPRunLeavesNoGoroutine: on a RabbitMQ broker, with the management API, the
// connection's goroutines and the HTTP client's end with Run. Not parallel, for goleak.
func TestAMQPRunLeavesNoGoroutine(t *testing.T) {
	r := rabbit(t)
	url := r.URL(r.NewVhost(t))
	before := goleak.IgnoreCurrent()
	m, err := NewMonitor(Config{BrokerURL: url, RabbitMQManagementURL: r.ManagementURL(), Timeout: time.Second, Clock: clock.NewFake(time.Now())})
	if err != nil {
		t.Fatal(err)
	}
	sub := m.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { m.Run(ctx); close(stopped) }()
	rep := receive(t, sub.C(), "the first round")
	if rep.RabbitMQ == nil || rep.RabbitMQ.Status != StatusHealthy || rep.RabbitMQ.Connections == nil || rep.Celery.Status != StatusUnhealthy {
		t.Errorf("got rabbitmq %+v, celery %q %s; want a healthy card with management figures, and no worker", rep.RabbitMQ, rep.Celery.Status, rep.Celery.Error)
	}
	cancel()
	<-stopped
	goleak.VerifyNone(t, before)
}

// waitForJoin waits until a goroutine is blocked waiting for the monitor's goroutines in
// close, and fails if Run returns first.
func waitForJoin(t *testing.T, stopped <-chan struct{}) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for {
		select {
		case <-stopped:
			t.Fatal("Run returned while a check it started was still running")
		default:
		}
		n := runtime.Stack(buf, true)
		for g := range bytes.SplitSeq(buf[:n], []byte("\n\n")) {
			// Run's own goroutine, in close, in WaitGroup.Wait: not a helper close started.
			if bytes.Contains(g, []byte("sync.(*WaitGroup).Wait(")) && bytes.Contains(g, []byte("health.(*Monitor).close(")) &&
				bytes.Contains(g, []byte("health.(*Monitor).Run(")) {
				return
			}
		}
		runtime.Gosched()
	}
}

// receive returns the next report of a subscription, failing the test if none comes
// within a bound far above any check's timeout, or if the feed closes.
func receive(t *testing.T, c <-chan Report, what string) Report {
	t.Helper()
	select {
	case rep, ok := <-c:
		if !ok {
			t.Fatalf("%s: the feed closed", what)
		}
		return rep
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no report within 10s", what)
	}
	panic("unreachable")
}

// assertFeedClosed checks, without waiting, that a subscription's channel is closed and
// empty: Run closes the feed before it returns.
func assertFeedClosed(t *testing.T, c <-chan Report) {
	t.Helper()
	select {
	case _, ok := <-c:
		if ok {
			t.Errorf("feed after Run returned: got a report, want the channel closed")
		}
	default:
		t.Errorf("feed after Run returned: still open, want it closed")
	}
}

// TestStuckSubscriberDelaysNothing: a subscriber that never reads holds up no check and
// no caller; when it reads at last it gets the newest report, not the first.
func TestStuckSubscriberDelaysNothing(t *testing.T) {
	t.Parallel()
	db := nextDB(t)
	m, fake := newTestMonitor(t, Config{RedisURL: shared.URL(db)})
	stuck := m.Subscribe()
	defer stuck.Close()
	var last Report
	for range 3 {
		last = check(t, m, fake)
	}
	if last.Redis.CheckedAt == nil {
		t.Fatalf("third check: got no checked_at")
	}
	got := receive(t, stuck.C(), "the stuck subscriber's")
	if !got.Redis.CheckedAt.Equal(*last.Redis.CheckedAt) {
		t.Errorf("the stuck subscriber's report: got checked_at %v, want the newest, %v", got.Redis.CheckedAt, last.Redis.CheckedAt)
	}
	// A late subscriber starts with the latest report.
	late := m.Subscribe()
	defer late.Close()
	if got := receive(t, late.C(), "a late subscriber's"); !got.Redis.CheckedAt.Equal(*last.Redis.CheckedAt) {
		t.Errorf("a late subscriber's first report: got checked_at %v, want %v", got.Redis.CheckedAt, last.Redis.CheckedAt)
	}
}
