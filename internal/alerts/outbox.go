package alerts

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/notify"
)

// outbox delivers to one channel what it is owed: the difference between what is true
// (the engine's alerts) and what the channel was told. Nothing is queued: a message is
// made when it can be sent, from what is true then, so that a channel that was down
// gets, once it is back, the alerts still firing and the resolutions of the alerts it
// was told fired, and nothing that has stopped being true. Each outbox runs in its own
// goroutine, so a slow or failing channel delays no other, and no evaluation.
type outbox struct {
	e    *Engine
	ch   Channel
	kick chan struct{}

	// Touched only by the outbox's goroutine, and by the view under e.mu.
	attempts int
	retryAt  time.Time
	heldSig  string
}

// wake asks the outbox to look at what it owes; it never blocks.
func (o *outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// run delivers until ctx ends.
func (o *outbox) run(ctx context.Context) {
	var timer clock.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		if ctx.Err() != nil {
			return
		}
		wake, again := o.step(ctx)
		if f := o.e.stepped; f != nil {
			f(o.ch.ID())
		}
		if again {
			continue
		}
		if timer != nil {
			timer.Stop()
			timer = nil
		}
		var tick <-chan time.Time
		if !wake.IsZero() {
			timer = o.e.clock.NewTimer(wake.Sub(o.e.clock.Now()))
			tick = timer.C()
		}
		select {
		case <-ctx.Done():
			return
		case <-o.kick:
		case <-tick:
		}
	}
}

// delivery is one message and what it tells the channel.
type delivery struct {
	msg notify.Message
	// firing are the episodes the message tells of, by fingerprint; resolved the episodes
	// it tells resolved.
	firing   map[string]time.Time
	resolved map[string]time.Time
}

func (d delivery) empty() bool { return len(d.msg.Firing) == 0 && len(d.msg.Resolved) == 0 }

// signature names what a delivery holds, to count held-back messages once each.
func (d delivery) signature() string {
	var parts []string
	for _, a := range d.msg.Firing {
		parts = append(parts, "f"+a.Fingerprint)
	}
	for _, a := range d.msg.Resolved {
		parts = append(parts, "r"+a.Fingerprint)
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// capped reports whether the hourly cap applies to the channel.
func (o *outbox) capped() bool { return o.e.cfg.MaxPerHour > 0 && o.ch.Resend <= 0 }

// step sends one message if one is owed and may be sent now. It returns when to look
// again (zero: when woken), or again when it should look again at once.
func (o *outbox) step(ctx context.Context) (wake time.Time, again bool) {
	e := o.e
	if !e.sending() {
		return time.Time{}, false // a replica that does not send is woken when it starts to
	}
	now := e.now()
	e.mu.Lock()
	if now.Before(o.retryAt) {
		e.mu.Unlock()
		return o.retryAt, false
	}
	d, next := o.owedLocked(now)
	cs := e.channelLocked(o.ch.ID())
	if d.empty() && cs.HeldBack == 0 {
		e.mu.Unlock()
		return next, false
	}
	if o.capped() {
		cs.Sent = recent(cs.Sent, now)
		if len(cs.Sent) >= e.cfg.MaxPerHour {
			if sig := d.signature(); !d.empty() && sig != o.heldSig {
				o.heldSig = sig
				cs.HeldBack++
				e.version++
			}
			free := cs.Sent[0].Add(time.Hour)
			e.mu.Unlock()
			e.save()
			e.publish()
			return free, false
		}
	}
	d.msg.HeldBack, d.msg.Cap = cs.HeldBack, e.cfg.MaxPerHour
	e.mu.Unlock()

	// The message is sent even when the engine is stopping, within the send timeout:
	// cut off, it might arrive without being recorded, and be sent again.
	sendCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.SendTimeout)
	err := o.ch.Send(sendCtx, d.msg)
	cancel()
	o.delivered(d, err)
	if err != nil {
		return o.retryAt, false
	}
	return time.Time{}, true
}

// owedLocked makes the message the channel is owed at now, and says when a firing
// alert's reminder (or Alertmanager's resend) falls due next.
func (o *outbox) owedLocked(now time.Time) (delivery, time.Time) {
	e := o.e
	cs := e.channelLocked(o.ch.ID())
	d := delivery{msg: notify.Message{ExternalURL: e.cfg.ExternalURL, At: now},
		firing: map[string]time.Time{}, resolved: map[string]time.Time{}}
	var next time.Time
	due := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, r := range sortedRecords(e.st.Active, func(r *Record) bool { return r.Firing }) {
		fp := r.Alert.Fingerprint
		told, ok := cs.Told[fp]
		a := r.Alert
		switch {
		case !ok || !told.Episode.Equal(r.FiredAt):
		case o.ch.Resend > 0:
			if at := told.SentAt.Add(o.ch.Resend); now.Before(at) {
				due(at)
				continue
			}
		default:
			if at := told.SentAt.Add(e.cfg.RepeatInterval); now.Before(at) {
				due(at)
				continue
			}
			a.Reminder = true
		}
		d.msg.Firing = append(d.msg.Firing, a)
		d.firing[fp] = r.FiredAt
	}
	var resolved []*Record
	for fp, told := range cs.Told {
		if r := e.st.Active[fp]; r != nil && r.Firing {
			continue
		}
		r := e.st.Resolved[fp]
		if r == nil {
			// Neither firing nor resolved: state adopted from elsewhere; nothing to tell.
			delete(cs.Told, fp)
			continue
		}
		resolved = append(resolved, r)
		d.resolved[fp] = told.Episode
	}
	slices.SortFunc(resolved, func(a, b *Record) int { return compareRecords(a, b) })
	for _, r := range resolved {
		d.msg.Resolved = append(d.msg.Resolved, r.Alert)
	}
	return d, next
}

// delivered records the outcome of sending d.
func (o *outbox) delivered(d delivery, err error) {
	e := o.e
	now := e.now()
	e.mu.Lock()
	cs := e.channelLocked(o.ch.ID())
	result := "success"
	if err != nil {
		result = "failure"
		o.attempts++
		backoff := e.cfg.RetryMin << min(o.attempts-1, 20)
		o.retryAt = now.Add(min(backoff, e.cfg.RetryMax))
		first := cs.LastErrorAt == nil || (cs.LastSuccess != nil && cs.LastSuccess.After(*cs.LastErrorAt))
		cs.LastError, cs.LastErrorAt = err.Error(), &now
		if first {
			e.log.Warn("alerts: a channel failed; retrying with backoff", "channel", o.ch.ID(), "err", err)
		}
	} else {
		if o.attempts > 0 {
			e.log.Info("alerts: a channel delivers again", "channel", o.ch.ID(), "after_failures", o.attempts)
		}
		o.attempts, o.retryAt, o.heldSig = 0, time.Time{}, ""
		cs.LastSuccess = &now
		for fp, episode := range d.firing {
			cs.Told[fp] = Told{Episode: episode, SentAt: now}
		}
		for fp, episode := range d.resolved {
			// A channel told of a newer episode meanwhile keeps it.
			if told, ok := cs.Told[fp]; ok && told.Episode.Equal(episode) {
				delete(cs.Told, fp)
			}
		}
		if o.capped() {
			cs.Sent = append(recent(cs.Sent, now), now)
		}
		cs.HeldBack = max(0, cs.HeldBack-d.msg.HeldBack)
	}
	e.totals[o.ch.Kind()][result]++
	e.version++
	e.mu.Unlock()
	e.save()
	e.publish()
}

// recent keeps the times within the hour before now.
func recent(sent []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(sent) && !sent[i].After(now.Add(-time.Hour)) {
		i++
	}
	return slices.Clone(sent[i:])
}

// compareRecords orders alerts by when they began, then by name and labels.
func compareRecords(a, b *Record) int {
	if c := a.ActiveAt.Compare(b.ActiveAt); c != 0 {
		return c
	}
	return strings.Compare(a.sortKey(), b.sortKey())
}
