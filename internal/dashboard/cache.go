package dashboard

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
)

// cache keeps the figures of each question (a key such as "figures/7") so that viewers
// read memory, never the warehouse. The warehouse sees at most one computation of a key per
// refresh interval, however many people watch:
//
//   - a key is computed on a request only when it has never been computed; concurrent
//     requests for it share that one computation;
//   - after that, the background loop (Run) recomputes the keys that were read recently,
//     one after another, once per interval; requests always get the last figures at once;
//   - when a recomputation fails, the last good figures stay, marked stale since the
//     first failure, until a recomputation succeeds; a failed source is not asked again
//     on request sooner than retryAfter;
//   - whatever the parameters viewers ask for, at most one computation of a heavy key
//     (one that may scan) other than the pinned (default) one runs at a time, and at
//     most maxEntries keys are kept.
type cache struct {
	interval time.Duration
	// keepWarm is how long after its last read a key is still recomputed in the
	// background; pinned keys always are.
	keepWarm time.Duration
	// maxEntries bounds memory whatever the mix of parameters requested.
	maxEntries int
	// keep names the key never evicted to make room (the default figures, which other
	// computations read), pinned or not.
	keep    string
	timeout time.Duration
	clock   clock.Clock
	logger  *slog.Logger
	// computed is told each time a computation of key ends, with how long it took and its
	// error, after the entry has been updated; it must not block (the dashboard counts it
	// and publishes a snapshot).
	computed func(key string, took time.Duration, err error)

	// others admits one computation at a time of unpinned heavy keys, so that
	// parameters chosen by viewers cannot start many scans at once; waiting counts those
	// waiting for their turn.
	others  chan struct{}
	waiting atomic.Int64

	mu sync.Mutex
	// life ends the computations in flight when Run returns; Background before.
	life    context.Context
	entries map[string]*entry
	// computations counts computations started, for tests and the debug log.
	computations int64
	// closed refuses new computations once the dashboard stopped; running joins the
	// computations' goroutines, so that Run returns only after the last one ended.
	closed  bool
	running sync.WaitGroup
}

type entry struct {
	key     string
	compute func(context.Context) (any, time.Time, error)
	// heavy marks a computation that may scan; unpinned heavy ones take turns.
	heavy    bool
	pinned   bool
	lastRead time.Time

	value      any
	computedAt time.Time
	staleSince time.Time
	lastErr    error
	failedAt   time.Time
	// failures counts the failed computations in a row, so a failure is logged once
	// when it starts, not again at every refresh of an outage.
	failures int

	// running is closed when the computation in flight ends; nil when none is.
	running chan struct{}
}

// get returns the figures of key, computing them first if they have never been computed.
// A heavy computation may scan the table (on shape B); a light one is bounded by indexes
// and may itself read another key.
func (c *cache) get(ctx context.Context, key string, heavy bool, compute func(context.Context) (any, time.Time, error)) (any, Meta, error) {
	c.mu.Lock()
	e := c.entries[key]
	if e == nil {
		c.evictLocked()
		e = &entry{key: key, compute: compute, heavy: heavy}
		c.entries[key] = e
	}
	e.lastRead = c.clock.Now()
	if e.value != nil {
		v, meta := e.value, c.metaLocked(e)
		// A value twice the interval old means the background loop is not keeping up (or
		// not running): refresh in the background, still answering at once.
		if c.clock.Now().Sub(e.computedAt) > 2*c.interval && e.running == nil && c.clock.Now().Sub(e.failedAt) >= c.retryAfter() {
			c.startLocked(e) // nil once closed: the last figures are still served
		}
		c.mu.Unlock()
		return v, meta, nil
	}
	done := e.running
	if done == nil {
		// A source that just failed is not asked again at once for each request that
		// comes: the retry waits a little, and the requests get the failure meanwhile.
		if e.lastErr != nil && c.clock.Now().Sub(e.failedAt) < c.retryAfter() {
			err := e.lastErr
			c.mu.Unlock()
			return nil, Meta{}, err
		}
		done = c.startLocked(e)
		if done == nil {
			c.mu.Unlock()
			return nil, Meta{}, errStopped
		}
	}
	c.mu.Unlock()

	select {
	case <-done:
	case <-ctx.Done():
		return nil, Meta{}, ctx.Err()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e.value == nil {
		if e.lastErr == nil {
			return nil, Meta{}, errNoFigures
		}
		return nil, Meta{}, e.lastErr
	}
	return e.value, c.metaLocked(e), nil
}

// pin computes key now and keeps it computed in the background whether or not it is read;
// a pinned key never waits for its turn. It returns nil once the cache is closed.
func (c *cache) pin(key string, heavy bool, compute func(context.Context) (any, time.Time, error)) <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil {
		e = &entry{key: key, compute: compute, heavy: heavy}
		c.entries[key] = e
	}
	e.pinned = true
	if e.running != nil {
		return e.running
	}
	return c.startLocked(e)
}

// refresh recomputes, one after another (pinned keys first, then the most recently read),
// every key read within keepWarm or pinned, and forgets the others. It returns when all
// are done or ctx ends.
func (c *cache) refresh(ctx context.Context) {
	c.mu.Lock()
	var due []*entry
	for key, e := range c.entries {
		if !e.pinned && c.clock.Now().Sub(e.lastRead) > c.keepWarm && e.running == nil {
			delete(c.entries, key)
			continue
		}
		if c.clock.Now().Sub(e.computedAt) >= c.interval/2 {
			due = append(due, e)
		}
	}
	// Sorted under the lock: viewers' reads write lastRead, and pin writes pinned.
	slices.SortFunc(due, func(a, b *entry) int {
		if a.pinned != b.pinned {
			if a.pinned {
				return -1
			}
			return 1
		}
		return b.lastRead.Compare(a.lastRead)
	})
	c.mu.Unlock()
	for _, e := range due {
		c.mu.Lock()
		done := e.running
		if done == nil {
			done = c.startLocked(e)
		}
		c.mu.Unlock()
		if done == nil {
			return // closed
		}
		select {
		case <-done:
		case <-ctx.Done():
			return
		}
	}
}

// startLocked starts computing e in its own goroutine, which the cache owns: close waits
// for it. The computation is not tied to any request's context (a viewer who closes the
// tab must not cancel the figures others wait for), but to the cache's life. It returns
// nil, starting nothing, once the cache is closed.
func (c *cache) startLocked(e *entry) chan struct{} {
	if c.closed {
		return nil
	}
	done := make(chan struct{})
	e.running = done
	c.computations++
	life := c.life
	if life == nil {
		life = context.Background()
	}
	takesTurns := e.heavy && !e.pinned // read under c.mu: pin may change it meanwhile
	c.running.Go(func() {
		defer close(done)
		ctx, cancel := context.WithTimeout(life, c.timeout)
		defer cancel()
		if takesTurns {
			c.waiting.Add(1)
			select {
			case c.others <- struct{}{}:
				defer func() { <-c.others }()
			case <-ctx.Done():
			}
			c.waiting.Add(-1)
		}
		started := c.clock.Now()
		value, at, err := e.compute(ctx)
		took := c.clock.Now().Sub(started)
		c.finish(e, started, took, value, at, err)
		if c.computed != nil {
			c.computed(e.key, took, err)
		}
	})
	return done
}

// finish records the outcome of a computation of e. A failure is logged when it starts
// and when it ends, not at every refresh in between.
func (c *cache) finish(e *entry, started time.Time, took time.Duration, value any, at time.Time, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e.running = nil
	if err != nil {
		if e.staleSince.IsZero() {
			e.staleSince = started
		}
		e.lastErr, e.failedAt = err, c.clock.Now()
		e.failures++
		level := slog.LevelDebug
		if e.failures == 1 {
			level = slog.LevelWarn
		}
		c.logger.Log(context.Background(), level, "figures not refreshed", "key", e.key, "err", err,
			"stale", e.value != nil, "failures_in_a_row", e.failures)
		return
	}
	if e.failures > 0 {
		c.logger.Info("figures refreshed again", "key", e.key, "after_failures", e.failures)
	}
	e.value, e.computedAt, e.staleSince, e.lastErr, e.failures = value, at, time.Time{}, nil, 0
	c.logger.Debug("figures computed", "key", e.key, "took", took)
}

// retryAfter is how long a failed first computation is not retried on request.
func (c *cache) retryAfter() time.Duration {
	return min(c.interval, 5*time.Second)
}

// metaLocked says when e's figures were computed and whether they are stale: a refresh
// failed, or none has succeeded for two intervals (one may be hanging on a frozen
// database), in which case they are stale since the refresh that did not come.
func (c *cache) metaLocked(e *entry) Meta {
	m := Meta{Timestamp: e.computedAt.UTC()}
	since := e.staleSince
	if since.IsZero() && c.clock.Now().Sub(e.computedAt) > 2*c.interval {
		since = e.computedAt.Add(c.interval)
	}
	if !since.IsZero() {
		m.Stale = true
		since = since.UTC()
		m.StaleSince = &since
	}
	return m
}

// evictLocked makes room for one more entry by forgetting the least recently read
// unpinned entry that is not being computed.
func (c *cache) evictLocked() {
	if len(c.entries) < c.maxEntries {
		return
	}
	var oldest *entry
	for _, e := range c.entries {
		if e.pinned || e.running != nil || e.key == c.keep {
			continue
		}
		if oldest == nil || e.lastRead.Before(oldest.lastRead) {
			oldest = e
		}
	}
	if oldest != nil {
		delete(c.entries, oldest.key)
	}
}

// errNoFigures is returned when a key's first computation failed.
var errNoFigures = errors.New("no figures yet")

// errStopped is returned for figures never computed once the dashboard has stopped.
var errStopped = errors.New("dashboard stopped")

// setLife ties the computations started from now on to ctx.
func (c *cache) setLife(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.life = ctx
}

// close refuses new computations and waits for those in flight (their context is the
// cache's life, which the caller has ended, so they end soon).
func (c *cache) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.running.Wait()
}

// peek returns key's last figures and their meta without computing anything; false when
// it has none.
func (c *cache) peek(key string) (any, Meta, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil || e.value == nil {
		return nil, Meta{}, false
	}
	return e.value, c.metaLocked(e), true
}

// lastError returns the error of key's last computation, nil when it succeeded or none
// ended yet.
func (c *cache) lastError(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e := c.entries[key]; e != nil {
		return e.lastErr
	}
	return nil
}

// takeTurn waits for the turn that unpinned heavy computations take one at a time, for
// work that streams and so cannot be a cached computation (the CSV export): its queries
// then never run beside another heavy computation. It returns the function that gives the
// turn back; the caller must call it before doing anything that waits on a viewer.
func (c *cache) takeTurn(ctx context.Context) (func(), error) {
	c.waiting.Add(1)
	defer c.waiting.Add(-1)
	select {
	case c.others <- struct{}{}:
		return func() { <-c.others }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
