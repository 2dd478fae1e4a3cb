package alerts_test

import (
	"context"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/alerts"
	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/servicetest"
)

// lease is long in real time (Redis expires leases by its own clock), while the polls
// run on each replica's fake clock: only the test decides when a replica looks.
const lease = 90 * time.Second

// replica is one syncwatch's engine with its own state file and fake clock, and a
// channel that stands for the shared receiver.
type replica struct {
	*harness
	ch     *fakeChannel
	file   *alerts.File
	polled chan struct{}
	// stepped receives a value after each look of its outbox at what it owes.
	stepped chan struct{}
}

func newReplica(t *testing.T, redisURL, dir string) *replica {
	t.Helper()
	fake := clock.NewFake(now)
	coord, err := alerts.NewCoordinator(alerts.CoordinatorConfig{RedisURL: redisURL, Key: "syncwatch:alerts:test", Lease: lease, Clock: fake,
		Logger: slog.New(slog.NewTextHandler(t.Output(), nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { coord.Close() })
	polled := make(chan struct{}, 10)
	coord.OnPoll(func() { polled <- struct{}{} })
	f, err := alerts.OpenFile(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	ch := newFake("webhook")
	stepped := make(chan struct{}, 100)
	h := start(t, alerts.Config{Channels: channels(ch), Store: f, Coordinator: coord, Clock: fake}, func(e *alerts.Engine) {
		e.OnStep(func(string) {
			select {
			case stepped <- struct{}{}:
			default:
			}
		})
	})
	r := &replica{harness: h, ch: ch, file: f, polled: polled, stepped: stepped}
	r.waitPoll(t) // the first look, when it starts
	return r
}

func (r *replica) waitPoll(t *testing.T) {
	t.Helper()
	select {
	case <-r.polled:
	case <-time.After(10 * time.Second):
		t.Fatal("the coordinator did not poll")
	}
}

// evaluate has the replica evaluate s, and waits until its outbox has looked at what it
// owes after it: what the outbox sends for s, it has sent (or begun to) on return.
func (r *replica) evaluate(t *testing.T, s dashboard.Snapshot) {
	t.Helper()
	// Call it only while the outbox is idle (it is woken by evaluations and changes of
	// sender): a look reported after this drain is then the evaluation's.
	for len(r.stepped) > 0 {
		<-r.stepped
	}
	r.e.Evaluate(s)
	select {
	case <-r.stepped:
	case <-time.After(10 * time.Second):
		t.Fatal("the outbox did not look at what it owes")
	}
}

// poll makes the replica's coordinator look at the lease once more, and waits until it
// has.
func (r *replica) poll(t *testing.T) {
	t.Helper()
	r.clock.Advance(lease / 3)
	r.waitPoll(t)
}

// sender waits until one of the replicas sends, and returns it and the other.
func sender(t *testing.T, a, b *replica) (*replica, *replica) {
	t.Helper()
	subA, subB := a.e.Subscribe(), b.e.Subscribe()
	defer subA.Close()
	defer subB.Close()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case v := <-subA.C():
			if v.Sender {
				return a, b
			}
		case v := <-subB.C():
			if v.Sender {
				return b, a
			}
		case <-timeout:
			t.Fatal("no replica became the sender")
		}
	}
}

func TestReplicasSendEachNotificationOnceAcrossAHandover(t *testing.T) {
	t.Parallel()
	redis := servicetest.NewRedis(t, servicetest.RedisOptions{})
	a := newReplica(t, redis.URL(0), t.TempDir())
	b := newReplica(t, redis.URL(0), t.TempDir())
	// A lease seen absent once is not taken (its sender may be about to renew it); the
	// second look takes it.
	a.poll(t)
	b.poll(t)
	lead, follow := sender(t, a, b)
	if follow.e.View().Sender {
		t.Fatal("both replicas send")
	}

	// Both see the same figures, each at its own moment; only the sender sends.
	lead.e.Evaluate(twoFailing(lead.clock.Now()))
	follow.clock.Advance(5 * time.Second)
	follow.evaluate(t, twoFailing(follow.clock.Now()))
	if got := describe(lead.ch.next(t)); got != "+sync_failing{crm=hubspot,sync_type=contacts}" {
		t.Fatalf("sender: %s", got)
	}
	settled(t, lead.e)
	follow.ch.none(t)
	// The other replica shows the sender's channel status, once the sender's coordinator
	// has written it to Redis (it writes between its polls, never within a delivery).
	state := redis.Client(t, 0)
	outside(t, "the sender's state in Redis has its channel's success", func() bool {
		v, err := state.Get(context.Background(), "syncwatch:alerts:test:state").Result()
		return err == nil && strings.Contains(v, `"last_success":"`)
	})
	follow.poll(t)
	waitView(t, follow.e, "the sender's channel status", func(v alerts.View) bool { return v.Channels[0].LastSuccess != nil })

	// The sender stops (a redeploy): it gives the lease up; the other takes it over at
	// its second look, with what was sent, and sends the firing alert no second time.
	lead.stop()
	follow.poll(t)
	follow.poll(t)
	waitView(t, follow.e, "the other replica sending", func(v alerts.View) bool { return v.Sender })
	follow.e.Evaluate(twoFailing(follow.clock.Now()))
	settled(t, follow.e)
	follow.ch.none(t)
	lead.ch.none(t)

	follow.e.Evaluate(recovered(follow.clock.Now()))
	if got := describe(follow.ch.next(t)); got != "-sync_failing{crm=hubspot,sync_type=contacts}" {
		t.Fatalf("new sender: %s", got)
	}
	settled(t, follow.e)
	follow.ch.none(t)
	lead.ch.none(t)
}

func TestASenderThatCannotReachRedisGoesOnSending(t *testing.T) {
	t.Parallel()
	redis := servicetest.NewRedis(t, servicetest.RedisOptions{})
	dir := t.TempDir()
	r := newReplica(t, redis.URL(0), dir)
	r.poll(t)
	waitView(t, r.e, "the replica sending", func(v alerts.View) bool { return v.Sender })

	// The broker goes down, which is when its alerts matter most.
	redis.Stop()
	r.poll(t)
	r.e.Evaluate(twoFailing(r.clock.Now()))
	r.ch.next(t)
	settled(t, r.e)
	r.stop()
	r.file.Close()

	// Restarted while Redis is still down: its state file says it was the sender.
	again := newReplica(t, redis.URL(0), dir)
	waitView(t, again.e, "the restarted replica sending", func(v alerts.View) bool { return v.Sender })
	again.e.Evaluate(recovered(again.clock.Now()))
	if got := describe(again.ch.next(t)); got != "-sync_failing{crm=hubspot,sync_type=contacts}" {
		t.Fatalf("after restart: %s", got)
	}

	// Redis is back, empty. A replica that starts now sees no lease, and waits for a
	// second look; the sender takes its lease again at its next poll, and saves the
	// shared state; the new replica's second look finds it, and it does not send.
	if err := redis.Start(); err != nil {
		t.Fatal(err)
	}
	late := newReplica(t, redis.URL(0), t.TempDir())
	again.poll(t)
	late.poll(t)
	if v := late.e.View(); v.Sender || !again.e.View().Sender {
		t.Fatalf("after Redis came back: the new replica sends %v, the sender %v", v.Sender, again.e.View().Sender)
	}
	owner := redis.Client(t, 0)
	state, _ := owner.Get(context.Background(), "syncwatch:alerts:test:state").Result()
	holder, _ := owner.Get(context.Background(), "syncwatch:alerts:test:sender").Result()
	if !strings.Contains(state, `"channels"`) || holder == "" {
		t.Fatalf("after Redis came back: lease %q, shared state %q", holder, state)
	}
}

// The coordination Redis is by default the Celery broker's, whose URL takes kombu's
// forms: a replica elects itself over each of them, in the database the URL names.
func TestTheCoordinatorReadsTheBrokerURLFormsOfKombu(t *testing.T) {
	t.Parallel()
	socket := servicetest.NewRedis(t, servicetest.RedisOptions{UnixSocket: true})
	files := servicetest.NewTLSFiles(t)
	secure := servicetest.NewRedis(t, servicetest.RedisOptions{TLS: files})
	for _, c := range []struct {
		name, url string
		db        int // the database of socket that must hold the lease; -1: secure's
	}{
		{"redis+socket", "redis+socket://" + socket.Socket() + "?virtual_host=3", 3},
		{"socket", "socket://" + socket.Socket() + "?virtual_host=4", 4},
		// Celery requires ssl_cert_reqs on rediss://; go-redis's own parser refuses it.
		{"rediss", "rediss://" + secure.Addr() + "/0?ssl_cert_reqs=required&ssl_ca_certs=" + files.CA, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newReplica(t, c.url, t.TempDir())
			r.poll(t) // a lease seen absent twice is taken
			waitView(t, r.e, "the replica sending", func(v alerts.View) bool { return v.Sender })
			if c.db < 0 {
				return
			}
			for _, db := range []int{0, 3, 4} {
				n, err := socket.Client(t, db).Exists(context.Background(), "syncwatch:alerts:test:sender").Result()
				if err != nil || (n == 1) != (db == c.db) {
					t.Errorf("database %d holds the lease: %d, %v", db, n, err)
				}
			}
		})
	}
}

// A sender stopped gracefully gives its lease up, and its state file no longer says it
// sends: restarted while Redis is down, it must not send beside its successor.
func TestAStoppedSenderGivesItsLeaseUpAndSaysSo(t *testing.T) {
	t.Parallel()
	redis := servicetest.NewRedis(t, servicetest.RedisOptions{})
	r := newReplica(t, redis.URL(0), t.TempDir())
	r.poll(t)
	waitView(t, r.e, "the replica sending", func(v alerts.View) bool { return v.Sender })
	if _, meta, err := r.file.Load(context.Background()); err != nil || !meta.Sender {
		t.Fatalf("while sending, the state file says sender %v (%v)", meta.Sender, err)
	}
	r.stop()
	if n, err := redis.Client(t, 0).Exists(context.Background(), "syncwatch:alerts:test:sender").Result(); err != nil || n != 0 {
		t.Errorf("after the stop the lease exists: %d, %v", n, err)
	}
	if _, meta, err := r.file.Load(context.Background()); err != nil || meta.Sender {
		t.Errorf("after the stop the state file says sender %v (%v), want false", meta.Sender, err)
	}
}

// Saving the shared state never waits for Redis: the engine saves after each evaluation
// and each delivery, and a hung Redis (the broker, overloaded) must hold no channel up.
// The coordinator writes the newest state from its own goroutine; here it does not run,
// and the Redis accepts connections and never answers.
func TestSavingNeverWaitsForRedis(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// Connections are accepted and held, read from nor answered, until the test ends.
	accepted := make(chan net.Conn, 16)
	go func() {
		defer close(accepted)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	defer func() {
		ln.Close()
		for c := range accepted {
			c.Close()
		}
	}()
	coord, err := alerts.NewCoordinator(alerts.CoordinatorConfig{RedisURL: "redis://" + ln.Addr().String() + "/0",
		Key: "syncwatch:alerts:test", Lease: lease})
	if err != nil {
		t.Fatal(err)
	}
	defer coord.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 3 {
			coord.Share(alerts.State{})
		}
	}()
	select {
	case <-done:
	case <-time.After(lease / 3 / 2): // a write would wait for its timeout, lease/3
		t.Fatal("saving the shared state waited for Redis")
	}
}

// outside waits until cond holds, for a condition outside this process that sends no
// signal (what a Redis holds); it gives up after 10 s.
func outside(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
