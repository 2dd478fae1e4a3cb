package health

// What a broadcast on RabbitMQ leaves behind: nothing of its own, whether it ends
// normally, its process is killed between publish and collect, or its connection lives
// on after a failure left the reply queue without a consumer.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/servicetest"
)

// The child process's orders, in its environment.
const (
	helperStageEnv   = "SYNCWATCH_HEALTH_AMQP_HELPER_STAGE"
	helperURLEnv     = "SYNCWATCH_HEALTH_AMQP_HELPER_URL"
	helperExpiresEnv = "SYNCWATCH_HEALTH_AMQP_HELPER_EXPIRES_MS"
)

// amqpHelper is the child process: it runs a broadcast, prints the reply queue's name
// when it reaches stage, and stays there until it is killed.
func amqpHelper(stage string) int {
	ep, err := parseAMQPURL(os.Getenv(helperURLEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	ms, _ := strconv.Atoi(os.Getenv(helperExpiresEnv))
	b := &amqpBroker{conn: newAMQPConn(ep, 5*time.Second), ep: ep, replyExpires: time.Duration(ms) * time.Millisecond,
		hook: func(at, queue string) {
			if at == stage {
				fmt.Println(queue)
				select {} // until killed
			}
		}}
	ctx := context.Background()
	s, err := b.conn.get(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	noCount := make(chan *int64, 1)
	noCount <- nil
	_, _, err = b.inspect(ctx, s, []string{"ping"}, nil, time.Now().Add(time.Minute), noCount)
	fmt.Fprintln(os.Stderr, "the broadcast ended without reaching", stage, err)
	return 2
}

// helperProcess is a child process started by startHelper.
type helperProcess struct {
	cmd *exec.Cmd
	// exited is closed once the process has exited and been waited for: Wait is the
	// only thing that tells, and it runs in a goroutine of its own from the start.
	exited chan struct{}
}

// kill ends the child and waits until it has exited.
func (h *helperProcess) kill() {
	_ = h.cmd.Process.Kill()
	<-h.exited
}

// startHelper runs the child process until stage, and returns it with the reply
// queue's name.
func startHelper(t *testing.T, brokerURL, stage string, expires time.Duration) (*helperProcess, string) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), helperStageEnv+"="+stage, helperURLEnv+"="+brokerURL,
		helperExpiresEnv+"="+strconv.FormatInt(expires.Milliseconds(), 10))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &helperProcess{cmd: cmd, exited: make(chan struct{})}
	// The line is read before Wait may run: Wait closes the pipe.
	line, readErr := bufio.NewReader(out).ReadString('\n')
	go func() {
		defer close(h.exited)
		_ = cmd.Wait()
	}()
	t.Cleanup(h.kill)
	if readErr != nil {
		t.Fatalf("the child process did not reach %s: %v", stage, readErr)
	}
	return h, strings.TrimSpace(line)
}

// topology is what a vhost holds: its queues (with their arguments), exchanges and
// bindings, each as one comparable line.
func topology(t *testing.T, r *servicetest.RabbitMQ, vhost string) []string {
	t.Helper()
	v := url.PathEscape(vhost)
	var out []string
	var queues []struct {
		Name       string         `json:"name"`
		Durable    bool           `json:"durable"`
		AutoDelete bool           `json:"auto_delete"`
		Exclusive  bool           `json:"exclusive"`
		Arguments  map[string]any `json:"arguments"`
	}
	mustJSON(t, r.Management(t, http.MethodGet, "/api/queues/"+v+"?columns=name,durable,auto_delete,exclusive,arguments", nil), &queues)
	for _, q := range queues {
		out = append(out, fmt.Sprintf("queue %s durable=%v auto_delete=%v exclusive=%v %v", q.Name, q.Durable, q.AutoDelete, q.Exclusive, q.Arguments))
	}
	var exchanges []struct {
		Name       string `json:"name"`
		Type       string `json:"type"`
		Durable    bool   `json:"durable"`
		AutoDelete bool   `json:"auto_delete"`
	}
	mustJSON(t, r.Management(t, http.MethodGet, "/api/exchanges/"+v+"?columns=name,type,durable,auto_delete", nil), &exchanges)
	for _, e := range exchanges {
		out = append(out, fmt.Sprintf("exchange %q %s durable=%v auto_delete=%v", e.Name, e.Type, e.Durable, e.AutoDelete))
	}
	var bindings []struct {
		Source      string `json:"source"`
		Destination string `json:"destination"`
		RoutingKey  string `json:"routing_key"`
	}
	mustJSON(t, r.Management(t, http.MethodGet, "/api/bindings/"+v+"?columns=source,destination,routing_key", nil), &bindings)
	for _, b := range bindings {
		out = append(out, fmt.Sprintf("binding %q → %s (%s)", b.Source, b.Destination, b.RoutingKey))
	}
	slices.Sort(out)
	return out
}

func mustJSON(t *testing.T, raw []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
}

// waitUntilGone waits until nothing in the vhost's topology mentions name, and fails
// the test if it is still there after within.
func waitUntilGone(t *testing.T, r *servicetest.RabbitMQ, vhost, name string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var left []string
		for _, line := range topology(t, r, vhost) {
			if strings.Contains(line, name) {
				left = append(left, line)
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("still there after %s: %q", within, left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAMQPReplyQueueGoesWithItsOwner: the reply queue is exclusive, auto-delete and has
// an x-expires. Killed between publish and collect, the process leaves neither queue nor
// binding: they go with its connection. Stuck between declaring the queue and consuming
// from it while its connection lives on (as after a failure on a connection reused for
// the next check), the queue goes after x-expires.
func TestAMQPReplyQueueGoesWithItsOwner(t *testing.T) {
	t.Parallel()
	r := rabbit(t)
	vhost := r.NewVhost(t)
	brokerURL := r.URL(vhost)
	// The broadcast exchange, as a worker declares it, so that the broadcast is published.
	r.Management(t, http.MethodPut, "/api/exchanges/"+url.PathEscape(vhost)+"/"+broadcastExchange,
		[]byte(`{"type": "fanout", "durable": false, "auto_delete": false}`))
	before := topology(t, r, vhost)

	t.Run("killed between publish and collect", func(t *testing.T) {
		child, queue := startHelper(t, brokerURL, "published", time.Hour)
		var found []string
		for _, line := range topology(t, r, vhost) {
			if strings.Contains(line, queue) {
				found = append(found, line)
			}
		}
		wantQueue := fmt.Sprintf("queue %s durable=false auto_delete=true exclusive=true map[x-expires:3.6e+06]", queue)
		if !slices.Contains(found, wantQueue) || len(found) != 3 { // the queue, its binding, and the default exchange's
			t.Fatalf("while the broadcast waits: got %q, want %q and its bindings", found, wantQueue)
		}
		child.kill()
		waitUntilGone(t, r, vhost, queue, 10*time.Second)
	})

	t.Run("a queue left without consumer on a live connection", func(t *testing.T) {
		const expires = 1500 * time.Millisecond
		child, queue := startHelper(t, brokerURL, "declared", expires)
		if !slices.ContainsFunc(topology(t, r, vhost), func(line string) bool { return strings.Contains(line, "queue "+queue) }) {
			t.Fatalf("the declared queue %s is not there", queue)
		}
		waitUntilGone(t, r, vhost, queue, expires+10*time.Second)
		// The connection was alive all along: x-expires removed the queue, not its end.
		select {
		case <-child.exited:
			t.Fatalf("the child exited: %v", child.cmd.ProcessState)
		default:
		}
		// rabbitmqctl, not the management API, which lists an idle connection only once
		// it has statistics.
		out, err := r.Ctl(context.Background(), "list_connections", "vhost", "state", "client_properties")
		if err != nil {
			t.Fatal(err)
		}
		var alive []string
		for _, line := range strings.Split(out, "\n") {
			if strings.HasPrefix(line, vhost+"\t") {
				alive = append(alive, line)
			}
		}
		if len(alive) != 1 || !strings.Contains(alive[0], "running") || !strings.Contains(alive[0], amqpConnectionName) {
			t.Errorf("connections on the vhost: got %q, want the child's, running, named %q", alive, amqpConnectionName)
		}
	})

	// Everything the broadcasts declared is gone, but the reply exchange, which Celery's
	// own clients declare the same way and leave.
	after := topology(t, r, vhost)
	added := slices.DeleteFunc(slices.Clone(after), func(line string) bool { return slices.Contains(before, line) })
	if want := []string{`exchange "reply.celery.pidbox" direct durable=false auto_delete=false`}; !slices.Equal(added, want) {
		t.Errorf("left on the vhost: got %q, want only %q", added, want)
	}
}
