// Package feed hands the newest value of something (a snapshot of the figures, a health
// report) to any number of subscribers without ever making the publisher wait: each
// subscriber holds at most one unread value, and a newer one replaces it. A subscriber
// that is slow or stuck misses intermediate values, never the latest, and delays nobody.
package feed

import "sync"

// Feed publishes values of type T. The zero value is ready to use.
type Feed[T any] struct {
	mu     sync.Mutex
	subs   map[*Subscription[T]]struct{}
	latest T
	has    bool
	closed bool
}

// Subscription receives a feed's values on C until it or its feed is closed.
type Subscription[T any] struct {
	c    chan T
	feed *Feed[T]
	once sync.Once
}

// Subscribe returns a subscription that receives every value published from now on (the
// newest one when it falls behind), starting with the latest value already published, if
// any. On a closed feed the subscription's channel is closed at once.
func (f *Feed[T]) Subscribe() *Subscription[T] {
	s := &Subscription[T]{c: make(chan T, 1), feed: f}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		s.once.Do(func() { close(s.c) })
		return s
	}
	if f.subs == nil {
		f.subs = make(map[*Subscription[T]]struct{})
	}
	f.subs[s] = struct{}{}
	if f.has {
		s.c <- f.latest
	}
	return s
}

// Publish hands v to every subscriber, replacing the value a subscriber has not read yet.
// It never blocks on a subscriber.
func (f *Feed[T]) Publish(v T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.latest, f.has = v, true
	for s := range f.subs {
		// Only Publish and Subscribe send, both under f.mu, so after the drain there is room.
		select {
		case <-s.c:
		default:
		}
		s.c <- v
	}
}

// Latest returns the last value published, and false when there is none.
func (f *Feed[T]) Latest() (T, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.latest, f.has
}

// Close ends the feed: every subscription's channel is closed, after the value it holds,
// and later publications are dropped. Closing twice is harmless.
func (f *Feed[T]) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return
	}
	f.closed = true
	for s := range f.subs {
		s.once.Do(func() { close(s.c) })
	}
	f.subs = nil
}

// C is where the values arrive. It is closed when the subscription or the feed closes.
func (s *Subscription[T]) C() <-chan T { return s.c }

// Close stops the subscription; its channel is closed. Closing twice is harmless.
func (s *Subscription[T]) Close() {
	f := s.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.subs, s)
	s.once.Do(func() { close(s.c) })
}
