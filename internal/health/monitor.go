package health

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/syncwatch/syncwatch/internal/feed"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// Status is a component's health, in the words of the API contract.
type Status string

// The four status words.
const (
	StatusHealthy       Status = "healthy"
	StatusDegraded      Status = "degraded"
	StatusUnhealthy     Status = "unhealthy"
	StatusNotConfigured Status = "not_configured"
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
	Database func(ctx context.Context) (syncs.DatabaseHealth, error)
	// RedisURL is the Redis server whose memory and clients are shown; "": not_configured.
	// Resolve REDIS_URL against CELERY_BROKER_URL with RedisURLFrom.
	RedisURL string
	// BrokerURL is CELERY_BROKER_URL. "" or a broker other than Redis: not_configured.
	BrokerURL string
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
	// Now is the clock of checked_at and of CheckNow's coalescing; nil means time.Now.
	Now func() time.Time
}

// Check is what every component report carries.
type Check struct {
	Status Status `json:"status"`
	// Error is the short reason of unhealthy (or of not_configured), without secrets.
	Error string `json:"error,omitempty"`
	// Warnings are the reasons of degraded.
	Warnings []string `json:"warnings,omitempty"`
	// CheckedAt is when the check finished, in UTC; null before the first check.
	CheckedAt *time.Time `json:"checked_at"`
	// Pending is true until the component's first check has finished.
	Pending bool `json:"pending,omitempty"`
}

// Report is the latest result of every check. Its slices are shared between callers:
// treat a Report as read-only.
type Report struct {
	Database  DatabaseReport   `json:"database"`
	Celery    CeleryReport     `json:"celery"`
	Redis     RedisReport      `json:"redis"`
	Endpoints []EndpointReport `json:"endpoints,omitempty"`
}

// Monitor runs the checks in the background and on demand and keeps their latest results.
type Monitor struct {
	cfg       Config
	log       *slog.Logger
	now       func() time.Time
	redis     *redisChecker // nil: not configured
	broker    *celeryBroker // nil: not configured
	brokerWhy string        // why celery is not configured
	endpoints []*endpointChecker
	celery    *celeryState // touched only by the one run in flight
	rules     celeryRules

	life context.Context // cancelled when the monitor closes
	stop context.CancelFunc

	// updates hands each stored report to the subscribers.
	updates feed.Feed[Report]

	mu       sync.Mutex
	report   Report
	inflight *checkRun
	lastEnd  time.Time // m.now() when the last run finished
	closed   bool
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
	m := &Monitor{cfg: cfg, log: cfg.Logger, now: cfg.Now, celery: newCeleryState()}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	if m.now == nil {
		m.now = time.Now
	}
	m.rules = celeryRules{timeout: cfg.Timeout, growthThreshold: cfg.QueueGrowthThreshold, defaultQueue: cfg.DefaultQueue}

	if s := strings.TrimSpace(cfg.RedisURL); s != "" {
		ep, err := parseRedisURL(s)
		if err != nil {
			return nil, fmt.Errorf("health: redis url: %w", err)
		}
		m.redis = newRedisChecker(ep, cfg.Timeout)
	}
	broker, _, _ := strings.Cut(strings.TrimSpace(cfg.BrokerURL), ";") // failover list: the first
	switch scheme := schemeOf(broker); {
	case broker == "":
	case isRedisScheme(scheme):
		ep, err := parseRedisURL(broker)
		if err != nil {
			return nil, fmt.Errorf("health: broker url: %w", err)
		}
		m.broker = &celeryBroker{
			conn:     newRedisConn(ep, cfg.Timeout),
			names:    kombuNames{prefix: cfg.KeyPrefix, db: ep.DB},
			display:  ep.Display,
			password: ep.Password,
		}
		m.rules.password = ep.Password
	default:
		m.brokerWhy = "only Redis brokers are supported"
	}
	for _, ec := range cfg.Endpoints {
		c, err := newEndpointChecker(ec, cfg.Timeout)
		if err != nil {
			return nil, fmt.Errorf("health: %w", err)
		}
		m.endpoints = append(m.endpoints, c)
	}
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
		rep.Celery.Check, rep.Celery.Broker = pending, m.broker.display
	}
	for _, e := range m.endpoints {
		rep.Endpoints = append(rep.Endpoints, EndpointReport{Check: pending, Name: e.cfg.Name, URL: e.display, ExpectedStatus: e.cfg.ExpectedStatus})
	}
	return rep
}

// Run checks everything at once, then every Interval, until ctx is done; then it closes
// the clients. Call it once. Before serving, a caller may call CheckNow to have first
// results instead of pending ones.
func (m *Monitor) Run(ctx context.Context) {
	defer m.updates.Close()
	defer m.close()
	ticker := time.NewTicker(m.cfg.Interval)
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
		case <-ticker.C:
		}
	}
}

// Subscribe returns a subscription to the monitor's readings: each report stored after a
// round of checks. Its channel is closed when Run returns.
func (m *Monitor) Subscribe() *feed.Subscription[Report] { return m.updates.Subscribe() }

// Report returns the latest results at once, without waiting for a check in flight.
func (m *Monitor) Report() Report {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.report
}

// CheckNow runs every check now and returns the results. Concurrent callers share one
// run; a call within 2 s (by Config.Now) after the previous run finished returns that
// run's results without checking again. It returns within Timeout plus a quarter second
// even if a service hangs, or when ctx is done, with the latest results it has.
func (m *Monitor) CheckNow(ctx context.Context) Report {
	m.mu.Lock()
	run := m.inflight
	if run == nil && !m.closed && (m.lastEnd.IsZero() || m.now().Sub(m.lastEnd) >= minCheckGap) {
		run = m.startLocked()
	}
	m.mu.Unlock()
	if run != nil {
		timer := time.NewTimer(m.cfg.Timeout + runGrace + cleanupTimeout)
		defer timer.Stop()
		select {
		case <-run.done:
		case <-ctx.Done():
		case <-timer.C:
		}
	}
	return m.Report()
}

// startLocked joins the run in flight or starts one; nil once closed. m.mu is held.
func (m *Monitor) startLocked() *checkRun {
	if m.closed {
		return nil
	}
	if m.inflight != nil {
		return m.inflight
	}
	run := &checkRun{done: make(chan struct{})}
	m.inflight = run
	go func() {
		defer close(run.done)
		rep := m.runChecks(m.life)
		m.mu.Lock()
		prev := m.report
		// A run cut short by close says nothing about the services: keep the last results.
		stored := m.life.Err() == nil
		if stored {
			m.report = rep
		}
		m.inflight, m.lastEnd = nil, m.now()
		m.mu.Unlock()
		if stored {
			m.logChanges(prev, rep)
			m.updates.Publish(rep)
		}
	}()
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
			rep.Database = bounded(ctx, timeout, func(ctx context.Context) DatabaseReport {
				return checkDatabase(ctx, m.cfg.Database, timeout)
			}, func() DatabaseReport {
				return DatabaseReport{Check: lateCheck("database", timeout)}
			})
			rep.Database.CheckedAt = m.stamp()
		})
	}
	if m.redis != nil {
		wg.Go(func() {
			rep.Redis = bounded(ctx, timeout, m.redis.check, func() RedisReport {
				return RedisReport{Check: lateCheck("redis", timeout)}
			})
			rep.Redis.Server = m.redis.display
			rep.Redis.CheckedAt = m.stamp()
		})
	}
	if m.broker != nil {
		known := m.celery.knownQueues(m.cfg.DefaultQueue)
		wg.Go(func() {
			meas := bounded(ctx, timeout, func(ctx context.Context) celeryMeasurement {
				return m.broker.measure(ctx, timeout, known)
			}, func() celeryMeasurement {
				return celeryMeasurement{err: fmt.Errorf("broker: %w", context.DeadlineExceeded)}
			})
			rep.Celery = m.celery.judge(meas, m.rules, m.now().UTC())
			rep.Celery.Broker = m.broker.display
			rep.Celery.CheckedAt = m.stamp()
		})
	}
	for i, e := range m.endpoints {
		wg.Go(func() {
			r := bounded(ctx, timeout, e.check, func() EndpointReport {
				return EndpointReport{Check: lateCheck(e.cfg.Name, timeout), Name: e.cfg.Name, URL: e.display, ExpectedStatus: e.cfg.ExpectedStatus}
			})
			r.CheckedAt = m.stamp()
			rep.Endpoints[i] = r
		})
	}
	wg.Wait()
	return rep
}

func lateCheck(what string, timeout time.Duration) Check {
	return Check{Status: StatusUnhealthy, Error: what + ": timed out after " + timeout.String()}
}

func (m *Monitor) stamp() *time.Time {
	t := m.now().UTC()
	return &t
}

// bounded runs check with a context that ends after timeout and returns its result, or
// late() when check has not returned a little after that: a check that ignores its
// context cannot hold a run, nor the callers waiting for it.
func bounded[T any](ctx context.Context, timeout time.Duration, check func(context.Context) T, late func() T) T {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	results := make(chan T, 1)
	go func() {
		defer cancel()
		results <- check(ctx)
	}()
	timer := time.NewTimer(timeout + runGrace)
	defer timer.Stop()
	select {
	case r := <-results:
		return r
	case <-timer.C:
		return late()
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

// close stops the checks, waits briefly for the run in flight and closes the clients.
func (m *Monitor) close() {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return
	}
	m.closed = true
	run := m.inflight
	m.mu.Unlock()
	m.stop()
	if run != nil {
		select {
		case <-run.done:
		case <-time.After(m.cfg.Timeout + runGrace + cleanupTimeout):
		}
	}
	if m.redis != nil {
		m.redis.conn.close()
	}
	if m.broker != nil {
		m.broker.conn.close()
	}
	for _, e := range m.endpoints {
		e.close()
	}
}
