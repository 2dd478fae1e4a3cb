package health

// The Redis scenarios again, with real Celery workers (kombu's pyamqp) on a real
// RabbitMQ node: the same sections, the same verdicts.

import (
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/syncwatch/syncwatch/internal/servicetest"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// TestAMQPWorkersAndOneKilled: two workers answer, with their pools, tasks and queues;
// after one is killed with SIGKILL it is still counted at the first check (degraded),
// gone at the second, and forgotten at the third; the broker card stays healthy.
func TestAMQPWorkersAndOneKilled(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	url := r.URL(r.NewVhost(t))
	workers := startAMQPWorkers(t,
		servicetest.WorkerOptions{Broker: url, Name: "alpha@syncwatch-test"},
		servicetest.WorkerOptions{Broker: url, Name: "beta@syncwatch-test"},
	)
	m, clock := newTestMonitor(t, Config{BrokerURL: url, RabbitMQManagementURL: r.ManagementURL(),
		DefaultQueue: "dw-production", Timeout: workerTestTimeout})

	rep := check(t, m, clock)
	c := rep.Celery
	if c.Status != StatusHealthy || c.BrokerType != "rabbitmq" {
		t.Fatalf("celery: got %q %s %v, type %q; want healthy rabbitmq", c.Status, c.Error, c.Warnings, c.BrokerType)
	}
	if got, want := workerNames(c), []string{"alpha@syncwatch-test", "beta@syncwatch-test"}; !slices.Equal(got, want) {
		t.Errorf("workers: got %v, want %v", got, want)
	}
	if deref(c.ActiveWorkers) != 2 || deref(c.Listeners) != int64(2) || deref(c.ReservedTasks) != int64(0) || c.ResponseTimeMS == nil {
		t.Errorf("got active %v, listeners %v, reserved %v, rtt %v; want 2, 2, 0, measured",
			deref(c.ActiveWorkers), deref(c.Listeners), deref(c.ReservedTasks), deref(c.ResponseTimeMS))
	}
	for _, w := range c.Workers {
		if !w.Answered || deref(w.PoolSize) != int64(1) || deref(w.Processed) != int64(0) || w.PID == nil ||
			deref(w.ActiveTasks) != int64(0) || deref(w.ReservedTasks) != int64(0) || deref(w.Prefetch) != int64(1) {
			t.Errorf("worker %s: got answered %v, pool %v, processed %v, pid %v, active %v, reserved %v, prefetch %v; want true, 1, 0, a pid, 0, 0, 1",
				w.Name, w.Answered, deref(w.PoolSize), deref(w.Processed), deref(w.PID), deref(w.ActiveTasks), deref(w.ReservedTasks), deref(w.Prefetch))
		}
		if !slices.Equal(w.Queues, []string{"dw-production"}) {
			t.Errorf("worker %s queues: got %v, want [dw-production]", w.Name, w.Queues)
		}
	}
	if diff := cmp.Diff([]QueueReport{{Name: "dw-production", Pending: 0, Consumers: 2}}, c.Queues); diff != "" {
		t.Errorf("queues (-want +got):\n%s", diff)
	}
	if card := rep.RabbitMQ; card == nil || card.Status != StatusHealthy || card.Version == "" || card.ConnectTimeMS == nil ||
		card.ResponseTimeMS == nil || card.CheckedAt == nil {
		t.Errorf("rabbitmq card: got %+v, want healthy with a version and times", card)
	}
	if rep.Redis.Status != StatusNotConfigured {
		t.Errorf("redis: got %q, want not_configured (the broker is not Redis)", rep.Redis.Status)
	}

	workers[1].Kill()
	steps := []struct {
		name    string
		status  Status
		active  int
		missing []string
		gone    []string
	}{
		{"first check after the kill: still counted, degraded", StatusDegraded, 2, []string{"beta@syncwatch-test"}, nil},
		{"second check: gone", StatusDegraded, 1, nil, []string{"beta@syncwatch-test"}},
		{"third check: forgotten", StatusHealthy, 1, nil, nil},
	}
	for _, step := range steps {
		c := check(t, m, clock).Celery
		var missing []string
		for _, w := range c.Workers {
			if !w.Answered {
				missing = append(missing, w.Name)
			}
		}
		if c.Status != step.status || deref(c.ActiveWorkers) != step.active || !slices.Equal(missing, step.missing) ||
			!slices.Equal(c.GoneWorkers, step.gone) {
			t.Errorf("%s: got status %q, active %v, missing %v, gone %v (warnings %v); want %q, %d, %v, %v",
				step.name, c.Status, deref(c.ActiveWorkers), missing, c.GoneWorkers, c.Warnings,
				step.status, step.active, step.missing, step.gone)
		}
		// RabbitMQ deletes the dead worker's mailbox once it has seen its connection
		// close, which the first check may or may not come after.
		if listeners := deref(c.Listeners); listeners != int64(1) && (step.gone != nil || step.missing == nil || listeners != int64(2)) {
			t.Errorf("%s: got %v listening, want 1 (or 2 just after the kill)", step.name, listeners)
		}
	}
}

// TestAMQPQueueDepths: a queue of 25 tasks that no worker consumes counts 25; the only
// worker, busy with a long task, still answers and shows it as active and unacknowledged
// (late acks), while the tasks behind it wait; a configured queue that does not exist is
// reported missing, and is not created by looking.
func TestAMQPQueueDepths(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	vhost := r.NewVhost(t)
	url := r.URL(vhost)
	startAMQPWorkers(t, servicetest.WorkerOptions{Broker: url, Name: "busy@syncwatch-test"})
	servicetest.SendTasks(t, url, "", "dw-backlog:25:-1:1", "dw-production:3:-1:60")

	m, clock := newTestMonitor(t, Config{BrokerURL: url, DefaultQueue: "dw-backlog", Timeout: workerTestTimeout})
	// The worker takes its first task at its own pace: wait until it runs it.
	var c CeleryReport
	deadline := time.Now().Add(20 * time.Second)
	for {
		c = check(t, m, clock).Celery
		if len(c.Workers) == 1 && deref(c.Workers[0].ActiveTasks) == int64(1) || time.Now().After(deadline) {
			break
		}
	}
	if c.Status != StatusHealthy || deref(c.ActiveWorkers) != 1 {
		t.Fatalf("got %q %s %v with %v workers, want healthy with the busy one", c.Status, c.Error, c.Warnings, deref(c.ActiveWorkers))
	}
	if diff := cmp.Diff(map[string]int64{"dw-backlog": 25, "dw-production": 2}, queuePending(c)); diff != "" {
		t.Errorf("pending per queue (-want +got):\n%s", diff)
	}
	if deref(c.PendingTasks) != int64(27) || deref(c.ReservedTasks) != int64(1) {
		t.Errorf("got pending %v, reserved %v; want 27 (25 + 2 behind the busy worker) and 1 (the running task, acks late)",
			deref(c.PendingTasks), deref(c.ReservedTasks))
	}
	w := c.Workers[0]
	if deref(w.ActiveTasks) != int64(1) || deref(w.ReservedTasks) != int64(0) {
		t.Errorf("worker: got active %v, reserved %v; want 1 and 0 (prefetch 1)", deref(w.ActiveTasks), deref(w.ReservedTasks))
	}
	for _, q := range c.Queues {
		if want := map[string]int{"dw-backlog": 0, "dw-production": 1}[q.Name]; q.Consumers != want || q.PendingByPriority != nil || q.Missing {
			t.Errorf("queue %s: got %d consumers, by priority %v, missing %v; want %d, null, false", q.Name, q.Consumers, q.PendingByPriority, q.Missing, want)
		}
	}

	// A default queue with a typo: missing, counted as 0, and still missing afterwards.
	m2, clock2 := newTestMonitor(t, Config{BrokerURL: url, DefaultQueue: "dw-typo", Timeout: workerTestTimeout})
	c = check(t, m2, clock2).Celery
	var typo *QueueReport
	for i := range c.Queues {
		if c.Queues[i].Name == "dw-typo" {
			typo = &c.Queues[i]
		}
	}
	if typo == nil || !typo.Missing || typo.Pending != 0 {
		t.Errorf("the misspelt default queue: got %+v, want it listed, missing, with 0 pending", typo)
	}
	assertNoQueue(t, r, vhost, "dw-typo")
}

// assertNoQueue checks, through the management API, that a queue does not exist.
func assertNoQueue(t *testing.T, r *servicetest.RabbitMQ, vhost, queue string) {
	t.Helper()
	var queues []struct {
		Name string `json:"name"`
	}
	if err := json.Unmarshal(r.Management(t, http.MethodGet, "/api/queues/"+url.PathEscape(vhost)+"?columns=name", nil), &queues); err != nil {
		t.Fatal(err)
	}
	for _, q := range queues {
		if q.Name == queue {
			t.Errorf("queue %q exists on the broker: looking at it created it", queue)
		}
	}
}

// TestAMQPMatchesCeleryInspect compares syncwatch's view with `celery inspect ping` and
// `celery inspect active_queues` on the same broker: the same workers, the same queues.
func TestAMQPMatchesCeleryInspect(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	vhost := r.NewVhost(t)
	url := r.URL(vhost)
	startAMQPWorkers(t,
		servicetest.WorkerOptions{Broker: url, Name: "one@syncwatch-test", Queues: "dw-production,dw-high"},
		servicetest.WorkerOptions{Broker: url, Name: "two@syncwatch-test"},
	)
	m, clock := newTestMonitor(t, Config{BrokerURL: url, DefaultQueue: "dw-production", Timeout: workerTestTimeout})
	before := topology(t, r, vhost)
	ours := check(t, m, clock).Celery
	// The check left nothing on the broker: its reply queue went with its channel. (The
	// reply exchange, which Celery's clients declare too, is there since the readiness
	// ping: see TestAMQPReplyQueueGoesWithItsOwner.)
	if after := topology(t, r, vhost); !slices.Equal(after, before) {
		t.Errorf("the vhost after a check:\n got %q\nwant %q", after, before)
	}

	pings := servicetest.Inspect(t, url, "", "ping", 3*time.Second)
	var celerys []string
	for node, reply := range pings {
		var pong struct {
			OK string `json:"ok"`
		}
		if json.Unmarshal(reply, &pong) != nil || pong.OK != "pong" {
			t.Errorf("celery inspect ping: %s answered %s", node, reply)
		}
		celerys = append(celerys, node)
	}
	slices.Sort(celerys)
	if got := workerNames(ours); len(celerys) != 2 || !slices.Equal(got, celerys) {
		t.Errorf("workers: syncwatch sees %v, celery inspect ping %v", got, celerys)
	}

	queues := servicetest.Inspect(t, url, "", "active_queues", 3*time.Second)
	for _, w := range ours.Workers {
		var qs []struct {
			Name string `json:"name"`
		}
		if err := json.Unmarshal(queues[w.Name], &qs); err != nil {
			t.Fatalf("celery inspect active_queues for %s: %v (%s)", w.Name, err, queues[w.Name])
		}
		var names []string
		for _, q := range qs {
			names = append(names, q.Name)
		}
		slices.Sort(names)
		if !slices.Equal(w.Queues, names) || len(names) == 0 {
			t.Errorf("%s queues: syncwatch sees %v, celery inspect active_queues %v", w.Name, w.Queues, names)
		}
	}
}

// TestAMQPBrokerStoppedAndRestarted: a frozen broker makes no check wait past its
// timeout; the broker stopped turns the celery and rabbitmq sections unhealthy, with a
// reason and no password, and nothing else; both recover when it is back, the worker
// once it has reconnected. It stops the shared node's
// broker, so it is not parallel: no other test runs meanwhile.
func TestAMQPBrokerStoppedAndRestarted(t *testing.T) {
	r := rabbit(t)
	vhost := r.NewVhost(t)
	url := r.URL(vhost)
	startAMQPWorkers(t, servicetest.WorkerOptions{Broker: url, Name: "phoenix@syncwatch-test"})
	// syncwatch logs in as a user of its own, whose password, unlike guest's, is not
	// also its name: no report may contain it anywhere, not merely in a URL.
	const watcher, password = "phoenix-watch", "Ph0enix-Pa55"
	r.NewUser(t, watcher, password, "monitoring", vhost)
	leaks := func(rep Report) bool {
		out, _ := json.Marshal(rep)
		return strings.Contains(string(out), password)
	}
	var logs syncBuffer
	m, clock := newTestMonitor(t, Config{
		Logger:                slog.New(slog.NewTextHandler(&logs, nil)),
		BrokerURL:             strings.Replace(url, servicetest.RabbitMQUser+":"+servicetest.RabbitMQPassword+"@", watcher+":"+password+"@", 1),
		RabbitMQManagementURL: r.ManagementURLFor(watcher, password),
		RedisURL:              shared.URL(0),
		DefaultQueue:          "dw-production",
		Database: func(context.Context) (syncs.DatabaseHealth, error) {
			return syncs.DatabaseHealth{ResponseTime: 3 * time.Millisecond, ConnectionCount: 4}, nil
		},
	})
	if rep := check(t, m, clock); rep.Celery.Status != StatusHealthy || rep.RabbitMQ.Status != StatusHealthy {
		t.Fatalf("before the stop: got celery %q %s %v, rabbitmq %q %s %v; want healthy", rep.Celery.Status, rep.Celery.Error, rep.Celery.Warnings, rep.RabbitMQ.Status, rep.RabbitMQ.Error, rep.RabbitMQ.Warnings)
	}

	// A frozen broker: the connection stays open and nothing answers. No check waits
	// past its timeout; the next check after it thaws opens a new connection.
	r.Freeze(t)
	start := time.Now()
	rep := check(t, m, clock)
	elapsed := time.Since(start)
	// The checks themselves returned, their calls cut short by closing the connection:
	// the run did not merely give up on them.
	stillRunning := m.brokerBusy.Load() || m.rabbitmqBusy.Load()
	r.Thaw()
	if stillRunning {
		t.Errorf("after a check with the broker frozen: a check is still running, blocked on the broker")
	}
	if limit := DefaultTimeout + runGrace; elapsed > limit {
		t.Errorf("check with the broker frozen took %s, want at most %s", elapsed, limit)
	}
	if leaks(rep) {
		t.Errorf("the report with the broker frozen contains the password: %+v", rep)
	}
	if c, card := rep.Celery, rep.RabbitMQ; c.Status != StatusUnhealthy || !strings.Contains(c.Error, "timed out after 2s") ||
		card.Status != StatusUnhealthy || !strings.Contains(card.Error, "timed out after 2s") {
		t.Errorf("frozen: got celery %q %q, rabbitmq %q %q; want both unhealthy, timed out after 2s", c.Status, c.Error, card.Status, card.Error)
	}
	deadline := time.Now().Add(20 * time.Second)
	for rep.Celery.Status != StatusHealthy && time.Now().Before(deadline) {
		rep = check(t, m, clock)
	}
	if rep.Celery.Status != StatusHealthy || rep.RabbitMQ.Status != StatusHealthy {
		t.Fatalf("thawed: got celery %q %s %v, rabbitmq %q %s; want healthy again", rep.Celery.Status, rep.Celery.Error, rep.Celery.Warnings, rep.RabbitMQ.Status, rep.RabbitMQ.Error)
	}

	ctx := context.Background()
	if err := r.StopApp(ctx); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	rep = check(t, m, clock)
	if elapsed := time.Since(start); elapsed > DefaultTimeout {
		t.Errorf("check with the broker stopped took %s, want within the %s timeout", elapsed, DefaultTimeout)
	}
	if c := rep.Celery; c.Status != StatusUnhealthy || !strings.Contains(c.Error, "broker unreachable") || !strings.Contains(c.Error, "refused") ||
		c.ActiveWorkers != nil || c.PendingTasks != nil {
		t.Errorf("celery: got %q %q, active %v, pending %v; want unhealthy, broker unreachable … refused, nulls",
			c.Status, c.Error, deref(c.ActiveWorkers), deref(c.PendingTasks))
	}
	if card := rep.RabbitMQ; card.Status != StatusUnhealthy || !strings.Contains(card.Error, "rabbitmq unreachable") || card.Version != "" {
		t.Errorf("rabbitmq: got %q %q version %q, want unhealthy, rabbitmq unreachable, no version", card.Status, card.Error, card.Version)
	}
	if rep.Redis.Status != StatusHealthy || rep.Database.Status != StatusHealthy {
		t.Errorf("other sections: got redis %q, database %q; want healthy", rep.Redis.Status, rep.Database.Status)
	}
	if leaks(rep) {
		t.Errorf("the report with the broker stopped contains the password: %+v", rep)
	}
	if got := logs.String(); !strings.Contains(got, "component=celery status=unhealthy") || !strings.Contains(got, "component=rabbitmq status=unhealthy") {
		t.Errorf("logs: got %q, want celery's and rabbitmq's change to unhealthy", got)
	}

	if err := r.StartApp(ctx); err != nil {
		t.Fatal(err)
	}
	rep = check(t, m, clock)
	if rep.RabbitMQ.Status != StatusHealthy || strings.Contains(rep.Celery.Error, "unreachable") {
		t.Errorf("first check after the restart: got rabbitmq %q %q, celery %q %q; want the broker reachable again",
			rep.RabbitMQ.Status, rep.RabbitMQ.Error, rep.Celery.Status, rep.Celery.Error)
	}
	// The worker reconnects on its own schedule (kombu retries every few seconds).
	deadline = time.Now().Add(30 * time.Second)
	for rep.Celery.Status != StatusHealthy && time.Now().Before(deadline) {
		rep = check(t, m, clock)
	}
	if rep.Celery.Status != StatusHealthy || !slices.Equal(workerNames(rep.Celery), []string{"phoenix@syncwatch-test"}) {
		t.Errorf("after the worker reconnected: got %q %s %v, workers %v; want healthy with phoenix@syncwatch-test",
			rep.Celery.Status, rep.Celery.Error, rep.Celery.Warnings, workerNames(rep.Celery))
	}
}

// TestAMQPConnectionFailuresSayWhy: each way a connection fails has a reason a person
// can act on, naming the user and never the password.
func TestAMQPConnectionFailuresSayWhy(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	vhost := r.NewVhost(t)
	const password = "Wr0ng-Pa55word"
	r.NewUser(t, "outsider", password, "", "") // exists, but may not use the test's vhost
	addr := r.AMQPAddr()
	tests := []struct {
		name, url, want string
	}{
		{"a wrong password", "amqp://guest:" + password + "@" + addr + "/" + vhost, `broker error: authentication failed for user "guest"`},
		{"an unknown user", "amqp://nobody:" + password + "@" + addr + "/" + vhost, `broker error: authentication failed for user "nobody"`},
		{"an unknown vhost", "amqp://guest:guest@" + addr + "/no-such-vhost", `broker error: vhost "no-such-vhost" not found`},
		{"a vhost the user may not use", "amqp://outsider:" + password + "@" + addr + "/" + vhost, `broker error: user "outsider" has no access to vhost "` + vhost + `"`},
		{"nothing listening", "amqp://guest:" + password + "@" + hungPeerClosed(t) + "/", "broker unreachable: dial tcp"},
		{"TLS to a port without TLS", "amqps://guest:" + password + "@" + addr + "/" + vhost, "does not speak TLS"},
		{"TLS with a certificate nobody vouches for", "amqps://guest:" + password + "@" + r.TLSAddr() + "/" + vhost, "give the CA with ssl_ca_certs"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// RabbitMQ refuses a login only after about two seconds. With a timeout well
			// below that, a check ends before its own dial does, and the reason can only
			// come from the dial before: the second check, once the first one's dial has
			// ended, must report it.
			const timeout = 500 * time.Millisecond
			m, clock := newTestMonitor(t, Config{BrokerURL: tt.url, Timeout: timeout})
			check(t, m, clock)
			conn := m.broker.(*amqpBroker).conn
			conn.mu.Lock()
			dialing := conn.dialing
			conn.mu.Unlock()
			if dialing != nil {
				select {
				case <-dialing:
				case <-time.After(15 * time.Second):
					t.Fatal("the first check's dial has not ended after 15s")
				}
			}
			rep := check(t, m, clock)
			c := rep.Celery
			if c.Status != StatusUnhealthy || !strings.Contains(c.Error, tt.want) || c.ActiveWorkers != nil {
				t.Errorf("celery: got %q %q, want unhealthy, %q, no workers counted", c.Status, c.Error, tt.want)
			}
			want := strings.Replace(tt.want, "broker", "rabbitmq", 1)
			if card := rep.RabbitMQ; card.Status != StatusUnhealthy || !strings.Contains(card.Error, want) {
				t.Errorf("rabbitmq: got %q %q, want unhealthy, %q", card.Status, card.Error, want)
			}
			if out, _ := json.Marshal(rep); strings.Contains(string(out), password) {
				t.Errorf("the report contains the password: %s", out)
			}
		})
	}
}

// TestAMQPOverTLS: amqps:// against the node's TLS listener, trusted with ssl_ca_certs,
// or with ssl_cert_reqs=CERT_NONE.
func TestAMQPOverTLS(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	vhost := r.NewVhost(t)
	base := "amqps://guest:guest@" + r.TLSAddr() + "/" + vhost
	for _, u := range []string{base + "?ssl_ca_certs=" + rabbitTLS.CA, base + "?ssl_cert_reqs=CERT_NONE"} {
		m, clock := newTestMonitor(t, Config{BrokerURL: u})
		rep := check(t, m, clock)
		if card := rep.RabbitMQ; card.Status != StatusHealthy || card.Version == "" {
			t.Errorf("%s: rabbitmq got %q %q, want healthy", u, card.Status, card.Error)
		}
		// No worker ever ran on the vhost: nothing to broadcast to, and no wait for it.
		if c := rep.Celery; c.Status != StatusUnhealthy || !strings.Contains(c.Error, "no worker answered the ping (0 listening") {
			t.Errorf("%s: celery got %q %q, want unhealthy, no worker, 0 listening", u, c.Status, c.Error)
		}
	}
}

// TestAMQPNoMailboxNoWait: once workers have come and gone, celery.pidbox exists but
// no mailbox is bound to it: the broker returns the broadcast as unroutable, which says
// that no worker listens, without waiting for the deadline.
func TestAMQPNoMailboxNoWait(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	vhost := r.NewVhost(t)
	r.Management(t, http.MethodPut, "/api/exchanges/"+url.PathEscape(vhost)+"/"+broadcastExchange,
		[]byte(`{"type": "fanout", "durable": false, "auto_delete": false}`))
	m, clock := newTestMonitor(t, Config{BrokerURL: r.URL(vhost), Timeout: 10 * time.Second})
	c := check(t, m, clock).Celery
	if c.Status != StatusUnhealthy || c.Error != "no worker answered the ping (0 listening on the broker)" || deref(c.Listeners) != int64(0) {
		t.Errorf("got %q %q, listeners %v; want unhealthy, no worker answered the ping (0 listening on the broker), 0", c.Status, c.Error, deref(c.Listeners))
	}
}

// TestAMQPManagementFigures: with the management API the card shows the vhost's
// messages, the connections, memory and alarms; without it, what AMQP alone tells; a
// management API that refuses the user degrades the card without hiding the broker.
func TestAMQPManagementFigures(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	vhost := r.NewVhost(t)
	url := r.URL(vhost)
	servicetest.SendTasks(t, url, "", "dw-backlog:7:-1:1")
	const watcher, password = "watcher", "Watch3r-Pa55"
	r.NewUser(t, watcher, password, "monitoring", vhost)
	// Another vhost's messages, which the card must not count.
	other := r.NewVhost(t)
	servicetest.SendTasks(t, r.URL(other), "", "dw-backlog:3:-1:1")
	r.Management(t, http.MethodPut, "/api/permissions/"+other+"/"+watcher, []byte(`{"configure": "", "write": "", "read": ".*"}`))

	m, clock := newTestMonitor(t, Config{BrokerURL: url, RabbitMQManagementURL: r.ManagementURLFor(watcher, password), DefaultQueue: "dw-backlog"})
	card := check(t, m, clock).RabbitMQ
	// The management API's figures are statistics, refreshed every half second by this
	// node's configuration: wait for them to include the seven messages and a connection
	// (a connection is counted once it has statistics, after some traffic).
	deadline := time.Now().Add(10 * time.Second)
	for (deref(card.MessagesReady) != int64(7) || deref(card.Connections) == int64(0)) && time.Now().Before(deadline) {
		card = check(t, m, clock).RabbitMQ
	}
	if card.Status != StatusHealthy || deref(card.MessagesReady) != int64(7) || deref(card.MessagesUnacknowledged) != int64(0) {
		t.Errorf("got %q %v, ready %v, unacked %v; want healthy, 7, 0", card.Status, card.Warnings, deref(card.MessagesReady), deref(card.MessagesUnacknowledged))
	}
	if deref(card.Connections) == nil || *card.Connections < 1 || deref(card.MemoryUsedMB) == nil || *card.MemoryUsedMB <= 0 ||
		deref(card.MemoryLimitMB) == nil || *card.MemoryLimitMB <= *card.MemoryUsedMB || deref(card.MemoryAlarm) != false || deref(card.DiskAlarm) != false {
		t.Errorf("got connections %v, memory %v of %v MiB, alarms %v %v; want measured, no alarm",
			deref(card.Connections), deref(card.MemoryUsedMB), deref(card.MemoryLimitMB), deref(card.MemoryAlarm), deref(card.DiskAlarm))
	}
	if want := strings.Replace(r.ManagementURLFor(watcher, password), watcher+":"+password+"@", "", 1); card.Management != want {
		t.Errorf("management: got %q, want %q (no credentials)", card.Management, want)
	}

	// Without the management API: the handshake's figures, and nulls.
	m2, clock2 := newTestMonitor(t, Config{BrokerURL: url})
	card = check(t, m2, clock2).RabbitMQ
	if card.Status != StatusHealthy || card.Version == "" || card.Management != "" || card.MessagesReady != nil || card.Connections != nil || card.MemoryUsedMB != nil {
		t.Errorf("without management: got %+v, want healthy, a version, no management figures", card)
	}

	// A management user refused: degraded, naming the user, never the password.
	const wrong = "Mgmt-Wr0ng"
	m3, clock3 := newTestMonitor(t, Config{BrokerURL: url, RabbitMQManagementURL: r.ManagementURLFor(watcher, wrong)})
	rep := check(t, m3, clock3)
	card = rep.RabbitMQ
	if card.Status != StatusDegraded || len(card.Warnings) != 1 || !strings.Contains(card.Warnings[0], `user "watcher" was refused`) || card.Version == "" {
		t.Errorf("a refused management user: got %q %v version %q, want degraded, user \"watcher\" was refused, the broker's version", card.Status, card.Warnings, card.Version)
	}
	if out, _ := json.Marshal(rep); strings.Contains(string(out), wrong) {
		t.Errorf("the report contains the management password: %s", out)
	}
}

// TestAMQPConnectionIsReusedAndRebuilt: checks share one connection, the celery check
// and the rabbitmq card alike, round after round; when the broker closes it (as an
// operator's rabbitmqctl close_all_connections does), the next check opens another.
func TestAMQPConnectionIsReusedAndRebuilt(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	vhost := r.NewVhost(t)
	m, clock := newTestMonitor(t, Config{BrokerURL: r.URL(vhost), RabbitMQManagementURL: r.ManagementURL()})
	conn := m.broker.(*amqpBroker).conn
	if m.rabbitmq.conn != conn {
		t.Fatal("the rabbitmq card and the celery check have connections of their own")
	}
	session := func() *amqpSession {
		conn.mu.Lock()
		defer conn.mu.Unlock()
		return conn.session
	}
	check(t, m, clock)
	first := session()
	for range 3 {
		if rep := check(t, m, clock); rep.RabbitMQ.Status != StatusHealthy {
			t.Fatalf("got %q %q, want healthy", rep.RabbitMQ.Status, rep.RabbitMQ.Error)
		}
	}
	if first == nil || session() != first {
		t.Errorf("after four checks: got connection %p, want the first, %p, still", session(), first)
	}

	closed := first.conn.NotifyClose(make(chan *amqp.Error, 1))
	if _, err := r.Ctl(context.Background(), "close_all_connections", "-p", vhost, "syncwatch test"); err != nil {
		t.Fatal(err)
	}
	// The library learns of the close from the broker; until then the old one looks open.
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("the broker closed the connection, and amqp091 has not noticed after 10s")
	}
	rep := check(t, m, clock)
	if rep.RabbitMQ.Status != StatusHealthy || session() == nil || session() == first {
		t.Errorf("after the broker closed the connection: got %q %q on connection %p, want healthy on a new one (not %p)",
			rep.RabbitMQ.Status, rep.RabbitMQ.Error, session(), first)
	}
}

// TestAMQPHungManagementAPIKeepsTheConnection: a management API that never answers
// costs the card a warning, and nothing else: neither check closes the healthy AMQP
// connection when its deadline strikes while it waits on HTTP, so the next round
// reuses it.
func TestAMQPHungManagementAPIKeepsTheConnection(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	vhost := r.NewVhost(t)
	// celery.pidbox with no mailbox bound: the broadcast comes back at once, and the
	// celery check waits on nothing but the management API's count.
	r.Management(t, http.MethodPut, "/api/exchanges/"+url.PathEscape(vhost)+"/"+broadcastExchange,
		[]byte(`{"type": "fanout", "durable": false, "auto_delete": false}`))
	release := make(chan struct{})
	hung := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		select {
		case <-release:
		case <-req.Context().Done():
		}
	}))
	t.Cleanup(func() { close(release); hung.Close() })
	const timeout = time.Second
	m, clock := newTestMonitor(t, Config{BrokerURL: r.URL(vhost), RabbitMQManagementURL: "http://" + hung.Listener.Addr().String() + "/", Timeout: timeout})
	conn := m.broker.(*amqpBroker).conn
	session := func() *amqpSession {
		conn.mu.Lock()
		defer conn.mu.Unlock()
		return conn.session
	}

	rep := check(t, m, clock)
	first := session()
	if first == nil {
		t.Fatalf("no connection after the first check: celery %q %q, rabbitmq %q %q", rep.Celery.Status, rep.Celery.Error, rep.RabbitMQ.Status, rep.RabbitMQ.Error)
	}
	// The management API's timeout, named as one; no slow warning, since the broker
	// itself answered at once.
	if card := rep.RabbitMQ; card.Status != StatusDegraded || !slices.Equal(card.Warnings, []string{"management API: timed out after 1s"}) || card.Version == "" {
		t.Errorf("rabbitmq card: got %q %q %q version %q; want degraded, only [management API: timed out after 1s], a version",
			card.Status, card.Error, card.Warnings, card.Version)
	}
	if c := rep.Celery; c.Status != StatusUnhealthy || c.Error != "no worker answered the ping (0 listening on the broker)" {
		t.Errorf("celery: got %q %q, want unhealthy, no worker answered the ping (0 listening on the broker)", c.Status, c.Error)
	}
	check(t, m, clock)
	if got := session(); got != first || first.timedOut.Load() {
		t.Errorf("after a second check: connection %p (expired %v), want the first, %p, still open", got, first.timedOut.Load(), first)
	}
}

// TestAMQPExpiredSessionIsDroppedAtOnce: a connection a check's deadline closed is not
// handed to the next check, although amqp091 still calls it open for a moment.
func TestAMQPExpiredSessionIsDroppedAtOnce(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	ep, err := parseAMQPURL(r.URL(r.NewVhost(t)))
	if err != nil {
		t.Fatal(err)
	}
	c := newAMQPConn(ep, time.Second)
	defer c.close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	live, err := c.get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer live.abort()
	// A session whose network connection is a stand-in: closing it leaves amqp091's
	// connection open, so IsClosed stays false for as long as the test needs, as it does
	// for a moment after a real expire.
	raw, peer := net.Pipe()
	defer peer.Close()
	stale := &amqpSession{conn: live.conn, raw: raw}
	c.mu.Lock()
	c.session = stale
	c.mu.Unlock()
	stale.expire()
	got, err := c.get(ctx)
	if err != nil || got == stale || got == nil {
		t.Errorf("after an expiry: got %p, %v; want a new connection, not the expired %p", got, err, stale)
	}
}
