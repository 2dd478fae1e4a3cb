// Package clock is the time that syncwatch's background loops read: the real one in the
// program, a Fake in tests, so that a test advances time instead of sleeping through it.
package clock

import "time"

// Clock tells the time and makes tickers and timers.
type Clock interface {
	Now() time.Time
	// NewTicker is time.NewTicker: a tick every d, ticks dropped while one is unread.
	NewTicker(d time.Duration) Ticker
	// NewTimer is time.NewTimer: one tick after d.
	NewTimer(d time.Duration) Timer
}

// Ticker is a time.Ticker.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Timer is a time.Timer.
type Timer interface {
	C() <-chan time.Time
	// Stop prevents the timer from firing; it reports whether it did.
	Stop() bool
}

// Real returns the system's clock.
func Real() Clock { return realClock{} }

// OrReal returns c, or the system's clock when c is nil: the default of every Config
// that takes a Clock.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real()
	}
	return c
}

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTicker(d time.Duration) Ticker { return realTicker{time.NewTicker(d)} }

func (realClock) NewTimer(d time.Duration) Timer { return realTimer{time.NewTimer(d)} }

type realTicker struct{ t *time.Ticker }

func (r realTicker) C() <-chan time.Time { return r.t.C }
func (r realTicker) Stop()               { r.t.Stop() }

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Stop() bool          { return r.t.Stop() }
