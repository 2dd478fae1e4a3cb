package servicetest

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// AlertmanagerBinary is Debian's Alertmanager (prometheus-alertmanager).
const AlertmanagerBinary = "prometheus-alertmanager"

// Alertmanager is a private Alertmanager process for one test: clustering off, its own
// storage, and a configuration that forwards every alert to one webhook at once (group
// wait 0, group interval 1 s) and its resolution too.
type Alertmanager struct {
	// URL is its address, e.g. http://127.0.0.1:PORT.
	URL string
	dir string
	cmd *exec.Cmd
}

// NewAlertmanager starts Alertmanager forwarding to webhookURL, waits until it is ready,
// and stops it at the test's end. A missing binary fails the test.
func NewAlertmanager(t testing.TB, webhookURL string) *Alertmanager {
	t.Helper()
	bin, err := exec.LookPath(AlertmanagerBinary)
	if err != nil {
		t.Fatalf("%s not found (apt-get install prometheus-alertmanager): %v", AlertmanagerBinary, err)
	}
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	config := fmt.Sprintf(`route:
  receiver: test
  group_by: ['alertname']
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: test
    webhook_configs:
      - url: %q
        send_resolved: true
`, webhookURL)
	cfgPath := filepath.Join(dir, "alertmanager.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	am := &Alertmanager{URL: "http://127.0.0.1:" + strconv.Itoa(port), dir: dir}
	log, err := os.Create(filepath.Join(dir, "alertmanager.log"))
	if err != nil {
		t.Fatal(err)
	}
	am.cmd = exec.Command(bin, "--config.file="+cfgPath, "--storage.path="+filepath.Join(dir, "data"),
		"--web.listen-address=127.0.0.1:"+strconv.Itoa(port), "--cluster.listen-address=", "--log.level=debug")
	am.cmd.Stdout, am.cmd.Stderr = log, log
	am.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := am.cmd.Start(); err != nil {
		t.Fatalf("start alertmanager: %v", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = syscall.Kill(-am.cmd.Process.Pid, syscall.SIGKILL)
			_ = am.cmd.Wait()
			log.Close()
		})
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, am.URL+"/-/ready", nil)
		resp, err := http.DefaultClient.Do(req)
		cancel()
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return am
			}
		}
		if time.Now().After(deadline) {
			stop()
			out, _ := os.ReadFile(filepath.Join(dir, "alertmanager.log"))
			t.Fatalf("alertmanager was not ready within 30 s:\n%s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Log is what Alertmanager has logged so far.
func (a *Alertmanager) Log() string {
	b, _ := os.ReadFile(filepath.Join(a.dir, "alertmanager.log"))
	return string(b)
}
