package health

// Scenarios against real Celery workers on real Redis servers.

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/syncwatch/syncwatch/internal/servicetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// workerTestTimeout is the check timeout of the scenarios with workers: replies take
// milliseconds, but a loaded CI machine must not make them "slow" (half the timeout).
// A check returns as soon as every listener has answered, so it costs nothing.
const workerTestTimeout = 4 * time.Second

func workerNames(rep CeleryReport) []string {
	var names []string
	for _, w := range rep.Workers {
		names = append(names, w.Name)
	}
	return names
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

func queuePending(rep CeleryReport) map[string]int64 {
	out := map[string]int64{}
	for _, q := range rep.Queues {
		out[q.Name] = q.Pending
	}
	return out
}

func TestCeleryNoWorker(t *testing.T) {
	t.Parallel()
	db := nextDB(t)
	m, clock := newTestMonitor(t, Config{BrokerURL: shared.URL(db), DefaultQueue: "dw-production"})
	start := time.Now()
	rep := check(t, m, clock).Celery
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("check took %s with nobody listening, want well under the timeout", elapsed)
	}
	if rep.Status != StatusUnhealthy {
		t.Errorf("status: got %q, want %q", rep.Status, StatusUnhealthy)
	}
	if !strings.Contains(rep.Error, "no worker answered") {
		t.Errorf("error: got %q, want it to say no worker answered", rep.Error)
	}
	if got := deref(rep.ActiveWorkers); got != 0 {
		t.Errorf("active_workers: got %v, want 0", got)
	}
	if got := deref(rep.PendingTasks); got != int64(0) {
		t.Errorf("pending_tasks: got %v, want 0 (measured, not null)", got)
	}
	if diff := cmp.Diff(map[string]int64{"dw-production": 0}, queuePending(rep)); diff != "" {
		t.Errorf("queues (-want +got):\n%s", diff)
	}
	// The reply binding is removed after every broadcast.
	c := shared.Client(t, db)
	if n := c.SCard(context.Background(), "_kombu.binding.reply.celery.pidbox").Val(); n != 0 {
		t.Errorf("reply bindings left: got %d, want 0", n)
	}
}

// TestCeleryWorkersAndOneKilled: two workers with different names are both counted; after
// one is killed with SIGKILL it is still counted at the first check (answered false,
// degraded), gone at the second (degraded, named in gone_workers), and forgotten at the
// third (healthy with one worker).
func TestCeleryWorkersAndOneKilled(t *testing.T) {
	t.Parallel()
	db := nextDB(t)
	url := shared.URL(db)
	workers := startWorkers(t,
		servicetest.WorkerOptions{Broker: url, Name: "alpha@syncwatch-test"},
		servicetest.WorkerOptions{Broker: url, Name: "beta@syncwatch-test"},
	)
	m, clock := newTestMonitor(t, Config{BrokerURL: url, DefaultQueue: "dw-production", Timeout: workerTestTimeout})

	rep := check(t, m, clock).Celery
	if rep.Status != StatusHealthy {
		t.Fatalf("status: got %q (%s %v), want healthy", rep.Status, rep.Error, rep.Warnings)
	}
	if got, want := workerNames(rep), []string{"alpha@syncwatch-test", "beta@syncwatch-test"}; !slices.Equal(got, want) {
		t.Errorf("workers: got %v, want %v", got, want)
	}
	if got := deref(rep.ActiveWorkers); got != 2 {
		t.Errorf("active_workers: got %v, want 2", got)
	}
	if got := deref(rep.Listeners); got != int64(2) {
		t.Errorf("listeners: got %v, want 2", got)
	}
	for _, w := range rep.Workers {
		if !w.Answered || deref(w.PoolSize) != int64(1) || deref(w.Processed) != int64(0) || w.PID == nil ||
			deref(w.ActiveTasks) != int64(0) || deref(w.ReservedTasks) != int64(0) {
			t.Errorf("worker %s: got answered %v, pool %v, processed %v, pid %v, active %v, reserved %v; want true, 1, 0, a pid, 0, 0",
				w.Name, w.Answered, deref(w.PoolSize), deref(w.Processed), deref(w.PID), deref(w.ActiveTasks), deref(w.ReservedTasks))
		}
		if !slices.Equal(w.Queues, []string{"dw-production"}) {
			t.Errorf("worker %s queues: got %v, want [dw-production]", w.Name, w.Queues)
		}
	}
	if diff := cmp.Diff([]QueueReport{{Name: "dw-production", Pending: 0, Consumers: 2,
		PendingByPriority: map[string]int64{"0": 0, "3": 0, "6": 0, "9": 0}}}, rep.Queues); diff != "" {
		t.Errorf("queues (-want +got):\n%s", diff)
	}

	workers[1].Kill()

	steps := []struct {
		name     string
		status   Status
		active   int
		answered []string
		missing  []string
		gone     []string
	}{
		{"first check after the kill: still counted, degraded", StatusDegraded, 2, []string{"alpha@syncwatch-test"}, []string{"beta@syncwatch-test"}, nil},
		{"second check: gone", StatusDegraded, 1, []string{"alpha@syncwatch-test"}, nil, []string{"beta@syncwatch-test"}},
		{"third check: forgotten", StatusHealthy, 1, []string{"alpha@syncwatch-test"}, nil, nil},
	}
	for _, step := range steps {
		rep := check(t, m, clock).Celery
		var answered, missing []string
		for _, w := range rep.Workers {
			if w.Answered {
				answered = append(answered, w.Name)
			} else {
				missing = append(missing, w.Name)
			}
		}
		if rep.Status != step.status || deref(rep.ActiveWorkers) != step.active ||
			!slices.Equal(answered, step.answered) || !slices.Equal(missing, step.missing) || !slices.Equal(rep.GoneWorkers, step.gone) {
			t.Errorf("%s: got status %q, active %v, answered %v, missing %v, gone %v (warnings %v); want %q, %d, %v, %v, %v",
				step.name, rep.Status, deref(rep.ActiveWorkers), answered, missing, rep.GoneWorkers, rep.Warnings,
				step.status, step.active, step.answered, step.missing, step.gone)
		}
	}
	assertNoReplyQueuesLeft(t, shared.Client(t, db), "")
}

// assertNoReplyQueuesLeft checks that every broadcast removed its reply binding and list.
func assertNoReplyQueuesLeft(t *testing.T, c *redis.Client, prefix string) {
	t.Helper()
	ctx := context.Background()
	if n := c.SCard(ctx, prefix+"_kombu.binding.reply.celery.pidbox").Val(); n != 0 {
		t.Errorf("reply bindings left: got %d, want 0", n)
	}
	if keys := c.Keys(ctx, prefix+"*.reply.celery.pidbox*").Val(); len(keys) != 0 {
		t.Errorf("reply lists left: got %q, want none", keys)
	}
}

// TestCeleryPendingWhileBusy: the only worker is busy with a long task and still
// answers; what piles up behind it, at every priority level and in a configured queue
// that no worker consumes, is counted exactly as Redis holds it.
func TestCeleryPendingWhileBusy(t *testing.T) {
	t.Parallel()
	db := nextDB(t)
	url := shared.URL(db)
	startWorkers(t, servicetest.WorkerOptions{Broker: url, Name: "busy@syncwatch-test"})
	c := shared.Client(t, db)
	ctx := context.Background()

	// Keep the worker busy, and wait until it has taken the task.
	servicetest.SendTasks(t, url, "", "dw-production:1:-1:60")
	deadline := time.Now().Add(10 * time.Second)
	for c.HLen(ctx, "unacked").Val() != 1 || c.LLen(ctx, "dw-production").Val() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the worker did not take the long task within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}

	m, clock := newTestMonitor(t, Config{BrokerURL: url, DefaultQueue: "dw-backlog", QueueGrowthThreshold: 2, Timeout: workerTestTimeout})
	servicetest.SendTasks(t, url, "",
		"dw-production:5:-1:1", // plain key
		"dw-production:3:3:1",  // dw-production\x06\x163
		"dw-production:2:9:1",  // dw-production\x06\x169
		"dw-backlog:4:-1:1",    // the configured default queue: nobody consumes it
	)
	for _, key := range []string{"dw-production", "dw-production" + sep + "3", "dw-production" + sep + "9", "dw-backlog"} {
		if n := c.LLen(ctx, key).Val(); n == 0 {
			t.Fatalf("LLEN %q: got 0, want the sent tasks there", key)
		}
	}

	rep := check(t, m, clock).Celery
	if got := deref(rep.ActiveWorkers); got != 1 {
		t.Errorf("active_workers with the worker busy: got %v, want 1 (%s)", got, rep.Error)
	}
	wantProduction, wantBacklog := listLengthsUnder(t, c, "", "dw-production"), listLengthsUnder(t, c, "", "dw-backlog")
	if wantProduction != 10 || wantBacklog != 4 {
		t.Fatalf("the test's own LLEN sums: got %d and %d, want 10 and 4", wantProduction, wantBacklog)
	}
	if got := deref(rep.PendingTasks); got != wantProduction+wantBacklog {
		t.Errorf("pending_tasks: got %v, want %d (the LLEN sums)", got, wantProduction+wantBacklog)
	}
	if diff := cmp.Diff(map[string]int64{"dw-production": wantProduction, "dw-backlog": wantBacklog}, queuePending(rep)); diff != "" {
		t.Errorf("pending per queue (-want +got):\n%s", diff)
	}
	for _, q := range rep.Queues {
		want := map[string]map[string]int64{
			"dw-production": {"0": 5, "3": 3, "6": 0, "9": 2},
			"dw-backlog":    {"0": 4, "3": 0, "6": 0, "9": 0},
		}[q.Name]
		if diff := cmp.Diff(want, q.PendingByPriority); diff != "" {
			t.Errorf("queue %s by priority (-want +got):\n%s", q.Name, diff)
		}
		if wantConsumers := map[string]int{"dw-production": 1, "dw-backlog": 0}[q.Name]; q.Consumers != wantConsumers {
			t.Errorf("queue %s consumers: got %d, want %d", q.Name, q.Consumers, wantConsumers)
		}
	}
	if got := deref(rep.ReservedTasks); got != int64(1) {
		t.Errorf("reserved_tasks: got %v, want 1 (the task being executed, acks late)", got)
	}
	if w := rep.Workers; len(w) != 1 || deref(w[0].ActiveTasks) != int64(1) || deref(w[0].ReservedTasks) != int64(0) {
		t.Errorf("the busy worker: got %+v, want it executing 1 task and holding no other (prefetch 1)", w)
	}
	if rep.OldestReservedSeconds == nil {
		t.Errorf("oldest_reserved_seconds: got null, want the age of the reserved task")
	}
	if rep.Status != StatusHealthy {
		t.Errorf("status after one check: got %q %v, want healthy", rep.Status, rep.Warnings)
	}

	// The queue keeps growing over three checks by more than the threshold: degraded.
	servicetest.SendTasks(t, url, "", "dw-backlog:2:-1:1")
	if rep := check(t, m, clock).Celery; rep.Status != StatusHealthy {
		t.Errorf("status after two growing checks: got %q %v, want healthy", rep.Status, rep.Warnings)
	}
	servicetest.SendTasks(t, url, "", "dw-backlog:2:-1:1")
	rep = check(t, m, clock).Celery
	if rep.Status != StatusDegraded || len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "grew from 14 to 18") {
		t.Errorf("status after three growing checks: got %q %v, want degraded, grew from 14 to 18", rep.Status, rep.Warnings)
	}
}

// TestCeleryPasswordAndDatabase3: one worker on a broker protected by a password, on
// database 3; the password appears nowhere in the report.
func TestCeleryPasswordAndDatabase3(t *testing.T) {
	t.Parallel()
	const password = "s3cret-Pa55word"
	srv := servicetest.NewRedis(t, servicetest.RedisOptions{Password: password})
	url := srv.URL(3)
	startWorkers(t, servicetest.WorkerOptions{Broker: url, Name: "guarded@syncwatch-test"})
	m, clock := newTestMonitor(t, Config{BrokerURL: url, RedisURL: RedisURLFrom("", url), DefaultQueue: "dw-production", Timeout: workerTestTimeout})
	rep := check(t, m, clock)
	if rep.Celery.Status != StatusHealthy || !slices.Equal(workerNames(rep.Celery), []string{"guarded@syncwatch-test"}) {
		t.Errorf("celery: got %q %s, workers %v; want healthy with guarded@syncwatch-test", rep.Celery.Status, rep.Celery.Error, workerNames(rep.Celery))
	}
	if rep.Redis.Status != StatusHealthy {
		t.Errorf("redis: got %q %s, want healthy", rep.Redis.Status, rep.Redis.Error)
	}
	if want := "redis://:***@" + srv.Addr() + "/3"; rep.Celery.Broker != want {
		t.Errorf("broker: got %q, want %q", rep.Celery.Broker, want)
	}
	out, _ := json.Marshal(rep)
	if strings.Contains(string(out), password) {
		t.Errorf("the report contains the password: %s", out)
	}
	// Without the password: unhealthy, and still no password in the reason.
	m2, clock2 := newTestMonitor(t, Config{BrokerURL: strings.Replace(url, password, "wrong-"+password, 1)})
	rep2 := check(t, m2, clock2).Celery
	if rep2.Status != StatusUnhealthy || !strings.Contains(rep2.Error, "broker error: WRONGPASS") || strings.Contains(rep2.Error, password) {
		t.Errorf("wrong password: got %q %q, want unhealthy, broker error: WRONGPASS…, without the password", rep2.Status, rep2.Error)
	}
}

// TestCeleryGlobalKeyPrefix: a worker configured with kombu's global_keyprefix is found
// on the prefixed channel, and its queues are counted under the prefix.
func TestCeleryGlobalKeyPrefix(t *testing.T) {
	t.Parallel()
	db := nextDB(t)
	url := shared.URL(db)
	const opts = `{"global_keyprefix": "pfx:"}`
	startWorkers(t, servicetest.WorkerOptions{Broker: url, TransportOptions: opts, Name: "prefixed@syncwatch-test"})
	servicetest.SendTasks(t, url, opts, "dw-backlog:3:-1:1", "dw-backlog:2:6:1")
	c := shared.Client(t, db)
	if n := listLengthsUnder(t, c, "pfx:", "dw-backlog"); n != 5 {
		t.Fatalf("the test's own LLEN sum under pfx:: got %d, want 5", n)
	}

	m, clock := newTestMonitor(t, Config{BrokerURL: url, KeyPrefix: "pfx:", DefaultQueue: "dw-backlog", Timeout: workerTestTimeout})
	rep := check(t, m, clock).Celery
	if rep.Status != StatusHealthy || !slices.Equal(workerNames(rep), []string{"prefixed@syncwatch-test"}) {
		t.Errorf("got %q %s, workers %v; want healthy with prefixed@syncwatch-test", rep.Status, rep.Error, workerNames(rep))
	}
	if diff := cmp.Diff(map[string]int64{"dw-production": 0, "dw-backlog": 5}, queuePending(rep)); diff != "" {
		t.Errorf("pending per queue (-want +got):\n%s", diff)
	}

	assertNoReplyQueuesLeft(t, c, "pfx:")
	if n := c.SCard(context.Background(), "pfx:_kombu.binding.celery.pidbox").Val(); n != 1 {
		t.Errorf("the worker's own binding under the prefix: got %d members, want 1", n)
	}

	// Without the prefix nobody is found: the channel and the keys are elsewhere.
	m2, clock2 := newTestMonitor(t, Config{BrokerURL: url, DefaultQueue: "dw-backlog"})
	rep2 := check(t, m2, clock2).Celery
	if deref(rep2.ActiveWorkers) != 0 || deref(rep2.PendingTasks) != int64(0) {
		t.Errorf("without the prefix: got %v workers, %v pending; want 0 and 0", deref(rep2.ActiveWorkers), deref(rep2.PendingTasks))
	}
}

// TestCeleryBrokerStoppedAndRestarted: a stopped broker makes celery unhealthy at once,
// with a reason that has no password, while the other sections are unaffected; the next
// check after it is back finds it, and the worker once it has reconnected.
func TestCeleryBrokerStoppedAndRestarted(t *testing.T) {
	t.Parallel()
	const password = "broker-Pa55"
	srv := servicetest.NewRedis(t, servicetest.RedisOptions{Password: password})
	url := srv.URL(0)
	startWorkers(t, servicetest.WorkerOptions{Broker: url, Name: "phoenix@syncwatch-test"})
	var logs syncBuffer
	m, clock := newTestMonitor(t, Config{
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
		BrokerURL:    url,
		RedisURL:     shared.URL(0),
		DefaultQueue: "dw-production",
		Database: func(ctx context.Context) (syncs.DatabaseHealth, error) {
			return syncs.DatabaseHealth{ResponseTime: 3 * time.Millisecond, ConnectionCount: 4}, nil
		},
	})
	if rep := check(t, m, clock); rep.Celery.Status != StatusHealthy {
		t.Fatalf("before the stop: got %q %s, want healthy", rep.Celery.Status, rep.Celery.Error)
	}

	srv.Stop()
	start := time.Now()
	rep := check(t, m, clock)
	if elapsed := time.Since(start); elapsed > DefaultTimeout {
		t.Errorf("check with the broker stopped took %s, want within the %s timeout", elapsed, DefaultTimeout)
	}
	if rep.Celery.Status != StatusUnhealthy || !strings.Contains(rep.Celery.Error, "broker unreachable") {
		t.Errorf("celery: got %q %q, want unhealthy, broker unreachable", rep.Celery.Status, rep.Celery.Error)
	}
	if rep.Celery.ActiveWorkers != nil || rep.Celery.PendingTasks != nil {
		t.Errorf("unmeasured numbers: got active %v, pending %v; want null", deref(rep.Celery.ActiveWorkers), deref(rep.Celery.PendingTasks))
	}
	if rep.Redis.Status != StatusHealthy || rep.Database.Status != StatusHealthy {
		t.Errorf("other sections: got redis %q, database %q; want healthy", rep.Redis.Status, rep.Database.Status)
	}
	if out, _ := json.Marshal(rep); strings.Contains(string(out), password) {
		t.Errorf("the report contains the password: %s", out)
	}
	if got := logs.String(); !strings.Contains(got, "component=celery status=unhealthy") || strings.Contains(got, password) {
		t.Errorf("logs: got %q, want celery's change to unhealthy and no password", got)
	}

	// A long outage: more failed checks than the client pool has connections.
	for range 6 {
		if rep := check(t, m, clock); rep.Celery.Status != StatusUnhealthy {
			t.Fatalf("during the outage: got %q, want unhealthy", rep.Celery.Status)
		}
	}

	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	rep = check(t, m, clock)
	if rep.Celery.PendingTasks == nil || strings.Contains(rep.Celery.Error, "unreachable") {
		t.Errorf("first check after the restart: got %q %q, want the broker reachable again", rep.Celery.Status, rep.Celery.Error)
	}
	// The worker reconnects on its own schedule (kombu retries every few seconds).
	deadline := time.Now().Add(20 * time.Second)
	for rep.Celery.Status != StatusHealthy && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		rep = check(t, m, clock)
	}
	if rep.Celery.Status != StatusHealthy || !slices.Equal(workerNames(rep.Celery), []string{"phoenix@syncwatch-test"}) {
		t.Errorf("after the worker reconnected: got %q %s, workers %v; want healthy with phoenix@syncwatch-test", rep.Celery.Status, rep.Celery.Error, workerNames(rep.Celery))
	}
}

// syncBuffer is a bytes.Buffer safe for a logger's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
