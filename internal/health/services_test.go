package health

// Real services for the tests: private redis-server processes and Celery workers from
// Debian's python3-celery, started by the tests and killed with their process groups.
// A missing binary fails the run: nothing here skips.

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// celeryPython is Debian's interpreter, the one that has python3-celery; the python3
// first on PATH may be another without it.
const celeryPython = "/usr/bin/python3"

// shared is the package's one Redis server for the scenarios that can share it, each on
// a database of its own (see nextDB). Set once by TestMain, read-only afterwards.
var shared *redisServer

var dbCounter atomic.Int32

// nextDB hands each test a database of the shared server nobody else uses.
func nextDB(t *testing.T) int {
	t.Helper()
	n := int(dbCounter.Add(1))
	if n >= sharedDatabases {
		t.Fatalf("out of databases: got %d, want fewer than %d", n, sharedDatabases)
	}
	return n
}

const sharedDatabases = 64

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "health-redis-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		os.Exit(1)
	}
	shared, err = startRedisServer(dir, redisServerOptions{unixSocket: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL: the health tests need a real redis-server:", err)
		os.Exit(1)
	}
	code := m.Run()
	shared.stop()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

type redisServerOptions struct {
	password   string
	unixSocket bool
	port       int // 0: a free port
	tls        *tlsFiles
}

// tlsFiles are the PEM files of a TLS-only server; its port then speaks only TLS.
type tlsFiles struct {
	cert, key, ca string
	client        *tls.Config // for the readiness ping
}

// redisServer is one private redis-server process.
type redisServer struct {
	dir      string
	port     int
	socket   string
	password string
	args     []string
	// tlsClient is set for a TLS-only server.
	tlsClient *tls.Config

	mu  sync.Mutex
	cmd *exec.Cmd
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startRedisServer(dir string, opts redisServerOptions) (*redisServer, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found (apt-get install redis-server): %w", err)
	}
	port := opts.port
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	s := &redisServer{dir: dir, port: port, password: opts.password}
	portArgs := []string{"--port", strconv.Itoa(port)}
	if opts.tls != nil {
		portArgs = []string{"--port", "0", "--tls-port", strconv.Itoa(port), "--tls-cert-file", opts.tls.cert,
			"--tls-key-file", opts.tls.key, "--tls-ca-cert-file", opts.tls.ca, "--tls-auth-clients", "no"}
		s.tlsClient = opts.tls.client
	}
	s.args = append(portArgs, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--databases", strconv.Itoa(sharedDatabases), "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if opts.unixSocket {
		s.socket = filepath.Join(dir, "redis.sock")
		s.args = append(s.args, "--unixsocket", s.socket, "--unixsocketperm", "700")
	}
	if opts.password != "" {
		s.args = append(s.args, "--requirepass", opts.password)
	}
	s.args = append([]string{bin}, s.args...)
	return s, s.start()
}

// newRedisServer starts a private server for one test and stops it at its end.
func newRedisServer(t *testing.T, opts redisServerOptions) *redisServer {
	t.Helper()
	s, err := startRedisServer(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(s.stop)
	return s
}

func (s *redisServer) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.addr(), Password: s.password, TLSConfig: s.tlsClient, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(s.dir, "redis.log"))
			return fmt.Errorf("redis-server did not answer: %v\n%s", err, log)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stop kills the server and waits for it; the port is free again afterwards.
func (s *redisServer) stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

func (s *redisServer) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// url is the server's redis:// URL for database db, with the password if any.
func (s *redisServer) url(db int) string {
	auth := ""
	if s.password != "" {
		auth = ":" + s.password + "@"
	}
	return "redis://" + auth + s.addr() + "/" + strconv.Itoa(db)
}

// client is a plain go-redis client for the test's own look at the server.
func (s *redisServer) client(t *testing.T, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.addr(), Password: s.password, DB: db, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// celeryApp is the test app's folder.
func celeryApp(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("testdata", "celeryapp"))
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func celeryEnv(t *testing.T, brokerURL, transportOptions string) []string {
	t.Helper()
	if _, err := os.Stat(celeryPython); err != nil {
		t.Fatalf("%s not found (apt-get install python3-celery python3-redis): %v", celeryPython, err)
	}
	env := []string{
		"BROKER_URL=" + brokerURL,
		"TRANSPORT_OPTIONS=" + transportOptions,
		"PYTHONPATH=" + celeryApp(t),
		"PYTHONDONTWRITEBYTECODE=1",
		"PATH=/usr/bin:/bin",
		"HOME=" + t.TempDir(),
		"LANG=C.UTF-8",
	}
	return env
}

type workerOptions struct {
	broker           string
	transportOptions string // JSON
	keyPrefix        string // the same prefix, for the readiness ping
	name             string // node name, name@host
	queues           string // default dw-production
}

// testWorker is one Celery worker process and its pool, in a process group of their own.
type testWorker struct {
	name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// startWorkers starts the workers at once, waits until each answers a ping through
// this package's own remote control, and kills them when the test ends.
func startWorkers(t *testing.T, opts ...workerOptions) []*testWorker {
	t.Helper()
	workers := make([]*testWorker, len(opts))
	for i, o := range opts {
		queues := o.queues
		if queues == "" {
			queues = "dw-production"
		}
		logPath := filepath.Join(t.TempDir(), "worker.log")
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(celeryPython, "-B", "-m", "celery", "-A", "tasks", "worker",
			"-P", "prefork", "-c", "1", "-Q", queues, "-n", o.name,
			"--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "info")
		cmd.Dir = celeryApp(t)
		cmd.Env = celeryEnv(t, o.broker, o.transportOptions)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start celery worker %s: %v", o.name, err)
		}
		logFile.Close()
		w := &testWorker{name: o.name, cmd: cmd, log: logPath, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(w.done) }()
		t.Cleanup(w.kill)
		workers[i] = w
	}
	var wg sync.WaitGroup
	errs := make([]error, len(opts))
	for i, o := range opts {
		wg.Go(func() { errs[i] = waitForWorker(t, o, workers[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			log, _ := os.ReadFile(workers[i].log)
			t.Fatalf("worker %s: %v\n--- worker log ---\n%s", opts[i].name, err, log)
		}
	}
	return workers
}

// waitForWorker pings the worker by name through this package's protocol until it
// answers, for at most 30 s.
func waitForWorker(t *testing.T, o workerOptions, w *testWorker) error {
	ep, err := parseRedisURL(o.broker)
	if err != nil {
		return err
	}
	client := redis.NewClient(redisOptions(ep, time.Second))
	defer client.Close()
	names := kombuNames{prefix: o.keyPrefix, db: ep.DB}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-w.done:
			return errors.New("worker exited")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		res, err := inspect(ctx, client, names, []string{"ping"}, []string{o.name}, time.Now().Add(300*time.Millisecond))
		cancel()
		if err == nil {
			if _, ok := res.replies["ping"][o.name]; ok {
				return nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("no answer to ping within 30s")
}

// kill ends the worker and its pool with SIGKILL and waits for the main process.
func (w *testWorker) kill() {
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
	}
}

// sendTasks sends sleep tasks through kombu; each spec is QUEUE:COUNT:PRIORITY:SECONDS.
func sendTasks(t *testing.T, brokerURL, transportOptions string, specs ...string) {
	t.Helper()
	cmd := exec.Command(celeryPython, append([]string{"-B", filepath.Join(celeryApp(t), "send.py")}, specs...)...)
	cmd.Dir = celeryApp(t)
	cmd.Env = celeryEnv(t, brokerURL, transportOptions)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("send tasks %v: %v\n%s", specs, err, out)
	}
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

// testClock is Config.Now for tests that step CheckNow's coalescing window themselves.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func newTestClock() *testClock { return &testClock{t: time.Now()} }

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newTestMonitor builds a monitor on a test clock and closes it when the test ends.
func newTestMonitor(t *testing.T, cfg Config) (*Monitor, *testClock) {
	t.Helper()
	clock := newTestClock()
	if cfg.Now == nil {
		cfg.Now = clock.Now
	}
	m, err := NewMonitor(cfg)
	if err != nil {
		t.Fatalf("NewMonitor: %v", err)
	}
	t.Cleanup(m.close)
	return m, clock
}

// check runs one new round of checks: it steps the clock past the coalescing window.
func check(t *testing.T, m *Monitor, clock *testClock) Report {
	t.Helper()
	clock.Advance(minCheckGap)
	return m.CheckNow(context.Background())
}
