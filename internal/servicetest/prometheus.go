package servicetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// Promtool returns the path of Debian's promtool, or fails the test.
func Promtool(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatalf("promtool not found (apt-get install prometheus): %v", err)
	}
	return bin
}

// RunPromtool runs promtool with args, stdin as its input, and returns what it printed;
// err is set when it exits non-zero.
func RunPromtool(t testing.TB, stdin []byte, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Promtool(t), args...)
	cmd.Stdin = bytes.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Prometheus is a private Prometheus server, Debian's, with a storage of its own in a
// temporary folder; it is killed when the test ends.
type Prometheus struct {
	// URL is the server's address, http://127.0.0.1:port.
	URL  string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartPrometheus writes config as the server's prometheus.yml, starts the server on a
// free port and waits until it is ready.
func StartPrometheus(t testing.TB, config string) *Prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus not found (apt-get install prometheus): %v", err)
	}
	dir := t.TempDir()
	configPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	p := &Prometheus{URL: "http://127.0.0.1:" + strconv.Itoa(port), log: filepath.Join(dir, "prometheus.log"), done: make(chan struct{})}
	logFile, err := os.Create(p.log)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	p.cmd = exec.Command(bin,
		"--config.file="+configPath,
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--log.level=warn")
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start prometheus: %v", err)
	}
	go func() { _ = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(p.stop)

	// Prometheus sends no signal when it is ready; its /-/ready answers 200 then.
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-p.done:
			t.Fatalf("prometheus exited:\n%s", p.Log())
		default:
		}
		resp, err := http.Get(p.URL + "/-/ready")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("prometheus not ready within 60 s:\n%s", p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *Prometheus) stop() {
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// Log is what the server has logged so far.
func (p *Prometheus) Log() string {
	b, _ := os.ReadFile(p.log)
	return string(b)
}

// Sample is one series of an instant query's answer.
type Sample struct {
	Metric map[string]string
	Value  float64
}

// Query runs an instant PromQL query now through the HTTP API.
func (p *Prometheus) Query(ctx context.Context, promql string) ([]Sample, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+"/api/v1/query?query="+url.QueryEscape(promql), nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var answer struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string `json:"resultType"`
			Result     []struct {
				Metric map[string]string `json:"metric"`
				Value  [2]any            `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&answer); err != nil {
		return nil, fmt.Errorf("query %q: %w", promql, err)
	}
	if answer.Status != "success" {
		return nil, fmt.Errorf("query %q: %s", promql, answer.Error)
	}
	if answer.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %q: a %s, want a vector", promql, answer.Data.ResultType)
	}
	out := make([]Sample, 0, len(answer.Data.Result))
	for _, r := range answer.Data.Result {
		s, ok := r.Value[1].(string)
		if !ok {
			return nil, fmt.Errorf("query %q: value %v", promql, r.Value)
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, fmt.Errorf("query %q: %w", promql, err)
		}
		out = append(out, Sample{Metric: r.Metric, Value: v})
	}
	return out, nil
}

// WaitFor runs promql until done accepts its answer, and returns that answer. Prometheus
// sends no signal when it has scraped; the query is repeated every 100 ms for at most
// 30 s, then the test fails with the last answer.
func (p *Prometheus) WaitFor(t testing.TB, promql string, done func([]Sample) bool) []Sample {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var last []Sample
	var lastErr error
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		last, lastErr = p.Query(ctx, promql)
		cancel()
		if lastErr == nil && done(last) {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never as wanted; last answer %v %v\n--- prometheus log ---\n%s",
				promql, last, errors.Join(lastErr), p.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
