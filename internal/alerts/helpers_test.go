package alerts_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/alerts"
	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/notify"
)

// now is the instant the tests start at.
var now = time.Date(2025, time.October, 9, 10, 30, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// fresh is a snapshot with fresh figures and healthy workers at t, refreshed every 30 s.
func fresh(t time.Time) dashboard.Snapshot {
	s := dashboard.Snapshot{HasFigures: true, At: t, RefreshInterval: 30 * time.Second, StuckAfter: time.Hour}
	s.Meta = dashboard.Meta{Timestamp: t}
	s.Health.Celery.Status = health.StatusHealthy
	s.Health.Celery.PendingTasks = ptr(int64(0))
	return s
}

// failing is an entity whose last n finished runs failed, the last at t, after a
// success two hours before.
func failing(crm, syncType string, n int64, t time.Time) dashboard.EntityStatus {
	return dashboard.EntityStatus{CRMSource: crm, Name: strings.ToUpper(crm[:1]) + crm[1:], SyncType: syncType,
		ConsecutiveFailures: n, LastSuccess: ptr(t.Add(-2 * time.Hour)),
		LastFailure: &dashboard.ErrorEntry{CRMSource: crm, SyncType: syncType, FailedAt: t, ErrorType: "rate_limit",
			ErrorMessage: ptr("HTTP 429: Too Many Requests for url: https://api.example/v1?api_key=***")}}
}

// fakeChannel records the messages it is sent; it can fail, or block until released.
type fakeChannel struct {
	id, kind string
	sent     chan notify.Message
	// sending receives a value as each Send begins.
	sending chan struct{}

	mu    sync.Mutex
	err   error
	block chan struct{}
}

func newFake(id string) *fakeChannel {
	return &fakeChannel{id: id, kind: notify.KindWebhook, sent: make(chan notify.Message, 1000), sending: make(chan struct{}, 1000)}
}

func (f *fakeChannel) Kind() string   { return f.kind }
func (f *fakeChannel) ID() string     { return f.id }
func (f *fakeChannel) Target() string { return "fake " + f.id }
func (f *fakeChannel) Close()         {}

func (f *fakeChannel) Send(ctx context.Context, m notify.Message) error {
	f.mu.Lock()
	err, block := f.err, f.block
	f.mu.Unlock()
	select {
	case f.sending <- struct{}{}:
	default: // no test waits for that many
	}
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err != nil {
		return err
	}
	f.sent <- m
	return nil
}

func (f *fakeChannel) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// next waits for the next message; the wait is bounded only to fail a broken test.
func (f *fakeChannel) next(t *testing.T) notify.Message {
	t.Helper()
	select {
	case m := <-f.sent:
		return m
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no message", f.id)
		return notify.Message{}
	}
}

// waitSending waits until a Send has begun.
func (f *fakeChannel) waitSending(t *testing.T) {
	t.Helper()
	select {
	case <-f.sending:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: no Send began", f.id)
	}
}

// none asserts that nothing was sent so far.
func (f *fakeChannel) none(t *testing.T) {
	t.Helper()
	select {
	case m := <-f.sent:
		t.Fatalf("%s: unexpected message %s: %s", f.id, m.Headline(), describe(m))
	default:
	}
}

// describe lists a message's alerts as "+name{labels}" (firing, "~" a reminder) and
// "-name{labels}" (resolved).
func describe(m notify.Message) string {
	var parts []string
	for _, a := range m.Firing {
		sign := "+"
		if a.Reminder {
			sign = "~"
		}
		parts = append(parts, sign+a.Name+labels(a.Labels))
	}
	for _, a := range m.Resolved {
		parts = append(parts, "-"+a.Name+labels(a.Labels))
	}
	return strings.Join(parts, " ")
}

func labels(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// firing lists the view's firing alerts as name{labels}, sorted.
func firing(v alerts.View) []string {
	var out []string
	for _, a := range v.Firing {
		out = append(out, a.Name+labels(a.Labels))
	}
	slices.Sort(out)
	return out
}

func pending(v alerts.View) []string {
	var out []string
	for _, a := range v.Pending {
		out = append(out, a.Name+labels(a.Labels))
	}
	slices.Sort(out)
	return out
}

// harness runs an engine over fake channels on a fake clock.
type harness struct {
	t     *testing.T
	clock *clock.Fake
	e     *alerts.Engine
	stop  func()
}

// start runs an engine with cfg (its clock and channels set by the caller or here),
// after calling each of before on it.
func start(t *testing.T, cfg alerts.Config, before ...func(*alerts.Engine)) *harness {
	t.Helper()
	fake, ok := cfg.Clock.(*clock.Fake)
	if !ok {
		fake = clock.NewFake(now)
		cfg.Clock = fake
	}
	if cfg.Rules.FailingRuns == 0 {
		cfg.Rules = alerts.DefaultRules()
	}
	if cfg.ExternalURL == "" {
		cfg.ExternalURL = "https://syncwatch.example/ingestion/monitoring/"
	}
	e, err := alerts.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range before {
		f(e)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx, nil)
	}()
	h := &harness{t: t, clock: fake, e: e}
	h.stop = sync.OnceFunc(func() {
		cancel()
		<-done
	})
	t.Cleanup(h.stop)
	return h
}

// channels wraps fakes as the engine's channels.
func channels(fakes ...*fakeChannel) []alerts.Channel {
	var out []alerts.Channel
	for _, f := range fakes {
		out = append(out, alerts.Channel{Channel: f})
	}
	return out
}

// waitView waits until the engine's view satisfies ok (the outboxes publish after each
// delivery), failing after a bound that only a broken engine reaches.
func waitView(t *testing.T, e *alerts.Engine, what string, ok func(alerts.View) bool) alerts.View {
	t.Helper()
	sub := e.Subscribe()
	defer sub.Close()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case v := <-sub.C():
			if ok(v) {
				return v
			}
		case <-timeout:
			t.Fatalf("view never showed %s: %+v", what, e.View())
		}
	}
}

var errDown = errors.New("HTTP 503 Service Unavailable")

func msgs(ms ...notify.Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, fmt.Sprintf("[%s]", describe(m)))
	}
	return strings.Join(out, " ")
}
