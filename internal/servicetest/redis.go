// Package servicetest starts, for tests, the real services syncwatch watches besides
// PostgreSQL (see pgtest): private redis-server processes and Celery workers from Debian's
// python3-celery, each in a process group of its own and killed with it. A missing binary
// fails the test: nothing here skips.
package servicetest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisDatabases is how many databases a server has, so that tests can share one server,
// each on a database of its own.
const RedisDatabases = 64

// RedisOptions configure a private redis-server.
type RedisOptions struct {
	Password   string
	UnixSocket bool
	Port       int // 0: a free port
	// TLS, when set, makes the port speak only TLS.
	TLS *TLSFiles
}

// TLSFiles are the PEM files of a TLS-only server, and a client configuration that
// trusts it.
type TLSFiles struct {
	Cert, Key, CA string
	Client        *tls.Config
}

// Redis is one private redis-server process. Stop and Start may be called in turns, to
// show an outage; the server keeps its port.
type Redis struct {
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

// FreePort returns a TCP port of 127.0.0.1 that nothing listened on a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// StartRedisServer starts a server whose files live in dir, and waits until it answers.
// It is for a TestMain, which has no *testing.T; the caller stops it. Tests use NewRedis.
func StartRedisServer(dir string, opts RedisOptions) (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found (apt-get install redis-server): %w", err)
	}
	port := opts.Port
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	s := &Redis{dir: dir, port: port, password: opts.Password}
	portArgs := []string{"--port", strconv.Itoa(port)}
	if opts.TLS != nil {
		portArgs = []string{"--port", "0", "--tls-port", strconv.Itoa(port), "--tls-cert-file", opts.TLS.Cert,
			"--tls-key-file", opts.TLS.Key, "--tls-ca-cert-file", opts.TLS.CA, "--tls-auth-clients", "no"}
		s.tlsClient = opts.TLS.Client
	}
	s.args = append(portArgs, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--databases", strconv.Itoa(RedisDatabases), "--dir", dir, "--logfile", filepath.Join(dir, "redis.log"))
	if opts.UnixSocket {
		s.socket = filepath.Join(dir, "redis.sock")
		s.args = append(s.args, "--unixsocket", s.socket, "--unixsocketperm", "700")
	}
	if opts.Password != "" {
		s.args = append(s.args, "--requirepass", opts.Password)
	}
	s.args = append([]string{bin}, s.args...)
	return s, s.Start()
}

// NewRedis starts a private server for one test and stops it at the test's end.
func NewRedis(t testing.TB, opts RedisOptions) *Redis {
	t.Helper()
	s, err := StartRedisServer(t.TempDir(), opts)
	if err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Start starts the server again after Stop, on the same port, and waits until it answers.
func (s *Redis) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := exec.Command(s.args[0], s.args[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start redis-server: %w", err)
	}
	s.cmd = cmd
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Password: s.password, TLSConfig: s.tlsClient, Protocol: 2, DisableIdentity: true, MaxRetries: -1})
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

// Stop kills the server and waits for it; the port is free again afterwards.
func (s *Redis) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	_ = s.cmd.Wait()
	s.cmd = nil
}

// Addr is the server's host:port.
func (s *Redis) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Socket is the server's Unix socket, "" without RedisOptions.UnixSocket.
func (s *Redis) Socket() string { return s.socket }

// URL is the server's redis:// URL for database db, with the password if any.
func (s *Redis) URL(db int) string {
	auth := ""
	if s.password != "" {
		auth = ":" + s.password + "@"
	}
	return "redis://" + auth + s.Addr() + "/" + strconv.Itoa(db)
}

// Client is a plain go-redis client for the test's own look at database db, closed at
// the test's end.
func (s *Redis) Client(t testing.TB, db int) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), Password: s.password, DB: db, Protocol: 2, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}
