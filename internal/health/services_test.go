package health

// The health tests' use of the real services internal/servicetest starts: one shared
// redis-server, and workers that must answer this package's own ping.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/servicetest"
)

// shared is the package's one Redis server for the scenarios that can share it, each on
// a database of its own (see nextDB). Set once by TestMain, read-only afterwards.
var shared *servicetest.Redis

var dbCounter atomic.Int32

// nextDB hands each test a database of the shared server nobody else uses.
func nextDB(t *testing.T) int {
	t.Helper()
	n := int(dbCounter.Add(1))
	if n >= servicetest.RedisDatabases {
		t.Fatalf("out of databases: got %d, want fewer than %d", n, servicetest.RedisDatabases)
	}
	return n
}

func TestMain(m *testing.M) {
	if stage := os.Getenv(helperStageEnv); stage != "" {
		os.Exit(amqpHelper(stage)) // a child process of TestAMQPReplyQueueGoesWithItsOwner
	}
	dir, err := os.MkdirTemp("", "health-redis-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	shared, err = servicetest.StartRedisServer(dir, servicetest.RedisOptions{UnixSocket: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the health tests need a real redis-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	shared.Stop()
	_ = os.RemoveAll(dir)
	if rabbitNode != nil {
		rabbitNode.Stop()
		_ = os.RemoveAll(rabbitDir)
	}
	os.Exit(code)
}

// The package's one RabbitMQ node, started by the first test that needs it (it takes
// seconds to boot, so a run of only the Redis tests does not wait for it) and stopped
// by TestMain. Tests share it, each on a vhost of its own; the one test that stops its
// broker is not parallel, so it runs alone.
var (
	rabbitOnce sync.Once
	rabbitNode *servicetest.RabbitMQ
	rabbitDir  string
	rabbitTLS  *servicetest.TLSFiles // the node's AMQPS certificate
	rabbitErr  error
)

// rabbit returns the shared node, starting it if no test has yet.
func rabbit(t *testing.T) *servicetest.RabbitMQ {
	t.Helper()
	rabbitOnce.Do(func() {
		if rabbitDir, rabbitErr = os.MkdirTemp("", "health-rabbitmq-"); rabbitErr != nil {
			return
		}
		if rabbitTLS, rabbitErr = servicetest.WriteTLSFiles(rabbitDir); rabbitErr != nil {
			return
		}
		rabbitNode, rabbitErr = servicetest.StartRabbitMQServer(rabbitDir, servicetest.RabbitMQOptions{TLS: rabbitTLS})
	})
	if rabbitErr != nil {
		t.Fatalf("the health tests need a real rabbitmq-server: %v", rabbitErr)
	}
	return rabbitNode
}

// amqpReady is the health tests' worker readiness on RabbitMQ: the worker answers a
// ping through this package's own AMQP remote control, by name.
func amqpReady(ctx context.Context, o servicetest.WorkerOptions, _ *servicetest.Worker) (bool, error) {
	ep, err := parseAMQPURL(o.Broker)
	if err != nil {
		return false, err
	}
	b := &amqpBroker{conn: newAMQPConn(ep, time.Second), ep: ep}
	defer b.close()
	s, err := b.conn.get(ctx)
	if err != nil {
		return false, err
	}
	noCount := make(chan *int64, 1)
	noCount <- nil
	res, _, err := b.inspect(ctx, s, []string{"ping"}, []string{o.Name}, time.Now().Add(500*time.Millisecond), noCount)
	if err != nil {
		return false, err
	}
	_, ok := res.replies["ping"][o.Name]
	return ok, nil
}

// startAMQPWorkers starts Celery workers of the test app on RabbitMQ and waits until
// each answers this package's ping.
func startAMQPWorkers(t *testing.T, opts ...servicetest.WorkerOptions) []*servicetest.Worker {
	t.Helper()
	return servicetest.StartWorkers(t, amqpReady, opts...)
}

// protocolReady is the health tests' worker readiness: the worker answers a ping through
// this package's own remote control, by name.
func protocolReady(ctx context.Context, o servicetest.WorkerOptions, _ *servicetest.Worker) (bool, error) {
	ep, err := parseRedisURL(o.Broker)
	if err != nil {
		return false, err
	}
	client := redis.NewClient(redisOptions(ep, time.Second))
	defer client.Close()
	names := kombuNames{prefix: keyPrefixOf(o.TransportOptions), db: ep.DB}
	res, err := inspect(ctx, client, names, []string{"ping"}, []string{o.Name}, time.Now().Add(300*time.Millisecond))
	if err != nil {
		return false, err
	}
	_, ok := res.replies["ping"][o.Name]
	return ok, nil
}

// keyPrefixOf reads global_keyprefix from a worker's transport options.
func keyPrefixOf(transportOptions string) string {
	var opts struct {
		Prefix string `json:"global_keyprefix"`
	}
	_ = json.Unmarshal([]byte(transportOptions), &opts)
	return opts.Prefix
}

// startWorkers starts Celery workers of the test app and waits until each answers this
// package's ping.
func startWorkers(t *testing.T, opts ...servicetest.WorkerOptions) []*servicetest.Worker {
	t.Helper()
	return servicetest.StartWorkers(t, protocolReady, opts...)
}

// listLengthsUnder sums, with the test's own SCAN and LLEN, the lengths of every list
// whose key starts with prefix+queue: the plain key and every priority level.
func listLengthsUnder(t *testing.T, c *redis.Client, prefix, queue string) int64 {
	t.Helper()
	ctx := context.Background()
	var total int64
	iter := c.Scan(ctx, 0, prefix+queue+"*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		if key != prefix+queue && !strings.HasPrefix(key, prefix+queue+sep) {
			continue
		}
		if typ, _ := c.Type(ctx, key).Result(); typ != "list" {
			continue
		}
		total += c.LLen(ctx, key).Val()
	}
	if err := iter.Err(); err != nil {
		t.Fatalf("scan: %v", err)
	}
	return total
}

// commandCalls reads INFO commandstats' call count of one command.
func commandCalls(t *testing.T, c *redis.Client, command string) int64 {
	t.Helper()
	info, err := c.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatalf("info commandstats: %v", err)
	}
	sc := bufio.NewScanner(strings.NewReader(info))
	for sc.Scan() {
		line := sc.Text()
		if rest, ok := strings.CutPrefix(line, "cmdstat_"+command+":calls="); ok {
			n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
			return n
		}
	}
	return 0
}

// newTestMonitor builds a monitor on a fake clock and closes it when the test ends.
func newTestMonitor(t *testing.T, cfg Config) (*Monitor, *clock.Fake) {
	t.Helper()
	fake := clock.NewFake(time.Now())
	if cfg.Clock == nil {
		cfg.Clock = fake
	}
	m, err := NewMonitor(cfg)
	if err != nil {
		t.Fatalf("NewMonitor: %v", err)
	}
	t.Cleanup(m.close)
	return m, fake
}

// check runs one new round of checks: it steps the clock past the coalescing window.
func check(t *testing.T, m *Monitor, clock *clock.Fake) Report {
	t.Helper()
	clock.Advance(minCheckGap)
	return m.CheckNow(context.Background())
}
