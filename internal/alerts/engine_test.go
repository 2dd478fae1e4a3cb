package alerts_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/alerts"
	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// twoFailing is a snapshot at t where hubspot contacts failed twice.
func twoFailing(t time.Time) dashboard.Snapshot {
	s := fresh(t)
	s.Entities = []dashboard.EntityStatus{failing("hubspot", "contacts", 2, t.Add(-time.Minute))}
	return s
}

// recovered is the snapshot after a success of hubspot contacts.
func recovered(t time.Time) dashboard.Snapshot {
	s := fresh(t)
	s.Entities = []dashboard.EntityStatus{{CRMSource: "hubspot", Name: "Hubspot", SyncType: "contacts", LastSuccess: ptr(t)}}
	return s
}

// settled waits until every channel owes nothing: whatever was owed has been sent, and
// nothing more will be until something changes.
func settled(t *testing.T, e *alerts.Engine) alerts.View {
	t.Helper()
	return waitView(t, e, "every channel settled", func(v alerts.View) bool {
		for _, c := range v.Channels {
			if c.Owed > 0 || c.Failing {
				return false
			}
		}
		return true
	})
}

func TestAnAlertIsSentOnceWhenItFiresAndOnceWhenItResolves(t *testing.T) {
	t.Parallel()
	slack, hook := newFake("slack"), newFake("webhook")
	h := start(t, alerts.Config{Channels: channels(slack, hook)})

	h.e.Evaluate(twoFailing(h.clock.Now()))
	for _, ch := range []*fakeChannel{slack, hook} {
		m := ch.next(t)
		if got := describe(m); got != "+sync_failing{crm=hubspot,sync_type=contacts}" {
			t.Fatalf("%s: %s", ch.id, got)
		}
		a := m.Firing[0]
		if a.URL != "https://syncwatch.example/ingestion/monitoring/crm/hubspot/" || a.Fingerprint == "" || a.Summary == "" {
			t.Errorf("alert = %+v", a)
		}
	}
	// The same figures at every refresh for hours: nothing more.
	for range 10 {
		h.clock.Advance(20 * time.Minute)
		h.e.Evaluate(twoFailing(h.clock.Now()))
	}
	settled(t, h.e)
	slack.none(t)
	hook.none(t)

	h.e.Evaluate(recovered(h.clock.Now()))
	for _, ch := range []*fakeChannel{slack, hook} {
		m := ch.next(t)
		if got := describe(m); got != "-sync_failing{crm=hubspot,sync_type=contacts}" {
			t.Fatalf("%s: %s", ch.id, got)
		}
		if got := m.Resolved[0].Summary; strings.HasPrefix(got, "No longer judged") {
			t.Errorf("%s: a recovery resolved as %q", ch.id, got)
		}
	}
	h.e.Evaluate(recovered(h.clock.Now()))
	settled(t, h.e)
	slack.none(t)
	if v := h.e.View(); len(v.Resolved) != 1 || v.Resolved[0].ResolvedAt == nil || v.Channels[0].LastSuccess == nil {
		t.Errorf("view: %+v", v)
	}
}

// An alert about an entity (or a CRM) that has no row started in the last 30 days any
// more resolves, since nothing is left to judge; its resolution says so, not that it
// recovered.
func TestAnAlertWhoseEntityLeftTheWindowSaysWhyItResolved(t *testing.T) {
	t.Parallel()
	ch := newFake("webhook")
	h := start(t, alerts.Config{Channels: channels(ch)})
	h.e.Evaluate(twoFailing(h.clock.Now()))
	if got := describe(ch.next(t)); got != "+sync_failing{crm=hubspot,sync_type=contacts}" {
		t.Fatal(got)
	}
	h.clock.Advance(time.Minute)
	h.e.Evaluate(fresh(h.clock.Now())) // its last row left the 30 days: no entity is listed
	m := ch.next(t)
	if got := describe(m); got != "-sync_failing{crm=hubspot,sync_type=contacts}" {
		t.Fatal(got)
	}
	if got := m.Resolved[0].Summary; !strings.HasPrefix(got, "No longer judged: no run of it started in the last 30 days. Hubspot contacts failed") {
		t.Errorf("resolved as %q, want it to say it is no longer judged, then what it was", got)
	}
}

func TestAFiringAlertIsRepeatedAfterTheRepeatInterval(t *testing.T) {
	t.Parallel()
	ch := newFake("webhook")
	h := start(t, alerts.Config{Channels: channels(ch), RepeatInterval: 4 * time.Hour})
	h.e.Evaluate(twoFailing(h.clock.Now()))
	ch.next(t)
	settled(t, h.e)
	h.clock.Advance(4*time.Hour - time.Second)
	h.e.Evaluate(twoFailing(h.clock.Now()))
	settled(t, h.e)
	ch.none(t)
	// The reminder falls due on the outbox's own timer, with no evaluation.
	h.clock.Advance(time.Second)
	if got := describe(ch.next(t)); got != "~sync_failing{crm=hubspot,sync_type=contacts}" {
		t.Fatalf("reminder: %s", got)
	}
}

func TestOneEvaluationIsOneMessagePerChannel(t *testing.T) {
	t.Parallel()
	ch := newFake("webhook")
	h := start(t, alerts.Config{Channels: channels(ch)})
	s := fresh(h.clock.Now())
	for i := range 50 {
		s.Entities = append(s.Entities, failing("genius", fmt.Sprintf("entity%02d", i), 2, now))
	}
	h.e.Evaluate(s)
	m := ch.next(t)
	if len(m.Firing) != 50 || len(m.Resolved) != 0 {
		t.Fatalf("one message with %d firing, %d resolved; want 50", len(m.Firing), len(m.Resolved))
	}
	settled(t, h.e)
	ch.none(t)
	// Half recover while the other half still fail, and a new one fires: one message.
	s.Entities = s.Entities[25:]
	s.StuckRuns = []dashboard.SyncRun{{ID: 1, CRMSource: "genius", Name: "Genius", SyncType: "users", StartTime: now.Add(-3 * time.Hour)}}
	h.e.Evaluate(s)
	m = ch.next(t)
	if len(m.Firing) != 1 || len(m.Resolved) != 25 {
		t.Fatalf("second message: %d firing, %d resolved; want 1 and 25", len(m.Firing), len(m.Resolved))
	}
	settled(t, h.e)
	ch.none(t)
}

func TestAChannelThatIsDownGetsWhatIsStillTrueOnceItIsBack(t *testing.T) {
	t.Parallel()
	down, up := newFake("webhook"), newFake("slack")
	up.kind = "slack"
	down.fail(errDown)
	h := start(t, alerts.Config{Channels: channels(down, up), RetryMin: time.Second, RetryMax: time.Minute})

	s := twoFailing(h.clock.Now())
	s.StuckRuns = []dashboard.SyncRun{{ID: 3, CRMSource: "genius", Name: "Genius", SyncType: "users", StartTime: now.Add(-3 * time.Hour)}}
	h.e.Evaluate(s)
	// The other channel is not delayed.
	if got := describe(up.next(t)); !strings.Contains(got, "sync_stuck") || !strings.Contains(got, "sync_failing") {
		t.Fatalf("slack: %s", got)
	}
	v := waitView(t, h.e, "the webhook's error", func(v alerts.View) bool { return v.Channels[0].Failing })
	if c := v.Channels[0]; c.LastError == nil || !strings.Contains(*c.LastError, "503") || c.Owed != 2 || c.RetryAt == nil {
		t.Fatalf("webhook status: %+v", c)
	}
	// Retried with a doubling backoff: 1 s, 2 s, 4 s.
	for _, wait := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		retry := *h.e.View().Channels[0].RetryAt
		if got := retry.Sub(h.clock.Now()); got != wait {
			t.Fatalf("retry in %v, want %v", got, wait)
		}
		h.clock.Advance(wait)
		waitView(t, h.e, "the next retry", func(v alerts.View) bool {
			return v.Channels[0].RetryAt != nil && v.Channels[0].RetryAt.After(retry)
		})
	}
	// Meanwhile the stuck run ended: its firing is no longer true, and the webhook
	// never heard of it, so it hears nothing of it at all.
	h.e.Evaluate(twoFailing(h.clock.Now()))
	if got := describe(up.next(t)); got != "-sync_stuck{crm=genius,run_id=3,sync_type=users}" {
		t.Fatalf("slack: %s", got)
	}
	down.fail(nil)
	h.clock.Advance(time.Minute)
	if got := describe(down.next(t)); got != "+sync_failing{crm=hubspot,sync_type=contacts}" {
		t.Fatalf("webhook after it came back: %s", got)
	}
	v = settled(t, h.e)
	down.none(t)
	if c := v.Channels[0]; c.Failing || c.LastSuccess == nil || c.LastError == nil {
		t.Errorf("status after recovery: %+v (the last error stays shown)", c)
	}
	if got := h.e.NotificationTotals()["webhook"]; got["failure"] != 4 || got["success"] != 1 {
		t.Errorf("webhook totals = %v, want 4 failures and 1 success", got)
	}
}

func TestASlowChannelBlocksNoEvaluationAndNoOtherChannel(t *testing.T) {
	t.Parallel()
	slow, fast := newFake("email"), newFake("slack")
	slow.block = make(chan struct{})
	h := start(t, alerts.Config{Channels: channels(slow, fast)})
	h.e.Evaluate(twoFailing(h.clock.Now()))
	const fired, resolved = "+sync_failing{crm=hubspot,sync_type=contacts}", "-sync_failing{crm=hubspot,sync_type=contacts}"
	if got := describe(fast.next(t)); got != fired {
		t.Fatalf("fast: %s", got)
	}
	slow.waitSending(t) // and it hangs there until released
	// Evaluations go on while the slow channel hangs, and the fast channel is told of
	// each of them.
	for i := range 3 {
		h.clock.Advance(time.Minute)
		h.e.Evaluate(recovered(h.clock.Now()))
		if got := describe(fast.next(t)); got != resolved {
			t.Fatalf("fast, round %d: %s, want %s", i, got, resolved)
		}
		h.e.Evaluate(twoFailing(h.clock.Now()))
		if got := describe(fast.next(t)); got != fired {
			t.Fatalf("fast, round %d: %s, want %s", i, got, fired)
		}
	}
	slow.none(t) // still in its first Send
	if got := len(h.e.View().Firing); got != 1 {
		t.Fatalf("firing %d", got)
	}
	close(slow.block)
	if got := describe(slow.next(t)); got != fired {
		t.Fatalf("slow, once released: %s", got)
	}
}

func TestTheHourlyCapHoldsBackAndSaysHowMany(t *testing.T) {
	t.Parallel()
	ch := newFake("webhook")
	h := start(t, alerts.Config{Channels: channels(ch), MaxPerHour: 2})
	s := fresh(h.clock.Now())
	fire := func(i int) {
		s.Entities = append(s.Entities, failing("genius", fmt.Sprintf("e%d", i), 2, now))
		h.e.Evaluate(s)
	}
	fire(1)
	ch.next(t)
	settled(t, h.e) // recorded as sent at this time
	h.clock.Advance(10 * time.Minute)
	fire(2)
	ch.next(t)
	settled(t, h.e)
	// Two more alerts fire, in two evaluations: two messages held back.
	h.clock.Advance(10 * time.Minute)
	fire(3)
	waitView(t, h.e, "one held back", func(v alerts.View) bool { return v.Channels[0].HeldBack == 1 })
	h.clock.Advance(10 * time.Minute)
	fire(4)
	v := waitView(t, h.e, "two held back", func(v alerts.View) bool { return v.Channels[0].HeldBack == 2 })
	if c := v.Channels[0]; c.SentLastHour != 2 || c.Owed != 2 {
		t.Fatalf("channel: %+v", c)
	}
	ch.none(t)
	// An hour after the first message there is room again: one message, with both
	// alerts, saying two messages were held back.
	h.clock.Advance(30 * time.Minute)
	m := ch.next(t)
	if m.HeldBack != 2 || m.Cap != 2 || describe(m) != "+sync_failing{crm=genius,sync_type=e3} +sync_failing{crm=genius,sync_type=e4}" {
		t.Fatalf("after the cap: held back %d, %s", m.HeldBack, describe(m))
	}
	if !strings.Contains(m.Headline(), "2 messages were held back (at most 2 an hour)") {
		t.Errorf("headline %q", m.Headline())
	}
	settled(t, h.e)
	ch.none(t)
}

func TestAlertmanagerChannelsGetEveryFiringAlertAgainAndNoCap(t *testing.T) {
	t.Parallel()
	am := newFake("alertmanager")
	am.kind = "alertmanager"
	h := start(t, alerts.Config{Channels: []alerts.Channel{{Channel: am, Resend: time.Minute}}, MaxPerHour: 1})
	s := fresh(h.clock.Now())
	s.Entities = []dashboard.EntityStatus{failing("genius", "a", 2, now)}
	h.e.Evaluate(s)
	am.next(t)
	settled(t, h.e)
	h.clock.Advance(30 * time.Second)
	s.Entities = append(s.Entities, failing("genius", "b", 2, now))
	h.e.Evaluate(s)
	if got := describe(am.next(t)); got != "+sync_failing{crm=genius,sync_type=b}" {
		t.Fatalf("second push: %s", got)
	}
	settled(t, h.e)
	// A minute after its last push, each firing alert is pushed again.
	h.clock.Advance(30 * time.Second)
	if got := describe(am.next(t)); got != "+sync_failing{crm=genius,sync_type=a}" {
		t.Fatalf("resend: %s", got)
	}
	h.e.Evaluate(fresh(h.clock.Now()))
	m := am.next(t)
	if len(m.Resolved) != 2 || !m.Resolved[0].EndsAt.Equal(h.clock.Now()) {
		t.Fatalf("resolution: %s", describe(m))
	}
}

func TestARestartNeitherSendsAgainNorForgets(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// Nanoseconds, as the real clock has: the file keeps microseconds, and an episode read
	// back must still be the one told.
	fake := clock.NewFake(now.Add(1234 * time.Nanosecond))
	open := func() (*alerts.File, *fakeChannel, *harness) {
		f, err := alerts.OpenFile(context.Background(), dir)
		if err != nil {
			t.Fatal(err)
		}
		ch := newFake("webhook")
		return f, ch, start(t, alerts.Config{Channels: channels(ch), Store: f, Clock: fake})
	}
	f, ch, h := open()
	if _, err := alerts.OpenFile(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "own --state-dir") {
		t.Fatalf("a second process on the state file: %v", err)
	}
	s := twoFailing(fake.Now())
	s.Health.Celery.Status = "unhealthy"
	h.e.Evaluate(s) // workers_down pending
	ch.next(t)
	settled(t, h.e)
	h.stop()
	f.Close()

	// Stopped for longer than workers_down's five minutes: what the workers did
	// meanwhile is unknown, so its pending state is not kept.
	fake.Advance(6 * time.Minute)
	f, ch, h = open()
	defer f.Close()
	if v := h.e.View(); len(v.Pending) != 0 || !slices.Equal(firing(v), []string{"sync_failing{crm=hubspot,sync_type=contacts}"}) {
		t.Fatalf("after restart: pending %v, firing %v; want no pending, sync_failing firing", pending(v), firing(v))
	}
	s = twoFailing(fake.Now())
	s.Health.Celery.Status = "unhealthy"
	restarted := fake.Now().Truncate(time.Microsecond)
	h.e.Evaluate(s)
	settled(t, h.e)
	ch.none(t)
	// It fires five minutes after the first unhealthy reading since the restart.
	fake.Advance(5*time.Minute - time.Second)
	s.At = fake.Now()
	h.e.Evaluate(s)
	settled(t, h.e)
	ch.none(t)
	fake.Advance(time.Second)
	s.At = fake.Now()
	h.e.Evaluate(s)
	m := ch.next(t)
	if got := describe(m); got != "+workers_down{}" || !m.Firing[0].StartsAt.Equal(restarted) {
		t.Fatalf("after restart: %s since %v, want workers_down since %v", got, m.Firing[0].StartsAt, restarted)
	}
	h.e.Evaluate(recovered(fake.Now()))
	if got := describe(ch.next(t)); got != "-sync_failing{crm=hubspot,sync_type=contacts} -workers_down{}" {
		t.Fatalf("resolutions: %s", got)
	}
	settled(t, h.e)
	ch.none(t)
}

func TestNotificationTotalsAndFiringCounts(t *testing.T) {
	t.Parallel()
	ch := newFake("webhook")
	h := start(t, alerts.Config{Channels: channels(ch)})
	h.e.Evaluate(twoFailing(h.clock.Now()))
	ch.next(t)
	settled(t, h.e)
	byName := h.e.FiringByName()
	if byName["sync_failing"] != 1 || byName["workers_down"] != 0 || len(byName) != len(alerts.RuleNames) {
		t.Errorf("FiringByName = %v", byName)
	}
	if got := h.e.NotificationTotals(); got["webhook"]["success"] != 1 || got["webhook"]["failure"] != 0 {
		t.Errorf("NotificationTotals = %v", got)
	}
}
