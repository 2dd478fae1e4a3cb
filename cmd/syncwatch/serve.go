package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/metrics"
	"github.com/syncwatch/syncwatch/internal/postgres"
	"github.com/syncwatch/syncwatch/internal/syncs"
	"github.com/syncwatch/syncwatch/internal/web"
)

// serveConfig is the configuration of "syncwatch serve": flags whose defaults come from
// the environment, so the variables the Django application already uses work unchanged.
type serveConfig struct {
	addr             string
	databaseURL      string
	basePath         string
	refresh          time.Duration
	timeZone         string
	stuckAfter       time.Duration
	overdueGrace     time.Duration
	sources          string
	statementTimeout time.Duration
	shutdownGrace    time.Duration
	logLevel         string

	brokerURL      string
	rabbitmqMgmt   string
	redisURL       string
	defaultQueue   string
	keyPrefix      string
	healthInterval time.Duration
	healthTimeout  time.Duration
	endpoints      string

	sqlitePath   string
	demo         bool
	demoInterval time.Duration

	metricsMaxEntities int

	access accessConfig
	alerts alertConfig
}

func (c *serveConfig) flags(fs *flag.FlagSet, e *env) {
	fs.StringVar(&c.addr, "addr", e.str("SYNCWATCH_ADDR", "127.0.0.1:8000"),
		"address to listen on (env SYNCWATCH_ADDR)")
	e.secret(fs, &c.databaseURL, "database-url", "DATABASE_URL",
		"the warehouse's PostgreSQL URL (env DATABASE_URL)")
	fs.StringVar(&c.basePath, "base-path", e.str("SYNCWATCH_BASE_PATH", "/ingestion/monitoring/"),
		"URL path of the page and the API (env SYNCWATCH_BASE_PATH)")
	fs.DurationVar(&c.refresh, "refresh", e.duration("SYNCWATCH_REFRESH_INTERVAL", 30*time.Second),
		"how often figures are recomputed and the page refreshes (env SYNCWATCH_REFRESH_INTERVAL)")
	fs.StringVar(&c.timeZone, "timezone", e.str("SYNCWATCH_TIMEZONE", "UTC"),
		"IANA time zone that cuts the charts' days (env SYNCWATCH_TIMEZONE)")
	fs.DurationVar(&c.stuckAfter, "stuck-after", e.duration("SYNCWATCH_STUCK_AFTER", 60*time.Minute),
		"a running sync older than this is stuck (env SYNCWATCH_STUCK_AFTER)")
	fs.DurationVar(&c.overdueGrace, "overdue-grace", e.duration("SYNCWATCH_OVERDUE_GRACE", 10*time.Minute),
		"how late a scheduled run may start before it is overdue (env SYNCWATCH_OVERDUE_GRACE)")
	fs.StringVar(&c.sources, "sources", e.getenv("SYNCWATCH_SOURCES"),
		"comma-separated CRM sources shown first, in order (env SYNCWATCH_SOURCES; default the ten known CRMs)")
	fs.DurationVar(&c.statementTimeout, "statement-timeout", e.duration("SYNCWATCH_STATEMENT_TIMEOUT", 10*time.Second),
		"server-side limit on every query (env SYNCWATCH_STATEMENT_TIMEOUT)")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", e.duration("SYNCWATCH_SHUTDOWN_GRACE", 10*time.Second),
		"how long requests in flight may finish after SIGTERM before they are stopped (env SYNCWATCH_SHUTDOWN_GRACE)")
	fs.StringVar(&c.logLevel, "log-level", e.str("SYNCWATCH_LOG_LEVEL", "info"),
		"debug, info, warn or error (env SYNCWATCH_LOG_LEVEL)")
	e.secret(fs, &c.brokerURL, "celery-broker-url", "CELERY_BROKER_URL",
		"the Celery broker: redis://, rediss://, unix:// (Redis) or amqp://, amqps://, pyamqp:// (RabbitMQ) (env CELERY_BROKER_URL)")
	e.secret(fs, &c.rabbitmqMgmt, "rabbitmq-management-url", "SYNCWATCH_RABBITMQ_MANAGEMENT_URL",
		"optional, with a RabbitMQ broker: its management API, e.g. http://user:password@host:15672/, for messages, connections and memory (env SYNCWATCH_RABBITMQ_MANAGEMENT_URL)")
	e.secret(fs, &c.redisURL, "redis-url", "REDIS_URL",
		"the Redis server to report on (env REDIS_URL; default the broker)")
	fs.StringVar(&c.defaultQueue, "celery-queue", e.str("CELERY_TASK_DEFAULT_QUEUE", "celery"),
		"the task queue counted even when no worker consumes it (env CELERY_TASK_DEFAULT_QUEUE)")
	fs.StringVar(&c.keyPrefix, "celery-key-prefix", e.getenv("SYNCWATCH_CELERY_KEY_PREFIX"),
		"kombu's global_keyprefix transport option, if the workers use one (env SYNCWATCH_CELERY_KEY_PREFIX)")
	fs.DurationVar(&c.healthInterval, "health-interval", e.duration("SYNCWATCH_HEALTH_INTERVAL", 15*time.Second),
		"how often PostgreSQL, Redis and the workers are checked (env SYNCWATCH_HEALTH_INTERVAL)")
	fs.DurationVar(&c.healthTimeout, "health-timeout", e.duration("SYNCWATCH_HEALTH_TIMEOUT", 2*time.Second),
		"how long each health check may take (env SYNCWATCH_HEALTH_TIMEOUT)")
	fs.StringVar(&c.endpoints, "health-endpoints", e.getenv("SYNCWATCH_HEALTH_ENDPOINTS"),
		"optional HTTP checks of the CRM APIs: name=url[=expected status], separated by ';' (env SYNCWATCH_HEALTH_ENDPOINTS)")
	fs.StringVar(&c.sqlitePath, "sqlite-path", e.str("SYNCWATCH_SQLITE_PATH", defaultSQLitePath(e.getenv)),
		"the embedded database used without DATABASE_URL (env SYNCWATCH_SQLITE_PATH)")
	fs.BoolVar(&c.demo, "demo", e.booleanOr("SYNCWATCH_DEMO", true),
		"without DATABASE_URL, simulate syncs in the embedded database (env SYNCWATCH_DEMO); never with DATABASE_URL")
	fs.DurationVar(&c.demoInterval, "demo-interval", e.duration("SYNCWATCH_DEMO_INTERVAL", 5*time.Second),
		"how often the demo's simulator starts or finishes a run (env SYNCWATCH_DEMO_INTERVAL)")
	fs.IntVar(&c.metricsMaxEntities, "metrics-max-entities", e.integer("SYNCWATCH_METRICS_MAX_ENTITIES", metrics.DefaultMaxEntities),
		"how many (crm, sync_type) pairs get series of their own in /metrics; the rest count under sync_type=\"other\" (env SYNCWATCH_METRICS_MAX_ENTITIES)")
	c.access.flags(fs, e)
	c.alerts.flags(fs, e)
}

// parseEndpoints reads "HubSpot=https://api.hubapi.com/=200;CallRail=https://…".
func parseEndpoints(s string) ([]health.EndpointConfig, error) {
	var out []health.EndpointConfig
	for _, item := range strings.Split(s, ";") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		name, rest, ok := strings.Cut(item, "=")
		if !ok || strings.TrimSpace(name) == "" || rest == "" {
			return nil, fmt.Errorf("--health-endpoints: %q is not name=url[=status]", name)
		}
		ep := health.EndpointConfig{Name: strings.TrimSpace(name), URL: rest}
		if i := strings.LastIndex(rest, "="); i > 0 {
			if code, err := strconv.Atoi(rest[i+1:]); err == nil && code >= 100 && code <= 599 {
				ep.URL, ep.ExpectedStatus = rest[:i], code
			}
		}
		if !strings.HasPrefix(ep.URL, "http://") && !strings.HasPrefix(ep.URL, "https://") {
			return nil, fmt.Errorf("--health-endpoints: the URL of %q must start with http:// or https://", ep.Name)
		}
		out = append(out, ep)
	}
	return out, nil
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg serveConfig
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	e := &env{getenv: getenv}
	cfg.flags(fs, e)
	if err := e.parse(fs, args, stderr); err != nil {
		return err
	}
	logger, err := newLogger(stderr, cfg.logLevel)
	if err != nil {
		return err
	}
	loc, err := time.LoadLocation(cfg.timeZone)
	if err != nil {
		return fmt.Errorf("--timezone: unknown time zone %q", cfg.timeZone)
	}
	if err := cfg.validate(); err != nil {
		return err
	}
	if cfg.metricsMaxEntities < 1 {
		return fmt.Errorf("--metrics-max-entities: %d must be at least 1", cfg.metricsMaxEntities)
	}
	auth, err := cfg.access.auth(cfg.addr)
	if err != nil {
		return err
	}
	if auth == nil && !isLoopback(cfg.addr) {
		logger.Warn("serving WITHOUT authentication on a network address (--insecure-no-auth): anyone who reaches it sees the sync data", "addr", cfg.addr)
	}

	// Listen before anything else starts, so a port in use is reported at once.
	ln, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return listenError(cfg.addr, err)
	}
	defer ln.Close()

	// Everything that runs in the background (the figures, the health checks, the demo's
	// simulator) stops before the store closes, and after the requests in flight have
	// been answered or stopped: a request waiting for figures gets them during the
	// shutdown's grace, and a CSV export still running after it ends its file saying
	// where it stopped.
	store, simulate, err := openStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer store.Close()
	checkWarehouse(ctx, store, logger)
	bgCtx, stopBackground := context.WithCancel(context.WithoutCancel(ctx))
	var background sync.WaitGroup
	defer background.Wait()
	defer stopBackground()
	if simulate != nil {
		background.Go(func() { simulate(bgCtx) })
	}

	endpoints, err := parseEndpoints(cfg.endpoints)
	if err != nil {
		return err
	}
	monitor, err := health.NewMonitor(health.Config{
		Database:     store.Health,
		RedisURL:     health.RedisURLFrom(cfg.redisURL, cfg.brokerURL),
		BrokerURL:    cfg.brokerURL,
		DefaultQueue: cfg.defaultQueue,
		// RabbitMQ's management API, read only when the broker is RabbitMQ.
		RabbitMQManagementURL: cfg.rabbitmqMgmt,
		KeyPrefix:             cfg.keyPrefix,
		Endpoints:             endpoints,
		Interval:              cfg.healthInterval,
		Timeout:               cfg.healthTimeout,
		Logger:                logger,
	})
	if err != nil {
		return err
	}

	dash, err := dashboard.New(dashboard.Config{
		Store:           store,
		Health:          monitor,
		Sources:         splitList(cfg.sources),
		Location:        loc,
		StuckAfter:      cfg.stuckAfter,
		RefreshInterval: cfg.refresh,
		OverdueGrace:    cfg.overdueGrace,
		// empty_runs' K: the dashboard marks the entities, the alerts fire on the mark.
		EmptyRunsAfter: cfg.alerts.emptyRuns,
		// A refresh is a few rounds of statements, each bounded by the server; a hung
		// connection (a frozen host) is bounded here, so refreshes resume soon after.
		ComputeTimeout: 3 * cfg.statementTimeout,
		// A history page or export batch stops searching within one statement timeout,
		// and answers what it found.
		SearchBudget: min(5*time.Second, cfg.statementTimeout),
		Logger:       logger,
	})
	if err != nil {
		return err
	}
	hostport, note := servingAddress(cfg.addr, ln.Addr())
	var alertsView web.Alerts
	var alertCounts metrics.AlertSource // an interface: nil, not a nil engine, when off
	if cfg.alerts.enabled {
		setup, err := cfg.alerts.newAlerts(ctx, cfg, cfg.alerts.pageURL(hostport, cfg.basePath), logger)
		if err != nil {
			return err
		}
		alertsView, alertCounts = setup.engine, setup.engine
		// The alerts subscribe before the figures are first computed, and stop when the
		// dashboard does; their state file closes after them.
		snapshots := dash.Subscribe()
		background.Go(func() {
			defer setup.close()
			defer snapshots.Close()
			setup.engine.Run(bgCtx, snapshots.C())
		})
	}
	exporter, err := metrics.New(metrics.Config{
		Snapshots:   dash,
		MaxEntities: cfg.metricsMaxEntities,
		Alerts:      alertCounts,
		Logger:      logger,
	})
	if err != nil {
		return err
	}
	handler, err := web.NewServer(web.Config{
		BasePath:  cfg.basePath,
		Figures:   dash,
		Drilldown: dash,
		Alerts:    alertsView,
		// Readiness is the health monitor's latest database check: /readyz is open to
		// anyone, and must not let them spend the pool's connections.
		Ready: func(context.Context) error {
			db := monitor.Report().Database
			if db.Pending || (db.Status != health.StatusHealthy && db.Status != health.StatusDegraded) {
				return fmt.Errorf("database %s: %s", db.Status, db.Error)
			}
			return nil
		},
		Version: buildVersion(),
		Logger:  logger,
		Auth:    auth,
		Metrics: exporter.Handler(),
	})
	if err != nil {
		return err
	}
	// Requests' contexts end when the shutdown's grace has passed (not at the signal):
	// what still runs then stops, and says so, before the store closes.
	requestsCtx, stopRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRequests()
	srv := &http.Server{
		Handler:           handler,
		BaseContext:       func(net.Listener) context.Context { return requestsCtx },
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	background.Go(func() { dash.Run(bgCtx) })
	background.Go(func() { monitor.Run(bgCtx) })
	background.Go(func() { exporter.Run(bgCtx) })

	fmt.Fprintf(stdout, "syncwatch %s: serving http://%s%s\n", buildVersion(), hostport, handler.BasePath())
	if note != "" {
		fmt.Fprintf(stdout, "(%s)\n", note)
	}
	if cfg.databaseURL == "" {
		fmt.Fprintf(stdout, "This is a demo on an embedded database (%s)%s.\n"+
			"To watch your warehouse, set DATABASE_URL to its PostgreSQL URL.\n",
			cfg.sqlitePath, map[bool]string{true: " with simulated syncs", false: ""}[simulate != nil])
	}

	serveErr := make(chan error, 1)
	background.Go(func() { serveErr <- srv.Serve(ln) })
	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: finishing requests in flight", "grace", cfg.shutdownGrace)
	graceCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cfg.shutdownGrace)
	defer cancel()
	err = srv.Shutdown(graceCtx)
	if !errors.Is(err, context.DeadlineExceeded) {
		if err != nil {
			return fmt.Errorf("shutdown: %w", err)
		}
		return nil
	}
	// The grace has passed: the requests still running (a long CSV export, figures that
	// wait on a locked table) are stopped through their context, and answer what they
	// can; their connections close once they have. Shutdown is asked again to wait for
	// that, briefly, and then closes what remains.
	logger.Warn("shutdown: requests still running after the grace; stopping them", "grace", cfg.shutdownGrace)
	stopRequests()
	stopCtx, cancelStop := context.WithTimeout(context.WithoutCancel(ctx), stopWait)
	defer cancelStop()
	if err := srv.Shutdown(stopCtx); errors.Is(err, context.DeadlineExceeded) {
		_ = srv.Close()
	}
	return nil
}

// stopWait is how long requests stopped at the end of the shutdown's grace may take to
// answer: a query cancelled, a last line written.
const stopWait = 5 * time.Second

// checkWarehouse checks the tables once at start-up and logs one clear line: ready, or
// what is wrong and how to fix it. Either way syncwatch serves, and says the same in its
// health section and answers until the warehouse is fixed.
func checkWarehouse(ctx context.Context, store syncs.Store, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	h, err := store.Health(ctx)
	why, _ := syncs.Reason(err)
	switch {
	case errors.Is(err, syncs.ErrNotReady):
		logger.Error("the warehouse is not as syncwatch needs it: "+why, "err", err)
	case err != nil && why != "":
		logger.Warn("the warehouse cannot be reached yet: "+why+"; syncwatch keeps trying", "err", err)
	case err != nil:
		logger.Warn("the warehouse cannot be checked", "err", err)
	case len(h.Warnings) > 0:
		logger.Warn("warehouse readable, with a problem: "+strings.Join(h.Warnings, "; "), "database", h.Label)
	default:
		logger.Info("warehouse ready", "database", h.Label)
	}
}

// openStore opens the warehouse's database, or, without one, the embedded demo database
// (which alone may be written to, by the simulator).
func openStore(ctx context.Context, cfg serveConfig, logger *slog.Logger) (syncs.Store, func(context.Context), error) {
	if cfg.databaseURL != "" {
		store, err := postgres.Open(ctx, cfg.databaseURL, postgres.Options{StatementTimeout: cfg.statementTimeout})
		return store, nil, err
	}
	return openDemo(ctx, cfg.sqlitePath, cfg.demo, cfg.demoInterval, logger)
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %q is not debug, info, warn or error", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

// env reads flag defaults from the environment and remembers the values it could not
// read, so that a typo in a variable is an error, not a silent default.
type env struct {
	getenv  func(string) string
	errs    []error
	secrets []secretFlag
}

func (e *env) str(key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}

func (e *env) duration(key string, def time.Duration) time.Duration {
	v := e.getenv(key)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %q is not a duration such as 30s or 5m", key, v))
		return def
	}
	return d
}

func (e *env) integer(key string, def int) int {
	v := e.getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %q is not a whole number", key, v))
		return def
	}
	return n
}

// secret declares a flag whose value may hold a password (a URL, a token). Its default is
// not shown in the help or in a flag error, as the flag package would show it: the
// variable is read only after the flags, when the flag was not given.
func (e *env) secret(fs *flag.FlagSet, p *string, name, key, usage string) {
	fs.StringVar(p, name, "", usage)
	e.secrets = append(e.secrets, secretFlag{p: p, key: key})
}

type secretFlag struct {
	p   *string
	key string
}

// parse parses the flags, then fills the secret ones from the environment, and reports
// the variables that could not be read.
func (e *env) parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	if err := parseFlags(fs, args, stderr); err != nil {
		return err
	}
	for _, s := range e.secrets {
		if *s.p == "" {
			*s.p = e.getenv(s.key)
		}
	}
	return errors.Join(e.errs...)
}

func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
