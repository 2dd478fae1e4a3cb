package clock

import (
	"context"
	"slices"
	"sync"
	"time"
)

// Fake is a Clock that moves only when told to, for tests: Advance fires, in order, every
// timer and ticker whose time has come. Its zero value is not usable; use NewFake.
type Fake struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*fakeWaiter
	// changed is closed and replaced whenever the set of waiters changes, so that
	// BlockUntil can wait for a loop to have made its ticker.
	changed chan struct{}
}

// fakeWaiter is one timer or ticker.
type fakeWaiter struct {
	c      chan time.Time
	at     time.Time
	period time.Duration // 0 for a timer
}

// NewFake returns a fake clock that reads start.
func NewFake(start time.Time) *Fake {
	return &Fake{now: start, changed: make(chan struct{})}
}

// Now returns the fake time.
func (f *Fake) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// NewTicker returns a ticker that ticks every d of fake time.
func (f *Fake) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("clock: non-positive interval for NewTicker")
	}
	return &fakeTicker{f: f, w: f.add(d, d)}
}

// NewTimer returns a timer that fires once after d of fake time.
func (f *Fake) NewTimer(d time.Duration) Timer {
	return &fakeTimer{f: f, w: f.add(d, 0)}
}

func (f *Fake) add(d, period time.Duration) *fakeWaiter {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := &fakeWaiter{c: make(chan time.Time, 1), at: f.now.Add(d), period: period}
	f.waiters = append(f.waiters, w)
	f.changedLocked()
	if d <= 0 {
		f.fireLocked()
	}
	return w
}

func (f *Fake) remove(w *fakeWaiter) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.Index(f.waiters, w)
	if i < 0 {
		return false
	}
	f.waiters = slices.Delete(f.waiters, i, i+1)
	f.changedLocked()
	return true
}

func (f *Fake) changedLocked() {
	close(f.changed)
	f.changed = make(chan struct{})
}

// Advance moves the clock d forward and fires what has come due: a timer once, a ticker
// once per Advance however many periods passed (a real ticker drops the ticks nobody
// read in the same way).
func (f *Fake) Advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now = f.now.Add(d)
	f.fireLocked()
}

func (f *Fake) fireLocked() {
	var kept []*fakeWaiter
	fired := false
	for _, w := range f.waiters {
		if w.at.After(f.now) {
			kept = append(kept, w)
			continue
		}
		select {
		case w.c <- f.now:
		default: // the last tick is still unread: drop this one, as time.Ticker does
		}
		if w.period > 0 {
			for !w.at.After(f.now) {
				w.at = w.at.Add(w.period)
			}
			kept = append(kept, w)
		} else {
			fired = true
		}
	}
	f.waiters = kept
	if fired {
		f.changedLocked()
	}
}

// Waiters is the number of timers and tickers that have not fired or stopped.
func (f *Fake) Waiters() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.waiters)
}

// BlockUntil waits until at least n timers and tickers are waiting, so that a test
// advances the clock only after the loop under test has started to wait on it. It
// returns ctx's error if ctx ends first.
func (f *Fake) BlockUntil(ctx context.Context, n int) error {
	for {
		f.mu.Lock()
		count, changed := len(f.waiters), f.changed
		f.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

type fakeTicker struct {
	f *Fake
	w *fakeWaiter
}

func (t *fakeTicker) C() <-chan time.Time { return t.w.c }
func (t *fakeTicker) Stop()               { t.f.remove(t.w) }

type fakeTimer struct {
	f *Fake
	w *fakeWaiter
}

func (t *fakeTimer) C() <-chan time.Time { return t.w.c }
func (t *fakeTimer) Stop() bool          { return t.f.remove(t.w) }
