package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/feed"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// Defaults of Config.
const (
	DefaultInterval             = 30 * time.Second
	DefaultTimeout              = 2 * time.Second
	DefaultQueueGrowthThreshold = 20
)

// minCheckGap is how close to the end of the previous run a CheckNow call just returns
// that run's results instead of starting another, so that many viewers pressing refresh
// cost one round of checks.
const minCheckGap = 2 * time.Second

// runGrace is how long past its timeout a check may take before its run gives up on it
// and reports it as timed out.
const runGrace = 250 * time.Millisecond

// Config says what to check. The zero value checks nothing: every section is
// not_configured.
type Config struct {
	// Database measures the monitored database (the store's Health); nil: not_configured.
	// It must honour its context: Run returns only after every check it started has.
	Database func(ctx context.Context) (syncs.DatabaseHealth, error)
	// RedisURL is the Redis server whose memory and clients are shown; "": not_configured.
	// Resolve REDIS_URL against CELERY_BROKER_URL with RedisURLFrom.
	RedisURL string
	// BrokerURL is CELERY_BROKER_URL: redis://, rediss://, unix:// (Redis) or amqp://,
	// amqps://, pyamqp://, librabbitmq:// (RabbitMQ). "" or another broker:
	// not_configured.
	BrokerURL string
	// RabbitMQManagementURL is RabbitMQ's management API, for example
	// http://user:password@host:15672/; with an AMQP broker it adds messages,
	// connections, memory and alarms to the rabbitmq section. Optional.
	RabbitMQManagementURL string
	// DefaultQueue is CELERY_TASK_DEFAULT_QUEUE, counted even when no worker consumes it;
	// "" means "celery".
	DefaultQueue string
	// KeyPrefix is kombu's global_keyprefix transport option.
	KeyPrefix string
	// Endpoints are optional HTTP checks, for the CRM APIs; none by default.
	Endpoints []EndpointConfig
	// Interval is the time between background checks; 0 means DefaultInterval.
	Interval time.Duration
	// Timeout bounds each check; 0 means DefaultTimeout.
	Timeout time.Duration
	// QueueGrowthThreshold is how much pending_tasks must grow over the last three
	// checks, rising at each, to make celery degraded; 0 means DefaultQueueGrowthThreshold.
	QueueGrowthThreshold int64
	// Logger receives status changes (never secrets); nil discards them.
	Logger *slog.Logger
	// Clock is the time of the background interval, of CheckNow's coalescing and wait,
	// and of checked_at; nil means the system's clock. Timeouts of network calls and the
	// round trips reported are on the system's clock whatever this is.
	Clock clock.Clock
}

// Monitor runs the checks in the background and on demand and keeps their latest results.
type Monitor struct {
	cfg       Config
	log       *slog.Logger
	clock     clock.Clock
	redis     *redisChecker    // nil: not configured
	broker    broker           // nil: not configured
	brokerWhy string           // why celery is not configured
	rabbitmq  *rabbitmqChecker // nil unless the broker is RabbitMQ
	endpoints []*endpointChecker
	celery    *celeryState // touched only by the one run in flight
	rules     celeryRules
	reports   feed.Feed[Report]

	// The components whose check is still running, perhaps from an earlier run.
	databaseBusy, redisBusy, brokerBusy, rabbitmqBusy atomic.Bool
	endpointBusy                                      []atomic.Bool

	life context.Context // cancelled when the monitor closes
	stop context.CancelFunc

	mu       sync.Mutex
	report   Report
	inflight *checkRun
	lastEnd  time.Time // clock time when the last run finished
	closed   bool
	// owned counts every goroutine the monitor started: runs and the checks in them.
	// Goroutines are added only under mu while not closed, so close can wait for all.
	owned sync.WaitGroup
}

// checkRun is one round of checks, shared by every caller that waits for it.
type checkRun struct{ done chan struct{} }

// NewMonitor validates the configuration and prepares the clients; it connects to
// nothing. Its errors never contain a password.
func NewMonitor(cfg Config) (*Monitor, error) {
	if cfg.Interval < 0 || cfg.Timeout < 0 || cfg.QueueGrowthThreshold < 0 {
		return nil, errors.New("health: interval, timeout and growth threshold must not be negative")
	}
	if cfg.Interval == 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.QueueGrowthThreshold == 0 {
		cfg.QueueGrowthThreshold = DefaultQueueGrowthThreshold
	}
	if cfg.DefaultQueue = strings.TrimSpace(cfg.DefaultQueue); cfg.DefaultQueue == "" {
		cfg.DefaultQueue = "celery"
	}
	m := &Monitor{cfg: cfg, log: cfg.Logger, clock: clock.OrReal(cfg.Clock), celery: newCeleryState()}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	m.rules = celeryRules{timeout: cfg.Timeout, growthThreshold: cfg.QueueGrowthThreshold, defaultQueue: cfg.DefaultQueue}

	if s := strings.TrimSpace(cfg.RedisURL); s != "" {
		ep, err := parseRedisURL(s)
		if err != nil {
			return nil, fmt.Errorf("health: redis url: %w", err)
		}
		m.redis = newRedisChecker(ep, cfg.Timeout)
	}
	setup, err := newBroker(cfg)
	if err != nil {
		m.closeClients()
		return nil, fmt.Errorf("health: %w", err)
	}
	m.broker, m.brokerWhy, m.rabbitmq = setup.broker, setup.why, setup.rabbitmq
	if m.broker != nil {
		m.rules.secrets = m.broker.secrets()
	}
	for _, ec := range cfg.Endpoints {
		c, err := newEndpointChecker(ec, cfg.Timeout)
		if err != nil {
			m.closeClients()
			return nil, fmt.Errorf("health: %w", err)
		}
		m.endpoints = append(m.endpoints, c)
	}
	m.endpointBusy = make([]atomic.Bool, len(m.endpoints))
	m.life, m.stop = context.WithCancel(context.Background())
	m.report = m.initialReport()
	return m, nil
}

// initialReport is what Report returns before the first check: configured components
// are pending (status degraded, "not checked yet", checked_at null).
func (m *Monitor) initialReport() Report {
	pending := Check{Status: StatusDegraded, Warnings: []string{"not checked yet"}, Pending: true}
	notConfigured := Check{Status: StatusNotConfigured}
	var rep Report
	rep.Database.Check = notConfigured
	if m.cfg.Database != nil {
		rep.Database.Check = pending
	}
	rep.Redis.Check = notConfigured
	if m.redis != nil {
		rep.Redis.Check, rep.Redis.Server = pending, m.redis.display
	}
	rep.Celery.Check = Check{Status: StatusNotConfigured, Error: m.brokerWhy}
	if m.broker != nil {
		rep.Celery.Check, rep.Celery.Broker, rep.Celery.BrokerType = pending, m.broker.display(), m.broker.kind()
	}
	if m.rabbitmq != nil {
		rep.RabbitMQ = &RabbitMQReport{Check: pending, Server: m.rabbitmq.display}
		if m.rabbitmq.mgmt != nil {
			rep.RabbitMQ.Management = m.rabbitmq.mgmt.display
		}
	}
	for _, e := range m.endpoints {
		rep.Endpoints = append(rep.Endpoints, EndpointReport{Check: pending, Name: e.cfg.Name, URL: e.display, ExpectedStatus: e.cfg.ExpectedStatus})
	}
	return rep
}

// Run checks everything at once, then every Interval, until ctx is done. Then it waits
// for every check it or CheckNow started to return, closes the clients and the feed of
// Subscribe, and returns. Call it once. Before serving, a caller may call CheckNow to
// have first results instead of pending ones.
func (m *Monitor) Run(ctx context.Context) {
	defer m.close()
	ticker := m.clock.NewTicker(m.cfg.Interval)
	defer ticker.Stop()
	for {
		m.mu.Lock()
		run := m.startLocked()
		m.mu.Unlock()
		if run != nil {
			select {
			case <-run.done:
			case <-ctx.Done():
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C():
		}
	}
}

// Report returns the latest results at once, without waiting for a check in flight.
func (m *Monitor) Report() Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.report
}

// Subscribe returns a subscription that receives every report a round of checks
// stores, the latest one first if there is one; a subscriber that falls behind gets the
// newest and never delays a check. Its channel is closed when Run returns. Close the
// subscription when done with it.
func (m *Monitor) Subscribe() *feed.Subscription[Report] { return m.reports.Subscribe() }

// CheckNow runs every check now and returns the results. Concurrent callers share one
// run; a call within 2 s (by Config.Clock) after the previous run finished returns that
// run's results without checking again. It returns within Timeout plus half a second
// even if a service hangs, or when ctx is done, with the latest results it has.
func (m *Monitor) CheckNow(ctx context.Context) Report {
	m.mu.Lock()
	run := m.inflight
	if run == nil && (m.lastEnd.IsZero() || m.clock.Now().Sub(m.lastEnd) >= minCheckGap) {
		run = m.startLocked()
	}
	m.mu.Unlock()
	if run != nil {
		timer := m.clock.NewTimer(m.cfg.Timeout + runGrace + cleanupTimeout)
		defer timer.Stop()
		select {
		case <-run.done:
		case <-ctx.Done():
		case <-timer.C():
		}
	}
	return m.Report()
}

// goLocked starts f in a goroutine the monitor owns, unless the monitor is closed.
// m.mu is held.
func (m *Monitor) goLocked(f func()) bool {
	if m.closed {
		return false
	}
	m.owned.Go(f)
	return true
}

// goOwned is goLocked for a caller that does not hold m.mu.
func (m *Monitor) goOwned(f func()) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.goLocked(f)
}

// startLocked joins the run in flight or starts one; nil once closed. m.mu is held.
func (m *Monitor) startLocked() *checkRun {
	if m.inflight != nil {
		return m.inflight
	}
	run := &checkRun{done: make(chan struct{})}
	started := m.goLocked(func() {
		defer close(run.done)
		rep := m.runChecks(m.life)
		m.mu.Lock()
		prev := m.report
		// A run cut short by close says nothing about the services: keep the last results.
		stored := m.life.Err() == nil
		if stored {
			m.report = rep
			m.reports.Publish(rep) // never blocks; under mu, so runs publish in order
		}
		m.inflight, m.lastEnd = nil, m.clock.Now()
		m.mu.Unlock()
		if stored {
			m.logChanges(prev, rep)
		}
	})
	if !started {
		return nil
	}
	m.inflight = run
	return run
}

// runChecks checks every configured component at once, each bounded by the timeout.
// Only one run is in flight at a time, so the celery memory is never raced.
func (m *Monitor) runChecks(ctx context.Context) Report {
	rep := m.initialReport()
	timeout := m.cfg.Timeout
	var wg sync.WaitGroup
	if m.cfg.Database != nil {
		wg.Go(func() {
			rep.Database = bounded(m, &m.databaseBusy, ctx, func(ctx context.Context) DatabaseReport {
				return checkDatabase(ctx, m.cfg.Database, timeout)
			}, func(c Check) DatabaseReport { return DatabaseReport{Check: c} }, "database")
			rep.Database.CheckedAt = m.stamp()
		})
	}
	if m.redis != nil {
		wg.Go(func() {
			rep.Redis = bounded(m, &m.redisBusy, ctx, m.redis.check, func(c Check) RedisReport { return RedisReport{Check: c} }, "redis")
			rep.Redis.Server = m.redis.display
			rep.Redis.CheckedAt = m.stamp()
		})
	}
	if m.broker != nil {
		known := m.celery.knownQueues(m.cfg.DefaultQueue)
		wg.Go(func() {
			meas := bounded(m, &m.brokerBusy, ctx, func(ctx context.Context) celeryMeasurement {
				return m.broker.measure(ctx, timeout, known)
			}, func(c Check) celeryMeasurement {
				return celeryMeasurement{err: errors.New(c.Error)}
			}, "broker")
			rep.Celery = m.celery.judge(meas, m.rules, m.clock.Now().UTC())
			rep.Celery.Broker, rep.Celery.BrokerType = m.broker.display(), m.broker.kind()
			rep.Celery.CheckedAt = m.stamp()
		})
	}
	if m.rabbitmq != nil {
		wg.Go(func() {
			r := bounded(m, &m.rabbitmqBusy, ctx, m.rabbitmq.check, func(c Check) RabbitMQReport {
				return RabbitMQReport{Check: c, Server: m.rabbitmq.display}
			}, "rabbitmq")
			r.CheckedAt = m.stamp()
			rep.RabbitMQ = &r
		})
	}
	for i, e := range m.endpoints {
		wg.Go(func() {
			r := bounded(m, &m.endpointBusy[i], ctx, e.check, func(c Check) EndpointReport {
				return EndpointReport{Check: c, Name: e.cfg.Name, URL: e.display, ExpectedStatus: e.cfg.ExpectedStatus}
			}, e.cfg.Name)
			r.CheckedAt = m.stamp()
			rep.Endpoints[i] = r
		})
	}
	wg.Wait()
	return rep
}

func (m *Monitor) stamp() *time.Time {
	t := m.clock.Now().UTC()
	return &t
}

// bounded runs check in a goroutine the monitor owns, with a context that ends after
// the timeout, and returns its result; or late(a timed-out Check naming what) when check
// has not returned a little after that (runGrace), so that a check that ignores its
// context holds neither the run nor its callers. The goroutine stays the monitor's until
// check returns, and close waits for it. Until then busy stays set, and later runs
// report the component late at once instead of piling another goroutine behind it.
func bounded[T any](m *Monitor, busy *atomic.Bool, ctx context.Context, check func(context.Context) T, late func(Check) T, what string) T {
	timeout := m.cfg.Timeout
	if !busy.CompareAndSwap(false, true) {
		return late(stillRunningCheck(what, timeout))
	}
	results := make(chan T, 1)
	ctx, cancel := context.WithTimeout(ctx, timeout)
	if !m.goOwned(func() {
		r := check(ctx)
		cancel()
		busy.Store(false) // before the result is handed over, so the next run finds it free
		results <- r
	}) {
		cancel()
		busy.Store(false)
		return late(Check{Status: StatusUnhealthy, Error: what + ": check cancelled"})
	}
	timer := time.NewTimer(timeout + runGrace) // on the system's clock, like the check's timeout
	defer timer.Stop()
	select {
	case r := <-results:
		return r
	case <-timer.C:
		return late(lateCheck(what, timeout))
	}
}

// logChanges logs each component whose status changed, with its reason.
func (m *Monitor) logChanges(prev, cur Report) {
	type pair struct {
		name     string
		from, to Check
	}
	pairs := []pair{
		{name: "database", from: prev.Database.Check, to: cur.Database.Check},
		{name: "redis", from: prev.Redis.Check, to: cur.Redis.Check},
		{name: "celery", from: prev.Celery.Check, to: cur.Celery.Check},
	}
	if cur.RabbitMQ != nil && prev.RabbitMQ != nil {
		pairs = append(pairs, pair{name: "rabbitmq", from: prev.RabbitMQ.Check, to: cur.RabbitMQ.Check})
	}
	for i, e := range cur.Endpoints {
		p := pair{name: "endpoint " + e.Name, to: e.Check}
		if i < len(prev.Endpoints) {
			p.from = prev.Endpoints[i].Check
		}
		pairs = append(pairs, p)
	}
	for _, p := range pairs {
		if p.from.Status == p.to.Status && !p.from.Pending {
			continue
		}
		level := slog.LevelInfo
		if p.to.Status == StatusUnhealthy || p.to.Status == StatusDegraded {
			level = slog.LevelWarn
		}
		m.log.Log(context.Background(), level, "health status", "component", p.name,
			"status", string(p.to.Status), "reason", p.to.Error, "warnings", strings.Join(p.to.Warnings, "; "))
	}
}

// close stops the checks, waits for every goroutine the monitor started (a check that
// ignores its context delays it), then closes the clients and the feed.
func (m *Monitor) close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	m.mu.Unlock()
	m.stop()
	m.owned.Wait()
	m.closeClients()
	m.reports.Close()
}

func (m *Monitor) closeClients() {
	if m.redis != nil {
		m.redis.conn.close()
	}
	if m.broker != nil {
		m.broker.close()
	}
	if m.rabbitmq != nil && m.rabbitmq.mgmt != nil {
		m.rabbitmq.mgmt.close()
	}
	for _, e := range m.endpoints {
		e.close()
	}
}
