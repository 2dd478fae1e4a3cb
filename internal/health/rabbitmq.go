package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/syncwatch/syncwatch/internal/errclass"
)

// The broker card of a RabbitMQ broker: what the AMQP handshake tells, and, when the
// user gives its URL, what RabbitMQ's management API adds.

// RabbitMQReport is the rabbitmq section of the system-health answer, present when the
// Celery broker is RabbitMQ. It is to a RabbitMQ broker what the redis section is to a
// Redis one.
type RabbitMQReport struct {
	Check
	// Server is the broker's URL without password.
	Server string `json:"server,omitempty"`
	// Version is the server's version, from the AMQP handshake.
	Version string `json:"version,omitempty"`
	// ClusterName and Platform (the Erlang/OTP release) come from the handshake too.
	ClusterName string `json:"cluster_name,omitempty"`
	Platform    string `json:"platform,omitempty"`
	// ConnectTimeMS is how long TCP, TLS and the AMQP handshake of the connection in
	// use took; it is reused between checks, so this changes only after a reconnection.
	ConnectTimeMS *float64 `json:"connect_time_ms"`
	// ResponseTimeMS is the round trip of opening a channel on that connection.
	ResponseTimeMS *float64 `json:"response_time_ms"`
	// Management is the management API's URL without credentials; "" when none is
	// configured, and then every figure below is null.
	Management string `json:"management,omitempty"`
	// MessagesReady and MessagesUnacknowledged are the vhost's messages waiting and
	// delivered but not yet acknowledged, over all its queues.
	MessagesReady          *int64 `json:"messages_ready"`
	MessagesUnacknowledged *int64 `json:"messages_unacknowledged"`
	// Connections is the number of client connections to the broker (to the cluster).
	Connections *int64 `json:"connections"`
	// MemoryUsedMB is the node's memory use in MiB, one decimal; MemoryLimitMB its
	// memory high watermark, above which RabbitMQ blocks every publisher.
	MemoryUsedMB  *float64 `json:"memory_used_mb"`
	MemoryLimitMB *float64 `json:"memory_limit_mb"`
	// MemoryAlarm and DiskAlarm are RabbitMQ's resource alarms: while one is on, no
	// client can publish, so no task can be sent.
	MemoryAlarm *bool `json:"memory_alarm"`
	DiskAlarm   *bool `json:"disk_alarm"`
}

// rabbitmqChecker checks one RabbitMQ broker, on the connection the celery check uses.
type rabbitmqChecker struct {
	conn    *amqpConn
	mgmt    *managementClient // nil: no management API
	display string
	secrets []string
	timeout time.Duration
}

// check measures the broker: the round trip of opening a channel, the handshake's
// properties and, with the management API, messages, connections, memory and alarms.
// A broker that cannot be reached is unhealthy; a failed management API only degraded,
// since the broker itself answers.
func (c *rabbitmqChecker) check(ctx context.Context) RabbitMQReport {
	rep := RabbitMQReport{Server: c.display}
	if c.mgmt != nil {
		rep.Management = c.mgmt.display
	}
	s, err := c.conn.get(ctx)
	if err != nil {
		rep.Status, rep.Error = StatusUnhealthy, reason(amqpFailure(ctx, "rabbitmq", "connecting", err), c.timeout, c.secrets...)
		return rep
	}
	// Until its AMQP calls are done, the check's deadline closes the connection to cut
	// them short (amqp091's calls take no context); once they are, it must not, or a
	// slow management API would close the healthy connection every round.
	stop := context.AfterFunc(ctx, s.expire)
	start := time.Now()
	ch, err := s.conn.Channel()
	if err != nil {
		stop()
		if s.conn.IsClosed() {
			c.conn.reset(s)
		}
		rep.Status, rep.Error = StatusUnhealthy, reason(amqpSessionFailure(ctx, s, "rabbitmq", "opening a channel", err), c.timeout, c.secrets...)
		return rep
	}
	rtt := time.Since(start)
	_ = ch.Close()
	// The slow warning is about the broker: the management API's calls below are timed
	// on their own.
	elapsed := time.Since(start)
	if !stop() {
		// The deadline struck during the close and closed the connection.
		rep.Status, rep.Error = StatusUnhealthy, reason(amqpSessionFailure(ctx, s, "rabbitmq", "closing a channel", ctx.Err()), c.timeout, c.secrets...)
		return rep
	}
	rep.ResponseTimeMS = ptr(millis(rtt))
	rep.ConnectTimeMS = ptr(millis(s.connectTime))
	rep.Version = tableString(s.properties, "version")
	rep.ClusterName = tableString(s.properties, "cluster_name")
	rep.Platform = tableString(s.properties, "platform")
	if elapsed > c.timeout/2 {
		rep.Warnings = append(rep.Warnings, slowWarning("rabbitmq", elapsed, c.timeout))
	}

	if c.mgmt != nil {
		mgmtStart := time.Now()
		if err := c.mgmt.figures(ctx, &rep); err != nil {
			rep.Warnings = append(rep.Warnings, reason(err, c.timeout, c.secrets...))
		} else if took := time.Since(mgmtStart); took > c.timeout/2 {
			rep.Warnings = append(rep.Warnings, slowWarning("the management API", took, c.timeout))
		}
	}
	if rep.MemoryAlarm != nil && *rep.MemoryAlarm {
		rep.Warnings = append(rep.Warnings, "memory alarm: RabbitMQ blocks every publisher, so no task can be sent")
	} else if rep.MemoryUsedMB != nil && rep.MemoryLimitMB != nil && *rep.MemoryLimitMB > 0 && *rep.MemoryUsedMB > 0.9**rep.MemoryLimitMB {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("memory use is %.0f%% of the high watermark", 100**rep.MemoryUsedMB / *rep.MemoryLimitMB))
	}
	if rep.DiskAlarm != nil && *rep.DiskAlarm {
		rep.Warnings = append(rep.Warnings, "disk alarm: RabbitMQ blocks every publisher, so no task can be sent")
	}
	rep.Status = StatusHealthy
	if len(rep.Warnings) > 0 {
		rep.Status = StatusDegraded
	}
	return rep
}

func tableString(t amqp.Table, key string) string {
	s, _ := t[key].(string)
	return s
}

// managementClient reads RabbitMQ's management API (the rabbitmq_management plugin),
// with its own credentials, for one vhost.
type managementClient struct {
	base     *url.URL // scheme, host and path prefix, without credentials
	user     string
	password string
	// hasPassword is whether a URL gave the password (else it is kombu's default).
	hasPassword bool
	vhost       string
	display     string
	client      *http.Client
}

// newManagementClient reads --rabbitmq-management-url: http(s)://user:password@host:port/
// with an optional path prefix (management.path_prefix). Without credentials it uses
// the broker's.
func newManagementClient(raw string, broker amqpEndpoint) (*managementClient, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil {
		err = withoutURL(err)
		return nil, fmt.Errorf("rabbitmq management url: invalid URL: %s", errclass.Mask(err.Error()))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, errors.New("rabbitmq management url: want http://user:password@host:15672/")
	}
	c := &managementClient{user: broker.Username, password: broker.Password, hasPassword: broker.HasPassword, vhost: broker.Vhost}
	if u.User != nil {
		c.user = u.User.Username()
		c.password, c.hasPassword = u.User.Password()
	}
	c.base = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: strings.TrimSuffix(u.Path, "/")}
	c.display = c.base.String() + "/"
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.MaxIdleConnsPerHost = 2
	c.client = &http.Client{
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

func (c *managementClient) close() { c.client.CloseIdleConnections() }

// get reads one JSON answer of the API at the path of segments, each escaped on its
// own (the vhost "/" is "%2F"). Its errors name the user on a refusal and never carry
// the password.
func (c *managementClient) get(ctx context.Context, segments []string, query url.Values, out any) error {
	path := "/" + strings.Join(segments, "/")
	escaped := make([]string, len(segments))
	for i, seg := range segments {
		escaped[i] = url.PathEscape(seg)
	}
	u := *c.base
	u.Path += path
	u.RawPath = c.base.EscapedPath() + "/" + strings.Join(escaped, "/")
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return fmt.Errorf("management API: %w", err)
	}
	req.SetBasicAuth(c.user, c.password)
	req.Header.Set("User-Agent", "syncwatch-health")
	resp, err := c.client.Do(req)
	if err != nil {
		err = withoutURL(err)
		if ctx.Err() != nil {
			return fmt.Errorf("management API: %w", context.DeadlineExceeded)
		}
		return fmt.Errorf("management API unreachable: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return fmt.Errorf("management API: %w", err)
	}
	var refusal struct {
		Reason string `json:"reason"`
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		_ = json.Unmarshal(body, &refusal)
		why := "a wrong password, or a user without the monitoring tag"
		if refusal.Reason != "" {
			why = refusal.Reason // "Login failed", "User not authorised to access virtual host"
		}
		return fmt.Errorf("management API: user %q was refused: %s", c.user, why)
	case resp.StatusCode == http.StatusNotFound:
		return errNotFound
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("management API: %s answered %d", u.EscapedPath(), resp.StatusCode)
	}
	if err := json.Unmarshal(body, out); err != nil {
		if string(body) == "[]" {
			// What the API answers for an object none of whose columns exists yet: a
			// node just started has no statistics. Its figures are unknown.
			return nil
		}
		return fmt.Errorf("management API: %s: %w", u.EscapedPath(), err)
	}
	return nil
}

var errNotFound = errors.New("management API: not found")

// pidboxListeners counts the mailboxes bound to celery.pidbox on the vhost: one per
// live worker (a worker's mailbox is auto-delete, gone with its connection). Nil when
// the API cannot tell.
func (c *managementClient) pidboxListeners(ctx context.Context) *int64 {
	var bindings []struct {
		DestinationType string `json:"destination_type"`
	}
	err := c.get(ctx, []string{"api", "exchanges", c.vhost, broadcastExchange, "bindings", "source"},
		url.Values{"columns": {"destination_type"}}, &bindings)
	if errors.Is(err, errNotFound) {
		return ptr[int64](0) // no worker ever declared the exchange on this vhost
	}
	if err != nil {
		return nil
	}
	var n int64
	for _, b := range bindings {
		if b.DestinationType == "queue" {
			n++
		}
	}
	return &n
}

// figures fills the card's management figures: the vhost's messages, the number of
// connections, and the node's memory and alarms.
func (c *managementClient) figures(ctx context.Context, rep *RabbitMQReport) error {
	var overview struct {
		Node         string `json:"node"`
		ObjectTotals struct {
			Connections *int64 `json:"connections"`
		} `json:"object_totals"`
	}
	if err := c.get(ctx, []string{"api", "overview"}, url.Values{"columns": {"node,object_totals.connections"}}, &overview); err != nil {
		return notFoundAs(err, "/api/overview")
	}
	rep.Connections = overview.ObjectTotals.Connections
	// The vhost's own figures (/api/vhosts/x) are for administrators only; its queues'
	// are for any user with access to it.
	var queues []json.RawMessage
	if err := c.get(ctx, []string{"api", "queues", c.vhost}, url.Values{"columns": {"messages_ready,messages_unacknowledged"}}, &queues); err != nil {
		return notFoundAs(err, "the vhost "+c.vhost)
	}
	var ready, unacked int64
	for _, raw := range queues {
		// A queue without statistics yet is [] rather than an object: nothing counted.
		var q struct {
			Ready   int64 `json:"messages_ready"`
			Unacked int64 `json:"messages_unacknowledged"`
		}
		if json.Unmarshal(raw, &q) == nil {
			ready += q.Ready
			unacked += q.Unacked
		}
	}
	rep.MessagesReady, rep.MessagesUnacknowledged = &ready, &unacked
	var node struct {
		MemUsed   *int64 `json:"mem_used"`
		MemLimit  *int64 `json:"mem_limit"`
		MemAlarm  *bool  `json:"mem_alarm"`
		DiskAlarm *bool  `json:"disk_free_alarm"`
	}
	if err := c.get(ctx, []string{"api", "nodes", overview.Node}, url.Values{"columns": {"mem_used,mem_limit,mem_alarm,disk_free_alarm"}}, &node); err != nil {
		return notFoundAs(err, "the node "+overview.Node)
	}
	if node.MemUsed != nil {
		rep.MemoryUsedMB = ptr(mebibytes(*node.MemUsed))
	}
	if node.MemLimit != nil {
		rep.MemoryLimitMB = ptr(mebibytes(*node.MemLimit))
	}
	rep.MemoryAlarm, rep.DiskAlarm = node.MemAlarm, node.DiskAlarm
	return nil
}

func notFoundAs(err error, what string) error {
	if errors.Is(err, errNotFound) {
		return fmt.Errorf("management API: %s not found", what)
	}
	return err
}
