package servicetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
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
)

// rabbitmqBin is where Debian's rabbitmq-server package keeps the scripts that run the
// node as the calling user; /usr/sbin's wrappers switch to the rabbitmq user and write
// to the system's log directory.
const rabbitmqBin = "/usr/lib/rabbitmq/bin"

// rabbitmqBootTimeout bounds a node's boot. RabbitMQ boots in a few seconds on an idle
// machine, but a first boot (creating its database) on a busy CI machine with two cores
// has been seen to take close to a minute.
const rabbitmqBootTimeout = 3 * time.Minute

// RabbitMQUser and RabbitMQPassword are the credentials of the node's default user,
// allowed to connect from 127.0.0.1 only.
const (
	RabbitMQUser     = "guest"
	RabbitMQPassword = "guest"
)

// RabbitMQ is one private RabbitMQ node: its own node name, database and log
// directories, Erlang cookie (through HOME), epmd on a port of its own, AMQP and
// distribution ports, and the management plugin on a port of its own. It never touches
// the machine's own RabbitMQ, its epmd or port 5672. StopApp and StartApp stop and start
// the broker inside the running node, to show an outage in seconds.
type RabbitMQ struct {
	dir      string
	node     string
	amqpPort int
	tlsPort  int // 0 without RabbitMQOptions.TLS
	mgmtPort int
	epmdPort int
	env      []string
	// http keeps no connection open between calls, so that no goroutine of its outlives
	// a call (tests check for leaked goroutines).
	http *http.Client

	mu     sync.Mutex
	epmd   *exec.Cmd
	server *exec.Cmd
	exited chan struct{}

	vhosts atomic.Int32
}

// RabbitMQOptions configure a private RabbitMQ node.
type RabbitMQOptions struct {
	// TLS, when set, adds an AMQPS listener (TLSAddr) with this certificate, beside the
	// plain one. Its files must outlive the node.
	TLS *TLSFiles
}

// StartRabbitMQServer starts a node whose files live in dir and waits until its broker
// and its management API answer. It is for a TestMain (or a sync.Once), which has no
// *testing.T; the caller stops it. A missing rabbitmq-server is an error, not a skip.
func StartRabbitMQServer(dir string, opts RabbitMQOptions) (*RabbitMQ, error) {
	if _, err := os.Stat(filepath.Join(rabbitmqBin, "rabbitmq-server")); err != nil {
		return nil, fmt.Errorf("rabbitmq-server not found (apt-get install rabbitmq-server): %w", err)
	}
	epmdBin, err := exec.LookPath("epmd")
	if err != nil {
		return nil, fmt.Errorf("epmd not found (apt-get install rabbitmq-server): %w", err)
	}
	var ports [5]int
	for i := range ports {
		if ports[i], err = FreePort(); err != nil {
			return nil, err
		}
	}
	r := &RabbitMQ{
		dir:      dir,
		node:     fmt.Sprintf("syncwatch-test-%d@localhost", os.Getpid()),
		amqpPort: ports[0],
		mgmtPort: ports[1],
		epmdPort: ports[2],
		tlsPort:  ports[4],
		http:     &http.Client{Transport: &http.Transport{DisableKeepAlives: true}},
	}
	distPort := ports[3]
	home := filepath.Join(dir, "home")
	for _, d := range []string{home, filepath.Join(dir, "mnesia"), filepath.Join(dir, "log"), filepath.Join(dir, "conf.d")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	conf := fmt.Sprintf(`listeners.tcp.1 = 127.0.0.1:%d
management.tcp.ip = 127.0.0.1
management.tcp.port = %d
collect_statistics_interval = 500
log.file.level = info
`, r.amqpPort, r.mgmtPort)
	if opts.TLS != nil {
		conf += fmt.Sprintf(`listeners.ssl.1 = 127.0.0.1:%d
ssl_options.cacertfile = %s
ssl_options.certfile = %s
ssl_options.keyfile = %s
ssl_options.verify = verify_none
ssl_options.fail_if_no_peer_cert = false
`, r.tlsPort, opts.TLS.CA, opts.TLS.Cert, opts.TLS.Key)
	} else {
		r.tlsPort = 0
	}
	files := map[string]string{
		"rabbitmq.conf":   conf,
		"enabled_plugins": "[rabbitmq_management].\n",
		"env.conf":        "", // instead of /etc/rabbitmq/rabbitmq-env.conf
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			return nil, err
		}
	}
	r.env = []string{
		"PATH=/usr/bin:/bin:/usr/sbin:/sbin",
		"HOME=" + home, // the Erlang cookie lives there
		"LANG=C.UTF-8",
		"RABBITMQ_NODENAME=" + r.node,
		"RABBITMQ_NODE_IP_ADDRESS=127.0.0.1",
		"RABBITMQ_NODE_PORT=" + strconv.Itoa(r.amqpPort),
		"RABBITMQ_DIST_PORT=" + strconv.Itoa(distPort),
		"ERL_EPMD_PORT=" + strconv.Itoa(r.epmdPort),
		"ERL_EPMD_ADDRESS=127.0.0.1",
		"RABBITMQ_MNESIA_BASE=" + filepath.Join(dir, "mnesia"),
		"RABBITMQ_LOG_BASE=" + filepath.Join(dir, "log"),
		"RABBITMQ_LOGS=" + filepath.Join(dir, "log", "rabbit.log"),
		"RABBITMQ_CONFIG_FILE=" + filepath.Join(dir, "rabbitmq.conf"),
		"RABBITMQ_CONFIG_FILES=" + filepath.Join(dir, "conf.d"),
		"RABBITMQ_ADVANCED_CONFIG_FILE=" + filepath.Join(dir, "advanced.config"),
		"RABBITMQ_ENABLED_PLUGINS_FILE=" + filepath.Join(dir, "enabled_plugins"),
		"RABBITMQ_CONF_ENV_FILE=" + filepath.Join(dir, "env.conf"),
		"RABBITMQ_PID_FILE=" + filepath.Join(dir, "rabbit.pid"),
	}

	// The node's own epmd, in the foreground and in a process group of its own, so that
	// Stop ends it (an epmd the node started itself would daemonize and outlive it).
	epmd := exec.Command(epmdBin, "-port", strconv.Itoa(r.epmdPort), "-address", "127.0.0.1")
	epmd.Env = r.env
	epmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := epmd.Start(); err != nil {
		return nil, fmt.Errorf("start epmd: %w", err)
	}
	r.epmd = epmd
	if err := waitFor(10*time.Second, func() error {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(r.epmdPort)), time.Second)
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		r.Stop()
		return nil, fmt.Errorf("epmd did not listen: %w", err)
	}

	logFile, err := os.Create(filepath.Join(dir, "server.out"))
	if err != nil {
		r.Stop()
		return nil, err
	}
	defer logFile.Close()
	server := exec.Command(filepath.Join(rabbitmqBin, "rabbitmq-server"))
	server.Dir = dir
	server.Env = r.env
	server.Stdout, server.Stderr = logFile, logFile
	server.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := server.Start(); err != nil {
		r.Stop()
		return nil, fmt.Errorf("start rabbitmq-server: %w", err)
	}
	r.server = server
	r.exited = make(chan struct{})
	go func() { _ = server.Wait(); close(r.exited) }()

	if err := r.waitReady(rabbitmqBootTimeout); err != nil {
		r.Stop()
		return nil, err
	}
	return r, nil
}

// waitReady waits until the management API answers for the broker: the broker is then
// started and its AMQP port open.
func (r *RabbitMQ) waitReady(timeout time.Duration) error {
	return waitFor(timeout, func() error {
		select {
		case <-r.exited:
			return errStop{fmt.Errorf("rabbitmq-server exited:\n%s", r.logTail())}
		default:
		}
		status, body, err := r.managementDo(context.Background(), http.MethodGet, "/api/aliveness-test/%2F", nil)
		if err != nil {
			return err
		}
		if status != http.StatusOK || !bytes.Contains(body, []byte(`"ok"`)) {
			return fmt.Errorf("aliveness test: %d %s", status, body)
		}
		c, err := net.DialTimeout("tcp", r.AMQPAddr(), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	})
}

// errStop ends waitFor at once.
type errStop struct{ error }

func waitFor(timeout time.Duration, ready func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := ready()
		if err == nil {
			return nil
		}
		var stop errStop
		if errors.As(err, &stop) {
			return stop.error
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready within %s: %w", timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *RabbitMQ) logTail() string {
	var out []byte
	for _, name := range []string{"server.out", filepath.Join("log", "rabbit.log")} {
		b, _ := os.ReadFile(filepath.Join(r.dir, name))
		if len(b) > 4000 {
			b = b[len(b)-4000:]
		}
		out = append(out, b...)
	}
	return string(out)
}

// Stop kills the node and its epmd and waits for them.
func (r *RabbitMQ) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server != nil {
		_ = syscall.Kill(-r.server.Process.Pid, syscall.SIGKILL)
		<-r.exited
		r.server = nil
	}
	if r.epmd != nil {
		_ = syscall.Kill(-r.epmd.Process.Pid, syscall.SIGKILL)
		_ = r.epmd.Wait()
		r.epmd = nil
	}
}

// Freeze stops the node's processes (SIGSTOP) without closing anything: its connections
// stay open and answer nothing, as a hung broker's do, until Thaw. It returns once
// every process of the node is stopped: the signal is delivered asynchronously, and a
// node still running for a moment would answer the next request. If that takes over
// 10 s, it lets the node run again and fails the test, which would otherwise go on
// against a node that still answers.
func (r *RabbitMQ) Freeze(t testing.TB) {
	t.Helper()
	r.signal(syscall.SIGSTOP)
	r.mu.Lock()
	group := 0
	if r.server != nil {
		group = r.server.Process.Pid
	}
	r.mu.Unlock()
	if group == 0 {
		t.Fatal("freeze: the node is not running")
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if groupStopped(group) {
			return
		}
	}
	r.Thaw()
	t.Fatal("freeze: the node's processes were not all stopped within 10s")
}

// groupStopped reports whether no process of the process group runs any more, as
// /proc/<pid>/stat says: its state (the field after the command's closing
// parenthesis; its fifth field is the group) is stopped (T, t), a zombie (Z) or dead
// (X). A process that exited while the group was stopping is no longer running either.
func groupStopped(group int) bool {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return false
	}
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue // exited meanwhile
		}
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 3 || fields[2] != strconv.Itoa(group) {
			continue
		}
		switch fields[0] {
		case "T", "t", "Z", "X":
		default:
			return false
		}
	}
	return true
}

// Thaw lets a frozen node run again.
func (r *RabbitMQ) Thaw() { r.signal(syscall.SIGCONT) }

func (r *RabbitMQ) signal(sig syscall.Signal) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.server != nil {
		_ = syscall.Kill(-r.server.Process.Pid, sig)
	}
}

// StopApp stops the broker inside the node, as `rabbitmqctl stop_app` does: every
// connection is closed and the AMQP port refuses new ones, until StartApp.
func (r *RabbitMQ) StopApp(ctx context.Context) error { return r.ctl(ctx, "stop_app") }

// StartApp starts the broker again after StopApp and waits until it answers.
func (r *RabbitMQ) StartApp(ctx context.Context) error {
	if err := r.ctl(ctx, "start_app"); err != nil {
		return err
	}
	return r.waitReady(time.Minute)
}

// Ctl runs rabbitmqctl against the node and returns its output.
func (r *RabbitMQ) Ctl(ctx context.Context, args ...string) (string, error) {
	port, err := FreePort()
	if err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(rabbitmqBin, "rabbitmqctl"), append([]string{"-n", r.node}, args...)...)
	cmd.Env = append(r.env[:len(r.env):len(r.env)],
		"RABBITMQ_CTL_DIST_PORT_MIN="+strconv.Itoa(port), "RABBITMQ_CTL_DIST_PORT_MAX="+strconv.Itoa(port))
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("rabbitmqctl %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (r *RabbitMQ) ctl(ctx context.Context, args ...string) error {
	_, err := r.Ctl(ctx, args...)
	return err
}

// AMQPAddr is the broker's host:port.
func (r *RabbitMQ) AMQPAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.amqpPort)) }

// TLSAddr is the AMQPS listener's host:port; "" without RabbitMQOptions.TLS.
func (r *RabbitMQ) TLSAddr() string {
	if r.tlsPort == 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(r.tlsPort))
}

// URL is the broker's amqp:// URL for a virtual host, with the default user's
// credentials, as Celery's CELERY_BROKER_URL writes it.
func (r *RabbitMQ) URL(vhost string) string {
	return "amqp://" + RabbitMQUser + ":" + RabbitMQPassword + "@" + r.AMQPAddr() + "/" + url.PathEscape(vhost)
}

// ManagementURL is the management API's URL with the default user's credentials.
func (r *RabbitMQ) ManagementURL() string { return r.ManagementURLFor(RabbitMQUser, RabbitMQPassword) }

// ManagementURLFor is the management API's URL with the given credentials.
func (r *RabbitMQ) ManagementURLFor(user, password string) string {
	return "http://" + url.UserPassword(user, password).String() + "@" + net.JoinHostPort("127.0.0.1", strconv.Itoa(r.mgmtPort)) + "/"
}

// NewUser creates a user with a password, tags (for example "monitoring") and every
// permission on vhost, and deletes it when the test ends.
func (r *RabbitMQ) NewUser(t testing.TB, name, password, tags, vhost string) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"password": password, "tags": tags})
	path := "/api/users/" + url.PathEscape(name)
	r.Management(t, http.MethodPut, path, body)
	if vhost != "" {
		r.Management(t, http.MethodPut, "/api/permissions/"+url.PathEscape(vhost)+"/"+url.PathEscape(name),
			[]byte(`{"configure": ".*", "write": ".*", "read": ".*"}`))
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, _ = r.managementDo(ctx, http.MethodDelete, path, nil)
	})
}

// NewVhost creates a virtual host nobody else uses, gives the default user every
// permission on it, and deletes it when the test ends: tests share the node, each on a
// vhost of its own.
func (r *RabbitMQ) NewVhost(t testing.TB) string {
	t.Helper()
	name := fmt.Sprintf("test-%d", r.vhosts.Add(1))
	path := "/api/vhosts/" + url.PathEscape(name)
	r.Management(t, http.MethodPut, path, nil)
	r.Management(t, http.MethodPut, "/api/permissions/"+url.PathEscape(name)+"/"+RabbitMQUser,
		[]byte(`{"configure": ".*", "write": ".*", "read": ".*"}`))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, _, _ = r.managementDo(ctx, http.MethodDelete, path, nil)
	})
	return name
}

// Management calls the management API as the default user, fails the test unless the
// answer is a success (2xx), and returns the answer's body.
func (r *RabbitMQ) Management(t testing.TB, method, path string, body []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	status, out, err := r.managementDo(ctx, method, path, body)
	if err != nil {
		t.Fatalf("management %s %s: %v", method, path, err)
	}
	if status/100 != 2 {
		t.Fatalf("management %s %s: got %d %s, want a success", method, path, status, out)
	}
	return out
}

func (r *RabbitMQ) managementDo(ctx context.Context, method, path string, body []byte) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, "http://"+net.JoinHostPort("127.0.0.1", strconv.Itoa(r.mgmtPort))+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.SetBasicAuth(RabbitMQUser, RabbitMQPassword)
	req.Header.Set("Content-Type", "application/json")
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}
