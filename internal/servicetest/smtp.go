package servicetest

import (
	"bufio"
	"encoding/json"
	"fmt"
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

// SMTPOptions configure a private SMTP server.
type SMTPOptions struct {
	// StartTLS offers STARTTLS (and requires it); SMTPS speaks TLS from the start. Both
	// use TLS's certificate.
	StartTLS, SMTPS bool
	TLS             *TLSFiles
	// User and Password, when set, are required to log in (AUTH PLAIN or LOGIN).
	User, Password string
}

// SMTP is a private SMTP server (Debian's python3-aiosmtpd) that stores every message
// it receives, for one test.
type SMTP struct {
	Port   int
	dir    string
	stored chan string
	cmd    *exec.Cmd
	done   chan struct{}
}

// Mail is one message the server received.
type Mail struct {
	// Raw is the message as received: headers and body.
	Raw string
	// From and To are the envelope's sender and recipients.
	From string   `json:"mail_from"`
	To   []string `json:"rcpt_tos"`
	// TLS says whether the connection was encrypted; Login who logged in.
	TLS   bool   `json:"tls"`
	Login string `json:"login"`
}

func smtpScript(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("servicetest: cannot locate its own source")
	}
	return filepath.Join(filepath.Dir(file), "smtpd", "smtpd.py")
}

// NewSMTP starts a server for one test and stops it at the test's end. A missing
// python3-aiosmtpd fails the test.
func NewSMTP(t testing.TB, opts SMTPOptions) *SMTP {
	t.Helper()
	if err := exec.Command(CeleryPython, "-c", "import aiosmtpd").Run(); err != nil {
		t.Fatalf("%s cannot import aiosmtpd (apt-get install python3-aiosmtpd): %v", CeleryPython, err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	s := &SMTP{Port: port, dir: t.TempDir(), stored: make(chan string, 100), done: make(chan struct{})}
	args := []string{smtpScript(t), "--port", strconv.Itoa(port), "--dir", s.dir}
	switch {
	case opts.StartTLS:
		args = append(args, "--starttls", opts.TLS.Cert, opts.TLS.Key)
	case opts.SMTPS:
		args = append(args, "--smtps", opts.TLS.Cert, opts.TLS.Key)
	}
	if opts.User != "" {
		args = append(args, "--user", opts.User, "--password", opts.Password)
	}
	s.cmd = exec.Command(CeleryPython, args...)
	s.cmd.Env = []string{"PATH=/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE=1", "LANG=C.UTF-8"}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	logFile, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	s.cmd.Stderr = logFile
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start the SMTP server: %v", err)
	}
	ready := make(chan struct{})
	go func() {
		defer close(s.done)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "ready":
				close(ready)
			case strings.HasPrefix(line, "stored "):
				s.stored <- strings.TrimPrefix(line, "stored ")
			}
		}
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			_ = s.cmd.Wait()
			<-s.done
			logFile.Close()
		})
	}
	t.Cleanup(stop)
	select {
	case <-ready:
	case <-s.done:
		stop()
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		t.Fatalf("the SMTP server ended before it listened:\n%s", log)
	case <-time.After(30 * time.Second):
		t.Fatal("the SMTP server did not listen within 30 s")
	}
	return s
}

// Addr is the server's host:port.
func (s *SMTP) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.Port) }

// Next waits for the next message stored, at most 30 s.
func (s *SMTP) Next(t testing.TB) Mail {
	t.Helper()
	select {
	case name := <-s.stored:
		return s.read(t, name)
	case <-time.After(30 * time.Second):
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		t.Fatalf("no message arrived at the SMTP server within 30 s; its log:\n%s", log)
		return Mail{}
	}
}

// Received counts the messages stored so far and not yet read with Next.
func (s *SMTP) Received() int { return len(s.stored) }

// Fail makes the server refuse messages with a temporary error until Recover.
func (s *SMTP) Fail(t testing.TB) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(s.dir, "fail"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

// Recover makes the server accept messages again.
func (s *SMTP) Recover(t testing.TB) {
	t.Helper()
	if err := os.Remove(filepath.Join(s.dir, "fail")); err != nil {
		t.Fatal(err)
	}
}

func (s *SMTP) read(t testing.TB, name string) Mail {
	t.Helper()
	var m Mail
	meta, err := os.ReadFile(filepath.Join(s.dir, name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(meta, &m); err != nil {
		t.Fatalf("message %s: %v", name, err)
	}
	raw, err := os.ReadFile(filepath.Join(s.dir, name+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	m.Raw = string(raw)
	return m
}

// String describes the server for test logs.
func (s *SMTP) String() string { return fmt.Sprintf("smtp %s", s.Addr()) }
