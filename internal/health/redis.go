package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syncwatch/syncwatch/internal/errclass"
)

// RedisURLFrom picks the Redis server whose figures the page shows: REDIS_URL when it is
// set, else the Celery broker when that is a Redis URL, else "" (not configured). A
// broker URL that lists failover servers separated by ";" yields the first one.
func RedisURLFrom(redisURL, brokerURL string) string {
	if s := strings.TrimSpace(redisURL); s != "" {
		return s
	}
	first, _, _ := strings.Cut(strings.TrimSpace(brokerURL), ";")
	if isRedisScheme(schemeOf(first)) {
		return first
	}
	return ""
}

// redisEndpoint is a parsed Redis URL in any of the forms kombu accepts.
type redisEndpoint struct {
	Network  string // "tcp" or "unix"
	Addr     string // host:port, or the socket's path
	Username string
	Password string
	DB       int
	TLS      *tls.Config
	// Display is the URL without password or query, safe for responses and logs.
	Display string
}

// schemeOf returns the lower-cased scheme of a URL, or "" when it has none.
func schemeOf(raw string) string {
	scheme, _, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	return strings.ToLower(scheme)
}

func isRedisScheme(scheme string) bool {
	switch scheme {
	case "redis", "rediss", "unix", "socket", "redis+socket":
		return true
	}
	return false
}

// parseRedisURL reads the URL forms that kombu's Redis transport (and redis-py) accept:
//
//	redis://[[user]:password@]host[:port][/db]
//	rediss://…                                  TLS; ssl_cert_reqs, ssl_ca_certs,
//	                                            ssl_certfile and ssl_keyfile in the query
//	unix://[[user]:password@]/path/to/socket[?db=N]
//	redis+socket:///path/to/socket[?virtual_host=N]   (also socket://; db=N is accepted too)
//
// The error text never contains the password.
func parseRedisURL(raw string) (redisEndpoint, error) {
	var ep redisEndpoint
	raw = strings.TrimSpace(raw)
	scheme := schemeOf(raw)
	if !isRedisScheme(scheme) {
		if scheme == "" {
			return ep, errors.New("not a URL: want redis://host:port/db")
		}
		return ep, fmt.Errorf("scheme %q is not a Redis URL", scheme)
	}
	u, err := url.Parse(raw)
	if err != nil {
		err = withoutURL(err)
		return ep, fmt.Errorf("invalid URL: %s", errclass.Mask(err.Error()))
	}
	if u.User != nil {
		ep.Username = u.User.Username()
		ep.Password, _ = u.User.Password()
	}
	query := u.Query()
	if p := query.Get("password"); p != "" && ep.Password == "" {
		ep.Password = p
	}
	switch scheme {
	case "redis", "rediss":
		ep.Network = "tcp"
		host := u.Hostname()
		if host == "" {
			host = "127.0.0.1"
		}
		port := u.Port()
		if port == "" {
			port = "6379"
		}
		if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
			return ep, fmt.Errorf("invalid port %q", port)
		}
		ep.Addr = net.JoinHostPort(host, port)
		db := strings.Trim(u.Path, "/")
		if db == "" {
			db = query.Get("db")
		}
		if ep.DB, err = parseDB(db); err != nil {
			return ep, err
		}
		if scheme == "rediss" {
			if ep.TLS, err = tlsFromQuery(query, host); err != nil {
				return ep, err
			}
		}
	default: // unix sockets
		ep.Network = "unix"
		ep.Addr = u.Path
		if ep.Addr == "" {
			// unix://relative/path puts the first segment in the host.
			ep.Addr = u.Host + u.Path
		}
		if ep.Addr == "" {
			return ep, errors.New("unix socket URL has no path")
		}
		db := query.Get("db")
		if db == "" {
			db = query.Get("virtual_host")
		}
		if ep.DB, err = parseDB(db); err != nil {
			return ep, err
		}
	}
	ep.Display = displayURL(scheme, ep)
	return ep, nil
}

func parseDB(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid database number %q", s)
	}
	return n, nil
}

func tlsFromQuery(q url.Values, host string) (*tls.Config, error) {
	cfg := &tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}
	switch strings.ToLower(strings.TrimPrefix(strings.ToLower(q.Get("ssl_cert_reqs")), "cert_")) {
	case "", "required":
	case "none", "optional":
		// kombu: CERT_NONE and CERT_OPTIONAL both accept a certificate it cannot verify.
		cfg.InsecureSkipVerify = true
	default:
		return nil, fmt.Errorf("invalid ssl_cert_reqs %q", q.Get("ssl_cert_reqs"))
	}
	if path := q.Get("ssl_ca_certs"); path != "" {
		pem, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("ssl_ca_certs: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ssl_ca_certs: no certificate in %s", path)
		}
		cfg.RootCAs = pool
	}
	if certFile, keyFile := q.Get("ssl_certfile"), q.Get("ssl_keyfile"); certFile != "" || keyFile != "" {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("ssl_certfile: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// displayURL rebuilds the URL with the password masked and the query left out.
func displayURL(scheme string, ep redisEndpoint) string {
	var b strings.Builder
	b.WriteString(scheme)
	b.WriteString("://")
	if ep.Username != "" || ep.Password != "" {
		b.WriteString(url.PathEscape(ep.Username))
		if ep.Password != "" {
			b.WriteString(":***")
		}
		b.WriteString("@")
	}
	if ep.Network == "unix" {
		b.WriteString(ep.Addr)
		if ep.DB != 0 {
			b.WriteString("?db=" + strconv.Itoa(ep.DB))
		}
		return b.String()
	}
	b.WriteString(ep.Addr)
	b.WriteString("/" + strconv.Itoa(ep.DB))
	return b.String()
}

// connError names a failed first command: an answer from the server (WRONGPASS,
// NOAUTH, LOADING…) is an error of the server, anything else means it is unreachable.
func connError(what string, err error) error {
	var rerr redis.Error
	if errors.As(err, &rerr) {
		return fmt.Errorf("%s error: %w", what, err)
	}
	return fmt.Errorf("%s unreachable: %w", what, err)
}

// RedisOptions reads a Redis URL in any form parseRedisURL accepts (kombu's, as the
// health checks read the broker's) into go-redis options bounded by timeout, for other
// packages that share that Redis. The error never contains the password.
func RedisOptions(rawURL string, timeout time.Duration) (*redis.Options, error) {
	ep, err := parseRedisURL(rawURL)
	if err != nil {
		return nil, err
	}
	return redisOptions(ep, timeout), nil
}

// redisOptions turns an endpoint into go-redis options where every call is bounded by
// timeout and by its context, and nothing is retried behind the caller's back.
func redisOptions(ep redisEndpoint, timeout time.Duration) *redis.Options {
	return &redis.Options{
		Network:               ep.Network,
		Addr:                  ep.Addr,
		Username:              ep.Username,
		Password:              ep.Password,
		DB:                    ep.DB,
		TLSConfig:             ep.TLS,
		Protocol:              2, // RESP2: every Redis version a kombu broker may run
		DisableIdentity:       true,
		DialTimeout:           timeout,
		ReadTimeout:           timeout,
		WriteTimeout:          timeout,
		PoolTimeout:           timeout,
		ContextTimeoutEnabled: true,
		MaxRetries:            -1,
		DialerRetries:         1, // the next check is the retry
		PoolSize:              4,
	}
}

// redisConn holds a go-redis client that is replaced after a failed connection. After
// PoolSize failed dials go-redis answers every command with the last dial error until a
// background goroutine of its own (redialing every second) reaches the server again; a
// fresh client makes the next check after a restart see the server at once, and closing
// the old one ends that goroutine.
type redisConn struct {
	opts *redis.Options

	mu     sync.Mutex
	client *redis.Client
	closed bool
}

func newRedisConn(ep redisEndpoint, timeout time.Duration) *redisConn {
	opts := redisOptions(ep, timeout)
	return &redisConn{opts: opts, client: redis.NewClient(opts)}
}

// get returns the current client.
func (c *redisConn) get() *redis.Client {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.client
}

// reset replaces failed, unless another caller has already replaced it.
func (c *redisConn) reset(failed *redis.Client) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.client != failed {
		return
	}
	_ = failed.Close()
	c.client = redis.NewClient(c.opts)
}

func (c *redisConn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	_ = c.client.Close()
}

// RedisReport is the redis section of the system-health answer.
type RedisReport struct {
	Check
	// Server is the checked server's URL without password.
	Server string `json:"server,omitempty"`
	// Version is redis_version.
	Version string `json:"version,omitempty"`
	// UptimeSeconds is uptime_in_seconds.
	UptimeSeconds *int64 `json:"uptime_seconds"`
	// ResponseTimeMS is the round trip of a PING.
	ResponseTimeMS *float64 `json:"response_time_ms"`
	// MemoryUsedMB is used_memory in MiB, one decimal.
	MemoryUsedMB *float64 `json:"memory_used_mb"`
	// MemoryMaxMB is maxmemory in MiB; null when Redis has no limit.
	MemoryMaxMB *float64 `json:"memory_max_mb"`
	// ConnectedClients is Redis's own count of client connections.
	ConnectedClients *int64 `json:"connected_clients"`
}

// redisChecker checks one Redis server.
type redisChecker struct {
	conn     *redisConn
	display  string
	password string
	timeout  time.Duration
}

func newRedisChecker(ep redisEndpoint, timeout time.Duration) *redisChecker {
	return &redisChecker{
		conn:     newRedisConn(ep, timeout),
		display:  ep.Display,
		password: ep.Password,
		timeout:  timeout,
	}
}

// check measures the server: a PING's round trip, then INFO's server, clients and
// memory sections in one pipeline (one section per INFO, as Redis before 7 requires).
func (c *redisChecker) check(ctx context.Context) RedisReport {
	rep := RedisReport{Server: c.display}
	client := c.conn.get()
	start := time.Now()
	if err := client.Ping(ctx).Err(); err != nil {
		c.conn.reset(client)
		rep.Status, rep.Error = StatusUnhealthy, reason(connError("redis", err), c.timeout, c.password)
		return rep
	}
	rtt := time.Since(start)
	rep.ResponseTimeMS = ptr(millis(rtt))
	cmds, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Info(ctx, "server")
		p.Info(ctx, "clients")
		p.Info(ctx, "memory")
		return nil
	})
	if err != nil {
		rep.Status, rep.Error = StatusUnhealthy, reason(fmt.Errorf("redis info: %w", err), c.timeout, c.password)
		return rep
	}
	info := map[string]string{}
	for _, cmd := range cmds {
		for k, v := range parseInfo(cmd.(*redis.StringCmd).Val()) {
			info[k] = v
		}
	}
	rep.Version = info["redis_version"]
	rep.UptimeSeconds = intField(info, "uptime_in_seconds")
	rep.ConnectedClients = intField(info, "connected_clients")
	used, max := intField(info, "used_memory"), intField(info, "maxmemory")
	if used != nil {
		rep.MemoryUsedMB = ptr(mebibytes(*used))
	}
	if max != nil && *max > 0 {
		rep.MemoryMaxMB = ptr(mebibytes(*max))
	}
	rep.Status = StatusHealthy
	if used != nil && max != nil && *max > 0 && float64(*used) > 0.9*float64(*max) {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("used memory is %.0f%% of maxmemory", 100*float64(*used)/float64(*max)))
	}
	if elapsed := time.Since(start); elapsed > c.timeout/2 {
		rep.Warnings = append(rep.Warnings, slowWarning("redis", elapsed, c.timeout))
	}
	if len(rep.Warnings) > 0 {
		rep.Status = StatusDegraded
	}
	return rep
}

// parseInfo reads INFO's "key:value" lines.
func parseInfo(s string) map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			out[k] = v
		}
	}
	return out
}

func intField(info map[string]string, key string) *int64 {
	v, ok := info[key]
	if !ok {
		return nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &n
}
