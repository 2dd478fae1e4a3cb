package servicetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// CeleryPython is Debian's interpreter, the one that has python3-celery; the python3
// first on PATH may be another without it.
const CeleryPython = "/usr/bin/python3"

// DefaultQueue is the queue the test app's workers consume and its tasks go to unless
// told otherwise, the warehouse's queue name.
const DefaultQueue = "dw-production"

// celeryApp is the folder of the test app (celeryapp/tasks.py and send.py), found beside
// this file so that any package's tests can start workers.
func celeryApp(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("servicetest: cannot locate its own source")
	}
	return filepath.Join(filepath.Dir(file), "celeryapp")
}

func celeryEnv(t testing.TB, brokerURL, transportOptions string) []string {
	t.Helper()
	if _, err := os.Stat(CeleryPython); err != nil {
		t.Fatalf("%s not found (apt-get install python3-celery python3-redis python3-amqp): %v", CeleryPython, err)
	}
	return []string{
		"BROKER_URL=" + brokerURL,
		"TRANSPORT_OPTIONS=" + transportOptions,
		"PYTHONPATH=" + celeryApp(t),
		"PYTHONDONTWRITEBYTECODE=1",
		"PATH=/usr/bin:/bin",
		"HOME=" + t.TempDir(),
		"LANG=C.UTF-8",
	}
}

// WorkerOptions configure one Celery worker of the test app.
type WorkerOptions struct {
	Broker           string
	TransportOptions string // JSON, e.g. {"global_keyprefix": "pfx:"}
	Name             string // node name, name@host
	Queues           string // comma-separated; default DefaultQueue
}

// Worker is one Celery worker process and its pool, in a process group of their own.
type Worker struct {
	Name string
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

// Log is what the worker has written so far.
func (w *Worker) Log() string {
	b, _ := os.ReadFile(w.log)
	return string(b)
}

// Exited is closed when the worker's main process has ended.
func (w *Worker) Exited() <-chan struct{} { return w.done }

// ReadyFunc tells whether a worker answers yet. StartWorkers calls it until it says yes,
// for at most 30 s.
type ReadyFunc func(ctx context.Context, o WorkerOptions, w *Worker) (bool, error)

// LoggedReady is the readiness a test uses when it has no remote control of its own:
// the worker has logged that it is ready, which Celery does once its consumers, the
// remote-control one included, are started.
func LoggedReady(_ context.Context, o WorkerOptions, w *Worker) (bool, error) {
	return strings.Contains(w.Log(), o.Name+" ready."), nil
}

// StartWorkers starts the workers at once, waits until ready says each answers, and kills
// them when the test ends.
func StartWorkers(t testing.TB, ready ReadyFunc, opts ...WorkerOptions) []*Worker {
	t.Helper()
	workers := make([]*Worker, len(opts))
	for i, o := range opts {
		queues := o.Queues
		if queues == "" {
			queues = DefaultQueue
		}
		logPath := filepath.Join(t.TempDir(), "worker.log")
		logFile, err := os.Create(logPath)
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(CeleryPython, "-B", "-m", "celery", "-A", "tasks", "worker",
			"-P", "prefork", "-c", "1", "-Q", queues, "-n", o.Name,
			"--without-heartbeat", "--without-mingle", "--without-gossip", "-l", "info")
		cmd.Dir = celeryApp(t)
		cmd.Env = celeryEnv(t, o.Broker, o.TransportOptions)
		cmd.Stdout, cmd.Stderr = logFile, logFile
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatalf("start celery worker %s: %v", o.Name, err)
		}
		logFile.Close()
		w := &Worker{Name: o.Name, cmd: cmd, log: logPath, done: make(chan struct{})}
		go func() { _ = cmd.Wait(); close(w.done) }()
		t.Cleanup(w.Kill)
		workers[i] = w
	}
	var wg sync.WaitGroup
	errs := make([]error, len(opts))
	for i, o := range opts {
		wg.Go(func() { errs[i] = waitForWorker(ready, o, workers[i]) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %s: %v\n--- worker log ---\n%s", opts[i].Name, err, workers[i].Log())
		}
	}
	return workers
}

func waitForWorker(ready ReadyFunc, o WorkerOptions, w *Worker) error {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-w.done:
			return errors.New("worker exited")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok, err := ready(ctx, o, w)
		cancel()
		if err == nil && ok {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("not ready within 30s")
}

// Kill ends the worker and its pool with SIGKILL and waits for the main process.
func (w *Worker) Kill() {
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-w.done:
	case <-time.After(10 * time.Second):
	}
}

// SendTasks sends the test app's sleep tasks through kombu, as an application would; each
// spec is QUEUE:COUNT:PRIORITY:SECONDS (PRIORITY -1 sends without a priority).
func SendTasks(t testing.TB, brokerURL, transportOptions string, specs ...string) {
	t.Helper()
	cmd := exec.Command(CeleryPython, append([]string{"-B", filepath.Join(celeryApp(t), "send.py")}, specs...)...)
	cmd.Dir = celeryApp(t)
	cmd.Env = celeryEnv(t, brokerURL, transportOptions)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("send tasks %v: %v\n%s", specs, err, out)
	}
}

// Inspect runs Celery's own `celery inspect METHOD --json` against the broker, as an
// operator would, and returns its answer: node name → result. It waits timeout for the
// replies, as the CLI does.
func Inspect(t testing.TB, brokerURL, transportOptions, method string, timeout time.Duration) map[string]json.RawMessage {
	t.Helper()
	// The CLI waits timeout for replies, and Python and kombu take a few seconds to start
	// on a busy machine: past that, it hangs, and must not hang the test with it.
	ctx, cancel := context.WithTimeout(context.Background(), timeout+30*time.Second)
	defer cancel()
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if deadline, ok := d.Deadline(); ok {
			ctx, cancel = context.WithDeadline(ctx, deadline)
			defer cancel()
		}
	}
	cmd := exec.CommandContext(ctx, CeleryPython, "-B", "-m", "celery", "-A", "tasks", "inspect", method,
		"--json", "--timeout", strconv.FormatFloat(timeout.Seconds(), 'f', -1, 64))
	cmd.WaitDelay = time.Second // a child holding its output open does not hold Output
	cmd.Dir = celeryApp(t)
	cmd.Env = celeryEnv(t, brokerURL, transportOptions)
	out, err := cmd.Output()
	// The CLI exits 69 when no node answers; its answer is then empty.
	var exit *exec.ExitError
	if ctx.Err() != nil {
		t.Fatalf("celery inspect %s did not finish in time: %v\n%s", method, ctx.Err(), out)
	}
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 69) {
		t.Fatalf("celery inspect %s: %v\n%s", method, err, out)
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	last := lines[len(lines)-1]
	answer := map[string]json.RawMessage{}
	if len(last) > 0 && last[0] == '{' {
		if err := json.Unmarshal(last, &answer); err != nil {
			t.Fatalf("celery inspect %s: %v\n%s", method, err, out)
		}
	}
	return answer
}
