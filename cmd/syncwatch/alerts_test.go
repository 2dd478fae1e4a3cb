package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/notify"
	"github.com/syncwatch/syncwatch/internal/pgtest"
	"github.com/syncwatch/syncwatch/internal/servicetest"
	"github.com/syncwatch/syncwatch/internal/storetest"
)

// receivers are the three channels of the end-to-end tests, real where they can be: a
// generic webhook and a Slack webhook (local HTTP receivers) and an SMTP server.
type receivers struct {
	hook, slack *servicetest.Receiver
	smtp        *servicetest.SMTP
}

func newReceivers(t *testing.T) *receivers {
	return &receivers{hook: servicetest.NewReceiver(t), slack: servicetest.NewReceiver(t),
		smtp: servicetest.NewSMTP(t, servicetest.SMTPOptions{})}
}

// env is syncwatch's environment for db with the three channels, its state in
// stateDir, refreshing every second.
func (r *receivers) env(db *pgtest.DB, stateDir string) map[string]string {
	return map[string]string{
		"DATABASE_URL":               db.URL,
		"SYNCWATCH_REFRESH_INTERVAL": "1s",
		"SYNCWATCH_STATE_DIR":        stateDir,
		"SYNCWATCH_ALERT_LOCK_URL":   "none",
		"SYNCWATCH_EXTERNAL_URL":     "https://syncwatch.example/ingestion/monitoring/",
		"ALERT_WEBHOOK_URLS":         r.hook.URL("/hook"),
		"SLACK_WEBHOOK_URL":          r.slack.URL("/services/T/B/secret"),
		"ALERT_EMAIL_RECIPIENTS":     "ops@example.com",
		"EMAIL_HOST":                 "127.0.0.1",
		"EMAIL_PORT":                 strconv.Itoa(r.smtp.Port),
		"DEFAULT_FROM_EMAIL":         "syncwatch@example.com",
	}
}

// message is one message as each channel received it, reduced to what the tests count:
// the alerts that fire ("+name crm sync_type") and resolve ("-…").
type message []string

// next reads the next message of each channel and checks that all three say the same.
func (r *receivers) next(t *testing.T) message {
	t.Helper()
	var hook notify.WebhookMessage
	if err := json.Unmarshal(r.hook.Next(t).Body, &hook); err != nil {
		t.Fatal(err)
	}
	var got message
	for _, a := range hook.Alerts {
		sign := "+"
		if a.Status == "resolved" {
			sign = "-"
		}
		got = append(got, sign+a.Labels["alertname"]+" "+a.Labels["crm"]+" "+a.Labels["sync_type"])
	}
	var slack notify.SlackMessage
	if err := json.Unmarshal(r.slack.Next(t).Body, &slack); err != nil {
		t.Fatal(err)
	}
	mail := r.smtp.Next(t)
	subject := ""
	for _, line := range strings.Split(mail.Raw, "\n") {
		if s, ok := strings.CutPrefix(line, "Subject: "); ok {
			subject = strings.TrimSpace(s)
		}
	}
	firing, resolved := 0, 0
	for _, a := range got {
		if a[0] == '+' {
			firing++
		} else {
			resolved++
		}
	}
	headline := (notify.Message{Firing: make([]notify.Alert, firing), Resolved: make([]notify.Alert, resolved)}).Headline()
	if !strings.HasPrefix(slack.Text, "[syncwatch] "+headline) || !strings.HasPrefix(subject, "[syncwatch] "+headline) {
		t.Errorf("the channels disagree: webhook %v, slack %q, email %q", got, slack.Text, subject)
	}
	return got
}

// none checks that no channel received anything more.
func (r *receivers) none(t *testing.T) {
	t.Helper()
	if n := r.hook.Received() + r.slack.Received() + r.smtp.Received(); n != 0 {
		t.Errorf("%d messages more than expected (webhook %d, slack %d, email %d)", n,
			r.hook.Received(), r.slack.Received(), r.smtp.Received())
	}
}

// alertsAnswer is what the tests read of api/alerts/.
type alertsAnswer struct {
	Sender bool `json:"sender"`
	Firing []struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"firing"`
	Channels []struct {
		ID        string  `json:"id"`
		Owed      int     `json:"owed"`
		Failing   bool    `json:"failing"`
		LastError *string `json:"last_error"`
	} `json:"channels"`
	Evaluations int `json:"evaluations"`
}

func readAlerts(t *testing.T, base string) alertsAnswer {
	t.Helper()
	status, body, _ := get(t, base+"api/alerts/", nil)
	var a alertsAnswer
	if err := json.Unmarshal(body, &a); status != 200 || err != nil {
		t.Fatalf("api/alerts/: %d %s: %v", status, body, err)
	}
	return a
}

// settled waits until syncwatch has evaluated fresh figures after every change so far
// (two more evaluations than now: a refresh that began before the change may end after
// it) and every channel owes nothing: whatever it had to send is sent, and nothing more
// will be until the rows change.
func settled(t *testing.T, base string, firing int) alertsAnswer {
	t.Helper()
	since := readAlerts(t, base).Evaluations
	var a alertsAnswer
	eventually(t, 30*time.Second, fmt.Sprintf("%d alerts firing and every channel settled", firing), func() bool {
		a = readAlerts(t, base)
		if a.Evaluations < since+2 || len(a.Firing) != firing {
			return false
		}
		for _, c := range a.Channels {
			if c.Owed > 0 || c.Failing {
				return false
			}
		}
		return true
	})
	return a
}

// stop stops syncwatch and waits for run to return, as a restart does.
func (s *server) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	err := <-s.done
	s.done <- err // for the test's cleanup
	if err != nil {
		t.Fatal(err)
	}
}

// failures inserts n failed runs of crm's entity, in one statement (a refresh sees all
// of them or none).
func failures(t *testing.T, db *pgtest.DB, crm, entity string, n int) {
	t.Helper()
	db.Exec(t, `INSERT INTO orchestration.sync_history (crm_source, sync_type, status, start_time, end_time,
			records_processed, records_created, records_updated, records_failed, error_message, performance_metrics, configuration, created_at)
		SELECT $1, $2, 'failed', now() - (i || ' minutes')::interval, now() - (i || ' minutes')::interval + interval '10 seconds',
			0, 0, 0, 0, 'HTTP 429: Too Many Requests for url: https://api.example/v1?api_key=abc123', '{}', '{}', now()
		FROM generate_series(1, $3) AS i`, crm, entity, n)
}

// success inserts a successful run of crm's entity that ended a moment ago.
func success(t *testing.T, db *pgtest.DB, crm, entity string) {
	t.Helper()
	start, end := time.Now().Add(-time.Minute), time.Now().Add(-time.Second)
	db.Insert(t, storetest.Row{CRMSource: crm, SyncType: entity, Start: start, End: &end, RecordsProcessed: 10})
}

func TestAlertsFromRowsToMessages(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeA)
	// Each entity succeeded an hour ago: none is stale, only what the test breaks fires.
	for _, entity := range []string{"contacts", "deals"} {
		start, end := time.Now().Add(-time.Hour), time.Now().Add(-time.Hour+time.Minute)
		db.Insert(t, storetest.Row{CRMSource: "hubspot", SyncType: entity, Start: start, End: &end, RecordsProcessed: 5})
	}
	r := newReceivers(t)
	env := r.env(db, t.TempDir())
	s := start(t, env)
	settled(t, s.base, 0)
	r.none(t)

	// Two failed runs of an entity: one message per channel.
	failures(t, db, "hubspot", "contacts", 2)
	if got := r.next(t); !slices.Equal(got, message{"+sync_failing hubspot contacts"}) {
		t.Fatalf("firing: %v", got)
	}
	settled(t, s.base, 1)
	r.none(t)
	// The metrics count them.
	status, body, _ := get(t, s.root+"/metrics", nil)
	for _, want := range []string{`syncwatch_alerts_firing{alertname="sync_failing"} 1`,
		`syncwatch_notifications_total{channel="webhook",result="success"} 1`,
		`syncwatch_notifications_total{channel="slack",result="success"} 1`,
		`syncwatch_notifications_total{channel="email",result="success"} 1`} {
		if status != 200 || !strings.Contains(string(body), want+"\n") {
			t.Errorf("/metrics (%d) lacks %s", status, want)
		}
	}

	// A restart sends nothing again.
	s.stop(t)
	s = start(t, env)
	settled(t, s.base, 1)
	r.none(t)

	// A success: one resolved message.
	success(t, db, "hubspot", "contacts")
	if got := r.next(t); !slices.Equal(got, message{"-sync_failing hubspot contacts"}) {
		t.Fatalf("resolved: %v", got)
	}
	settled(t, s.base, 0)
	r.none(t)

	// The webhook's receiver is down when an alert fires: the others get it, the
	// webhook is retried, and gets it once when it is back.
	r.hook.Stop()
	failures(t, db, "hubspot", "deals", 2)
	if got := r.next2(t); !slices.Equal(got, message{"+sync_failing hubspot deals"}) {
		t.Fatalf("while the webhook is down: %v", got)
	}
	eventually(t, 30*time.Second, "the webhook's failure shown", func() bool {
		for _, c := range readAlerts(t, s.base).Channels {
			if strings.HasPrefix(c.ID, "webhook") && c.Failing && c.LastError != nil && strings.Contains(*c.LastError, "refused") {
				return !strings.Contains(*c.LastError, "/hook")
			}
		}
		return false
	})
	r.hook.Start(t)
	var hook notify.WebhookMessage
	if err := json.Unmarshal(r.hook.Next(t).Body, &hook); err != nil || len(hook.Alerts) != 1 || hook.Alerts[0].Labels["sync_type"] != "deals" {
		t.Fatalf("webhook once back: %+v %v", hook, err)
	}
	settled(t, s.base, 1)
	r.none(t)

	// Fifty entities fail at once: one message per channel.
	db.Exec(t, `INSERT INTO orchestration.sync_history (crm_source, sync_type, status, start_time, end_time,
			records_processed, records_created, records_updated, records_failed, error_message, performance_metrics, configuration, created_at)
		SELECT 'genius', 'entity' || lpad(e::text, 2, '0'), 'failed', now() - (i || ' minutes')::interval,
			now() - (i || ' minutes')::interval + interval '5 seconds', 0, 0, 0, 0, 'Failed to connect to Genius API', '{}', '{}', now()
		FROM generate_series(0, 49) AS e, generate_series(1, 2) AS i`)
	got := r.next(t)
	// The genius CRM never succeeded, but it has run for minutes only, within its 24 h
	// limit: it is not stale (sync_stale counts from its first run).
	if len(got) != 50 || slices.Contains(got, "+sync_stale genius ") {
		t.Fatalf("fifty entities: %d alerts: %v", len(got), got)
	}
	settled(t, s.base, 51)
	r.none(t)
}

// next2 reads the next message of Slack and email only (the webhook is down).
func (r *receivers) next2(t *testing.T) message {
	t.Helper()
	var slack notify.SlackMessage
	if err := json.Unmarshal(r.slack.Next(t).Body, &slack); err != nil {
		t.Fatal(err)
	}
	r.smtp.Next(t)
	var got message
	for _, b := range slack.Blocks {
		if b.Type == "section" && b.Text != nil {
			if strings.Contains(b.Text.Text, "*sync_failing*") && strings.Contains(b.Text.Text, "sync_type=deals") {
				got = append(got, "+sync_failing hubspot deals")
			}
		}
	}
	return got
}

// process is syncwatch run as the built binary, in a process of its own.
type process struct {
	cmd  *exec.Cmd
	base string
	done chan struct{}
}

func startProcess(t *testing.T, env map[string]string) *process {
	t.Helper()
	cmd := exec.Command(binary(t), "--addr", "127.0.0.1:0")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "HOME="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(p.done)
		_ = cmd.Wait()
	}()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-p.done
		if t.Failed() {
			t.Logf("syncwatch's log:\n%s", stderr)
		}
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("no address printed: %v\n%s", err, stderr)
	}
	_, p.base, _ = strings.Cut(strings.TrimSpace(line), "serving ")
	go io.Copy(io.Discard, out)
	return p
}

func TestTwoReplicasSendEachMessageOnce(t *testing.T) {
	t.Parallel()
	db := pgtest.New(t, pgtest.ShapeB)
	start, end := time.Now().Add(-time.Hour), time.Now().Add(-time.Hour+time.Minute)
	db.Insert(t, storetest.Row{CRMSource: "hubspot", SyncType: "contacts", Start: start, End: &end, RecordsProcessed: 5})
	redis := servicetest.NewRedis(t, servicetest.RedisOptions{})
	r := newReceivers(t)
	env := func() map[string]string {
		e := r.env(db, t.TempDir())
		e["SYNCWATCH_ALERT_LOCK_URL"] = redis.URL(3)
		e["SYNCWATCH_ALERT_LOCK_LEASE"] = "1s"
		return e
	}
	a, b := startProcess(t, env()), startProcess(t, env())
	var sender, other *process
	eventually(t, 30*time.Second, "one replica sending", func() bool {
		sa, sb := readAlerts(t, a.base).Sender, readAlerts(t, b.base).Sender
		switch {
		case sa && sb:
			t.Fatal("both replicas send")
		case sa:
			sender, other = a, b
		case sb:
			sender, other = b, a
		}
		return sender != nil
	})

	failures(t, db, "hubspot", "contacts", 2)
	if got := r.next(t); !slices.Equal(got, message{"+sync_failing hubspot contacts"}) {
		t.Fatalf("firing: %v", got)
	}
	settled(t, sender.base, 1)
	settled(t, other.base, 1)
	r.none(t)

	// The sender dies without a word (SIGKILL): the other takes over when its lease
	// runs out, knowing what was sent.
	if err := syscall.Kill(-sender.cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-sender.done
	eventually(t, 30*time.Second, "the other replica sending", func() bool { return readAlerts(t, other.base).Sender })
	settled(t, other.base, 1)
	r.none(t)

	success(t, db, "hubspot", "contacts")
	if got := r.next(t); !slices.Equal(got, message{"-sync_failing hubspot contacts"}) {
		t.Fatalf("resolved: %v", got)
	}
	settled(t, other.base, 0)
	r.none(t)
}

func TestAlertsTestCommandTriesEveryChannel(t *testing.T) {
	t.Parallel()
	r := newReceivers(t)
	amHook := servicetest.NewReceiver(t)
	am := servicetest.NewAlertmanager(t, amHook.URL("/am"))
	db := pgtest.New(t, pgtest.ShapeA)
	env := r.env(db, t.TempDir())
	env["SYNCWATCH_ALERTMANAGER_URL"] = am.URL
	r.slack.Respond(http.StatusForbidden)

	var out strings.Builder
	err := run(context.Background(), []string{"alerts", "test"}, func(k string) string { return env[k] }, &out, io.Discard)
	if err == nil || err.Error() != "1 of 4 channels failed" {
		t.Fatalf("got %v, want 1 of 4 channels failed", err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "slack") || !strings.Contains(lines[1], "FAILED: slack http://127.0.0.1") ||
		!strings.Contains(lines[1], "403") || strings.Contains(out.String(), "secret") {
		t.Fatalf("output:\n%s", out.String())
	}
	for _, i := range []int{0, 2, 3} {
		if !strings.HasSuffix(lines[i], ": sent") {
			t.Errorf("line %d: %q", i, lines[i])
		}
	}
	var hook notify.WebhookMessage
	if err := json.Unmarshal(r.hook.Next(t).Body, &hook); err != nil || !hook.Syncwatch.Test || hook.Alerts[0].Labels["alertname"] != "syncwatch_test" {
		t.Errorf("webhook: %+v, %v", hook, err)
	}
	if mail := r.smtp.Next(t); !strings.Contains(mail.Raw, "Subject: [syncwatch] TEST notification") {
		t.Errorf("email:\n%s", mail.Raw)
	}
	if err := json.Unmarshal(amHook.Next(t).Body, &hook); err != nil || hook.Alerts[0].Labels["alertname"] != "syncwatch_test" {
		t.Errorf("through alertmanager: %+v, %v", hook, err)
	}

	r.slack.Respond(http.StatusOK)
	out.Reset()
	if err := run(context.Background(), []string{"alerts", "test"}, func(k string) string { return env[k] }, &out, io.Discard); err != nil {
		t.Fatalf("all channels up: %v\n%s", err, out.String())
	}
	if err := run(context.Background(), []string{"alerts", "test"}, func(string) string { return "" }, io.Discard, io.Discard); err == nil ||
		!strings.Contains(err.Error(), "no channel is configured") {
		t.Errorf("no channel: %v", err)
	}
}

// Replicas of one warehouse share their lock keys however DATABASE_URL is written, and
// with whatever credentials; other warehouses do not.
func TestTheWarehouseKeyIsTheDatabasesHostPortAndName(t *testing.T) {
	// The PG* variables fill in what a setting leaves out: none here.
	for _, v := range []string{"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGSERVICE"} {
		t.Setenv(v, "")
	}
	key := func(dsn string) string { return warehouseKey(serveConfig{databaseURL: dsn}) }
	want := key("postgres://reader:hunter2@db.example/dw")
	for _, same := range []string{
		"postgres://other:rotated@db.example:5432/dw?sslmode=disable",
		"postgresql://DB.example/dw?application_name=syncwatch",
		"postgres:///dw?host=db.example&user=reader",
		"host=db.example dbname=dw user=reader password=hunter2",
		"host=db.example port=5432 dbname=dw user=reader password=rotated sslmode=disable",
	} {
		if got := key(same); got != want {
			t.Errorf("%q: key %s, want %s as for the same warehouse", same, got, want)
		}
	}
	for _, other := range []string{
		"postgres://reader:hunter2@db.example/other",
		"postgres://reader:hunter2@db2.example/dw",
		"postgres://reader:hunter2@db.example:5433/dw",
		"postgres:///dw?host=db2.example",
		"host=db2.example dbname=dw",
	} {
		if got := key(other); got == want {
			t.Errorf("%q: key %s, the same as another warehouse's", other, got)
		}
	}
	if key("") == want || warehouseKey(serveConfig{sqlitePath: "/tmp/demo.sqlite"}) == want {
		t.Error("the demo database shares the warehouse's key")
	}
}
