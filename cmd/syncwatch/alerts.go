package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/syncwatch/syncwatch/internal/alerts"
	"github.com/syncwatch/syncwatch/internal/health"
	"github.com/syncwatch/syncwatch/internal/notify"
)

// alertmanagerResend is how often firing alerts are pushed to Alertmanager again, as
// Prometheus' default resend delay.
const alertmanagerResend = time.Minute

// alertConfig is the configuration of the alerts: the rules' thresholds, the channels
// (under the warehouse's own Django settings names where it has them), and how the
// notifications are kept and coordinated.
type alertConfig struct {
	enabled bool

	failingRuns      int
	staleAfter       time.Duration
	staleAfterCRM    string
	emptyRuns        int
	workersDownFor   time.Duration
	queueBacklog     int64
	queueBacklogFor  time.Duration
	unreachableAfter time.Duration

	repeatInterval time.Duration
	maxPerHour     int
	timeout        time.Duration

	webhookURLs     string
	slackURL        string
	slackChannel    string
	emailTo         string
	emailHost       string
	emailPort       int
	emailUser       string
	emailPassword   string
	emailUseTLS     bool
	emailUseSSL     bool
	emailFrom       string
	alertmanagerURL string
	externalURL     string

	stateDir  string
	lockURL   string
	lockLease time.Duration
}

// deliveryFlags declares the flags of the channels, which "syncwatch alerts test" shares
// with serve.
func (c *alertConfig) deliveryFlags(fs *flag.FlagSet, e *env) {
	e.secret(fs, &c.webhookURLs, "alert-webhook-urls", "ALERT_WEBHOOK_URLS",
		"comma-separated URLs that receive Alertmanager's webhook JSON (env ALERT_WEBHOOK_URLS)")
	e.secret(fs, &c.slackURL, "slack-webhook-url", "SLACK_WEBHOOK_URL",
		"a Slack incoming webhook (env SLACK_WEBHOOK_URL)")
	fs.StringVar(&c.slackChannel, "slack-channel", e.getenv("SLACK_ALERT_CHANNEL"),
		"channel to post to, for legacy Slack webhooks that allow it (env SLACK_ALERT_CHANNEL; default the webhook's own)")
	fs.StringVar(&c.emailTo, "alert-email-recipients", e.getenv("ALERT_EMAIL_RECIPIENTS"),
		"comma-separated addresses that receive alerts by email (env ALERT_EMAIL_RECIPIENTS)")
	fs.StringVar(&c.emailHost, "email-host", e.str("EMAIL_HOST", "localhost"),
		"the SMTP server (env EMAIL_HOST)")
	fs.IntVar(&c.emailPort, "email-port", e.integer("EMAIL_PORT", 25),
		"the SMTP server's port (env EMAIL_PORT)")
	fs.StringVar(&c.emailUser, "email-host-user", e.getenv("EMAIL_HOST_USER"),
		"the SMTP login, if the server wants one (env EMAIL_HOST_USER)")
	e.secret(fs, &c.emailPassword, "email-host-password", "EMAIL_HOST_PASSWORD",
		"the SMTP password (env EMAIL_HOST_PASSWORD)")
	fs.BoolVar(&c.emailUseTLS, "email-use-tls", e.booleanOr("EMAIL_USE_TLS", false),
		"upgrade the SMTP connection with STARTTLS (env EMAIL_USE_TLS)")
	fs.BoolVar(&c.emailUseSSL, "email-use-ssl", e.booleanOr("EMAIL_USE_SSL", false),
		"speak TLS to the SMTP server from the start, usually port 465 (env EMAIL_USE_SSL)")
	fs.StringVar(&c.emailFrom, "default-from-email", e.str("DEFAULT_FROM_EMAIL", "webmaster@localhost"),
		"the sender of alert emails (env DEFAULT_FROM_EMAIL)")
	e.secret(fs, &c.alertmanagerURL, "alertmanager-url", "SYNCWATCH_ALERTMANAGER_URL",
		"an Alertmanager to push alerts to, e.g. http://alertmanager:9093 (env SYNCWATCH_ALERTMANAGER_URL)")
	fs.StringVar(&c.externalURL, "external-url", e.getenv("SYNCWATCH_EXTERNAL_URL"),
		"the page's address as people reach it, for links in messages (env SYNCWATCH_EXTERNAL_URL; default the listening address)")
	fs.DurationVar(&c.timeout, "alert-timeout", e.duration("SYNCWATCH_ALERT_TIMEOUT", 10*time.Second),
		"how long one attempt to deliver a message may take (env SYNCWATCH_ALERT_TIMEOUT)")
}

func (c *alertConfig) flags(fs *flag.FlagSet, e *env) {
	fs.BoolVar(&c.enabled, "alerts", e.booleanOr("SYNCWATCH_ALERTS", true),
		"evaluate the alert rules, show them and send them to the configured channels (env SYNCWATCH_ALERTS)")
	fs.IntVar(&c.failingRuns, "alert-failing-runs", e.integer("SYNCWATCH_ALERT_FAILING_RUNS", 2),
		"sync_failing: the last N finished runs of an entity failed (env SYNCWATCH_ALERT_FAILING_RUNS)")
	fs.DurationVar(&c.staleAfter, "alert-stale-after", e.duration("SYNCWATCH_ALERT_STALE_AFTER", 24*time.Hour),
		"sync_stale: a CRM without a success for longer than this (env SYNCWATCH_ALERT_STALE_AFTER)")
	fs.StringVar(&c.staleAfterCRM, "alert-stale-after-crm", e.getenv("SYNCWATCH_ALERT_STALE_AFTER_CRM"),
		"sync_stale: limits per CRM, e.g. hubspot=6h,genius=48h (env SYNCWATCH_ALERT_STALE_AFTER_CRM)")
	fs.IntVar(&c.emptyRuns, "alert-empty-runs", e.integer("SYNCWATCH_ALERT_EMPTY_RUNS", 3),
		"empty_runs: the last K successful runs of an entity processed 0 records (env SYNCWATCH_ALERT_EMPTY_RUNS)")
	fs.DurationVar(&c.workersDownFor, "alert-workers-down-for", e.duration("SYNCWATCH_ALERT_WORKERS_DOWN_FOR", 5*time.Minute),
		"workers_down: how long no Celery worker must answer (env SYNCWATCH_ALERT_WORKERS_DOWN_FOR)")
	fs.Int64Var(&c.queueBacklog, "alert-queue-backlog", int64(e.integer("SYNCWATCH_ALERT_QUEUE_BACKLOG", 100)),
		"queue_backlog: pending tasks in one queue above this (env SYNCWATCH_ALERT_QUEUE_BACKLOG)")
	fs.DurationVar(&c.queueBacklogFor, "alert-queue-backlog-for", e.duration("SYNCWATCH_ALERT_QUEUE_BACKLOG_FOR", 20*time.Minute),
		"queue_backlog: for this long (env SYNCWATCH_ALERT_QUEUE_BACKLOG_FOR)")
	fs.DurationVar(&c.unreachableAfter, "alert-unreachable-after", e.duration("SYNCWATCH_ALERT_UNREACHABLE_AFTER", 0),
		"warehouse_unreachable: figures stale for longer than this (env SYNCWATCH_ALERT_UNREACHABLE_AFTER; default two refresh intervals)")
	fs.DurationVar(&c.repeatInterval, "alert-repeat-interval", e.duration("SYNCWATCH_ALERT_REPEAT_INTERVAL", 4*time.Hour),
		"how long a firing alert waits before it is sent again (env SYNCWATCH_ALERT_REPEAT_INTERVAL)")
	fs.IntVar(&c.maxPerHour, "alert-max-per-hour", e.integer("SYNCWATCH_ALERT_MAX_PER_HOUR", 10),
		"at most this many messages per channel in any hour; 0 for no cap (env SYNCWATCH_ALERT_MAX_PER_HOUR)")
	fs.StringVar(&c.stateDir, "state-dir", e.str("SYNCWATCH_STATE_DIR", filepath.Dir(defaultSQLitePath(e.getenv))),
		"where syncwatch keeps what it sent, "+alerts.StateFileName+" (env SYNCWATCH_STATE_DIR)")
	e.secret(fs, &c.lockURL, "alert-lock-url", "SYNCWATCH_ALERT_LOCK_URL",
		"the Redis where replicas elect the one that sends, or none (env SYNCWATCH_ALERT_LOCK_URL; default REDIS_URL, else a Redis broker)")
	fs.DurationVar(&c.lockLease, "alert-lock-lease", e.duration("SYNCWATCH_ALERT_LOCK_LEASE", 30*time.Second),
		"how long a sender that stopped keeps the right to send before another replica takes over (env SYNCWATCH_ALERT_LOCK_LEASE)")
	c.deliveryFlags(fs, e)
}

// rules checks the thresholds; refresh is the refresh interval.
func (c *alertConfig) rules() (alerts.Rules, error) {
	r := alerts.Rules{FailingRuns: c.failingRuns, StaleAfter: c.staleAfter, EmptyRuns: c.emptyRuns,
		WorkersDownFor: c.workersDownFor, QueueBacklog: c.queueBacklog, QueueBacklogFor: c.queueBacklogFor,
		UnreachableAfter: c.unreachableAfter}
	var errs []error
	check := func(ok bool, msg string) {
		if !ok {
			errs = append(errs, errors.New(msg))
		}
	}
	check(c.failingRuns >= 1, "--alert-failing-runs must be at least 1")
	check(c.emptyRuns >= 1 && c.emptyRuns <= 10, "--alert-empty-runs must be from 1 to 10")
	check(c.staleAfter > 0, "--alert-stale-after must be positive")
	check(c.workersDownFor >= 0, "--alert-workers-down-for must not be negative")
	check(c.queueBacklog >= 0, "--alert-queue-backlog must not be negative")
	check(c.queueBacklogFor >= 0, "--alert-queue-backlog-for must not be negative")
	check(c.unreachableAfter >= 0, "--alert-unreachable-after must not be negative")
	check(c.repeatInterval > 0, "--alert-repeat-interval must be positive")
	check(c.maxPerHour >= 0, "--alert-max-per-hour must not be negative")
	byCRM, err := alerts.ParseStaleAfterByCRM(c.staleAfterCRM)
	if err != nil {
		errs = append(errs, fmt.Errorf("--alert-stale-after-crm: %w", err))
	}
	r.StaleAfterByCRM = byCRM
	return r, errors.Join(errs...)
}

// channels builds the configured channels, which log their debug lines to logger (nil:
// nowhere); a bad setting is an error naming it.
func (c *alertConfig) channels(logger *slog.Logger) ([]alerts.Channel, error) {
	if c.timeout <= 0 {
		return nil, errors.New("--alert-timeout must be positive")
	}
	var out []alerts.Channel
	var errs []error
	for i, u := range settingList(c.webhookURLs) {
		if err := notify.CheckURL(u); err != nil {
			errs = append(errs, fmt.Errorf("ALERT_WEBHOOK_URLS: URL %d %w", i+1, err))
			continue
		}
		out = append(out, alerts.Channel{Channel: notify.NewWebhook(u)})
	}
	if c.slackURL != "" {
		if err := notify.CheckURL(c.slackURL); err != nil {
			errs = append(errs, fmt.Errorf("SLACK_WEBHOOK_URL %w", err))
		} else {
			out = append(out, alerts.Channel{Channel: notify.NewSlack(c.slackURL, c.slackChannel)})
		}
	}
	if to := settingList(c.emailTo); len(to) > 0 {
		email, err := notify.NewEmail(notify.EmailConfig{Host: c.emailHost, Port: c.emailPort,
			User: c.emailUser, Password: c.emailPassword, UseTLS: c.emailUseTLS, UseSSL: c.emailUseSSL,
			From: c.emailFrom, To: to, Logger: logger})
		if err != nil {
			errs = append(errs, fmt.Errorf("email (ALERT_EMAIL_RECIPIENTS): %w", err))
		} else {
			out = append(out, alerts.Channel{Channel: email})
		}
	}
	if c.alertmanagerURL != "" {
		if err := notify.CheckURL(c.alertmanagerURL); err != nil {
			errs = append(errs, fmt.Errorf("--alertmanager-url %w", err))
		} else {
			out = append(out, alerts.Channel{Channel: notify.NewAlertmanager(c.alertmanagerURL, alertmanagerResend),
				Resend: alertmanagerResend})
		}
	}
	if c.externalURL != "" {
		if err := notify.CheckURL(c.externalURL); err != nil {
			errs = append(errs, fmt.Errorf("--external-url %w", err))
		}
	}
	return out, errors.Join(errs...)
}

// settingList reads a list setting: comma-separated, or a Python list as Django
// settings files write it (["a", "b"]).
func settingList(s string) []string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "[") {
		var list []string
		if json.Unmarshal([]byte(strings.ReplaceAll(s, "'", `"`)), &list) == nil {
			return splitList(strings.Join(list, ","))
		}
		s = strings.Trim(s, "[]")
	}
	var out []string
	for _, item := range splitList(s) {
		if item = strings.Trim(item, `"'`); item != "" {
			out = append(out, item)
		}
	}
	return out
}

// pageURL is where links in messages point: --external-url, else the address served.
func (c *alertConfig) pageURL(hostport, basePath string) string {
	if c.externalURL != "" {
		return strings.TrimSuffix(c.externalURL, "/") + "/"
	}
	if !strings.HasPrefix(basePath, "/") {
		basePath = "/" + basePath
	}
	return "http://" + hostport + strings.TrimSuffix(basePath, "/") + "/"
}

// alertsSetup is what serve needs of the alerts: the engine, and what to close after its
// Run has returned.
type alertsSetup struct {
	engine *alerts.Engine
	close  func()
}

// newAlerts builds the engine: the channels, and when one is configured, the state file
// and (with a Redis to coordinate in) the coordinator, whose keys are the watched
// warehouse's, so that replicas of one warehouse share them and others do not.
func (c *alertConfig) newAlerts(ctx context.Context, cfg serveConfig, pageURL string, logger *slog.Logger) (*alertsSetup, error) {
	rules, err := c.rules()
	if err != nil {
		return nil, err
	}
	channels, err := c.channels(logger)
	if err != nil {
		return nil, err
	}
	// What is opened is closed in reverse, after the engine's Run, or at once on failure.
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*alertsSetup, error) {
		closeAll()
		return nil, err
	}
	closers = append(closers, func() {
		for _, ch := range channels {
			ch.Close()
		}
	})
	ac := alerts.Config{Rules: rules, Channels: channels, ExternalURL: pageURL, RepeatInterval: c.repeatInterval,
		MaxPerHour: c.maxPerHour, SendTimeout: c.timeout, Logger: logger}
	if len(channels) > 0 {
		// Without a channel nothing is sent, and nothing needs keeping: a deployment that
		// sends nothing needs no writable state directory.
		file, err := alerts.OpenFile(ctx, c.stateDir)
		if err != nil {
			return fail(fmt.Errorf("--state-dir: %w", err))
		}
		closers = append(closers, func() { file.Close() })
		ac.Store = file
		lockURL := c.lockURL
		if lockURL == "" {
			lockURL = health.RedisURLFrom(cfg.redisURL, cfg.brokerURL)
		}
		if lockURL != "" && lockURL != "none" {
			coord, err := alerts.NewCoordinator(alerts.CoordinatorConfig{RedisURL: lockURL,
				Key: "syncwatch:alerts:" + warehouseKey(cfg), Lease: c.lockLease, Logger: logger})
			if err != nil {
				return fail(fmt.Errorf("--alert-lock-url (default REDIS_URL, else the broker): %w; set --alert-lock-url, or none for a single replica", err))
			}
			closers = append(closers, func() { coord.Close() })
			ac.Coordinator = coord
		}
		var names []string
		for _, ch := range channels {
			names = append(names, ch.ID()+" "+ch.Target())
		}
		logger.Info("alerts: sending to "+strings.Join(names, ", "), "state_file", file.Path(),
			"replicas", map[bool]string{true: "coordinated in Redis", false: "not coordinated (a single replica)"}[ac.Coordinator != nil])
	}
	engine, err := alerts.New(ctx, ac)
	if err != nil {
		return fail(err)
	}
	return &alertsSetup{engine: engine, close: closeAll}, nil
}

// warehouseKey names the watched database without its credentials: its host, port and
// name (or the demo file's path), digested. DATABASE_URL is read as pgx reads it to
// connect (a URL or key=value pairs, ?host=, the default port, PG* variables), so that
// replicas whose settings are written differently, or carry other passwords, share
// the key.
func warehouseKey(cfg serveConfig) string {
	id := "sqlite:" + cfg.sqlitePath
	if cfg.databaseURL != "" {
		// A setting pgx cannot read does not connect either: any key will do.
		id = "postgres:" + cfg.databaseURL
		if pc, err := pgconn.ParseConfig(cfg.databaseURL); err == nil {
			id = fmt.Sprintf("postgres://%s/%s", net.JoinHostPort(strings.ToLower(pc.Host), strconv.Itoa(int(pc.Port))), pc.Database)
		}
	}
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:6])
}

// alertsCommand is "syncwatch alerts test": a clearly marked test notification to every
// configured channel, each channel's result printed; an error if any failed.
func alertsCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "test" {
		fmt.Fprint(stderr, "Usage: syncwatch alerts test [flags]\n\n"+
			"Sends a test notification to every configured channel and prints each one's result.\n")
		return errUsage
	}
	var c alertConfig
	fs := flag.NewFlagSet("alerts test", flag.ContinueOnError)
	e := &env{getenv: getenv}
	c.deliveryFlags(fs, e)
	if err := e.parse(fs, args[1:], stderr); err != nil {
		return err
	}
	channels, err := c.channels(nil)
	if err != nil {
		return err
	}
	defer func() {
		for _, ch := range channels {
			ch.Close()
		}
	}()
	if len(channels) == 0 {
		return errors.New("no channel is configured: set ALERT_WEBHOOK_URLS, SLACK_WEBHOOK_URL, ALERT_EMAIL_RECIPIENTS or SYNCWATCH_ALERTMANAGER_URL")
	}
	page := c.externalURL
	now := time.Now()
	msg := notify.Message{Test: true, Firing: []notify.Alert{notify.TestAlert(page, now)}, ExternalURL: page, At: now}
	failed := 0
	for _, ch := range channels {
		sendCtx, cancel := context.WithTimeout(ctx, c.timeout)
		err := ch.Send(sendCtx, msg)
		cancel()
		if err != nil {
			failed++
			fmt.Fprintf(stdout, "%-12s %s: FAILED: %v\n", ch.Kind(), ch.Target(), err)
			continue
		}
		fmt.Fprintf(stdout, "%-12s %s: sent\n", ch.Kind(), ch.Target())
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d channels failed", failed, len(channels))
	}
	return nil
}
