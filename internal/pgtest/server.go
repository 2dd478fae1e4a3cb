package pgtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a private PostgreSQL server that a test starts, stops, freezes and restarts,
// to show what syncwatch does through an outage. It runs from Debian's initdb and pg_ctl
// in a temporary directory on a free port.
type Server struct {
	// URL connects to its postgres database.
	URL  string
	dir  string
	port int
	// as runs a command as the server's owner: initdb refuses to run as root.
	as []string
}

// StartServer creates and starts a private server, stopped and removed when the test ends.
func StartServer(t testing.TB) *Server {
	t.Helper()
	initdb := pgBinary(t, "initdb")
	dir, err := os.MkdirTemp("", "syncwatch-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{dir: dir}
	if os.Geteuid() == 0 {
		owner, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root needs the postgres user (from the postgresql package) to own the server: %v", err)
		}
		uid, _ := strconv.Atoi(owner.Uid)
		gid, _ := strconv.Atoi(owner.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	t.Cleanup(func() {
		s.command(t, "pg_ctl", "-D", s.data(), "-m", "immediate", "stop").Run()
		os.RemoveAll(dir)
	})
	out, err := s.command(t, initdb, "-D", s.data(), "-U", "postgres", "-A", "trust", "--no-sync").CombinedOutput()
	if err != nil {
		t.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}
	s.port = freePort(t)
	s.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
	s.Start(t)
	return s
}

func (s *Server) data() string { return filepath.Join(s.dir, "data") }

func (s *Server) command(t testing.TB, name string, args ...string) *exec.Cmd {
	if !filepath.IsAbs(name) {
		name = pgBinary(t, name)
	}
	argv := append(append(append([]string(nil), s.as...), name), args...)
	return exec.Command(argv[0], argv[1:]...)
}

// Start starts the server (again) and waits until it answers.
func (s *Server) Start(t testing.TB) {
	t.Helper()
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50", s.port, s.dir)
	out, err := s.command(t, "pg_ctl", "-D", s.data(), "-l", filepath.Join(s.dir, "log"), "-w", "-o", opts, "start").CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		t.Fatalf("pgtest: pg_ctl start: %v\n%s\n%s", err, out, log)
	}
}

// Stop shuts the server down, closing every connection.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if out, err := s.command(t, "pg_ctl", "-D", s.data(), "-m", "fast", "-w", "stop").CombinedOutput(); err != nil {
		t.Fatalf("pgtest: pg_ctl stop: %v\n%s", err, out)
	}
}

// Freeze stops every process of the server (SIGSTOP): connections stay open and
// connecting succeeds at the TCP level, but nothing answers, as with a hung host.
func (s *Server) Freeze(t testing.TB) { s.signal(t, syscall.SIGSTOP) }

// Thaw lets a frozen server go on (SIGCONT).
func (s *Server) Thaw(t testing.TB) { s.signal(t, syscall.SIGCONT) }

func (s *Server) signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	pidFile, err := os.ReadFile(filepath.Join(s.data(), "postmaster.pid"))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	postmaster, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	if err != nil {
		t.Fatalf("pgtest: postmaster.pid: %v", err)
	}
	pids := []int{postmaster}
	if out, err := exec.Command("pgrep", "-P", strconv.Itoa(postmaster)).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	for _, pid := range pids {
		_ = syscall.Kill(pid, sig)
	}
}

// Database creates a database with the warehouse's tables on this server and returns its
// URL and a writer connection to it (closed when the test ends).
func (s *Server) Database(t testing.TB, shape Shape) (string, *pgx.Conn) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, s.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE warehouse"); err != nil {
		t.Fatal(err)
	}
	url := strings.Replace(s.URL, "/postgres?", "/warehouse?", 1)
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, Schema(shape)); err != nil {
		t.Fatal(err)
	}
	return url, conn
}

// pgBinary finds a PostgreSQL server program: on PATH, else in Debian's versioned
// directory. Its absence fails the test: fault tests must run.
func pgBinary(t testing.TB, name string) string {
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	matches, _ := filepath.Glob("/usr/lib/postgresql/*/bin/" + name)
	if len(matches) == 0 {
		t.Fatalf("pgtest: %s not found: install Debian's postgresql package (scripts/test.sh does)", name)
	}
	sort.Strings(matches)
	return matches[len(matches)-1]
}

func freePort(t testing.TB) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}
