package health

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/syncwatch/syncwatch/internal/errclass"
)

// Celery's remote control and queue depths over AMQP (RabbitMQ), the way `celery
// inspect` does it (kombu's pidbox over py-amqp): the command, as plain JSON, goes to
// the fanout exchange celery.pidbox, where every worker's mailbox queue is bound; the
// replies come through the direct exchange reply.celery.pidbox to a private queue bound
// with a routing key of our own. A queue's depth is a passive queue.declare, which
// never creates a queue. See shared/reference/celery-protocol.md.

// amqpEndpoint is a parsed AMQP URL, read as kombu reads it.
type amqpEndpoint struct {
	Addr     string // host:port
	Host     string
	Username string
	Password string
	// HasPassword is whether the URL gave a password (else kombu's default, guest).
	HasPassword bool
	Vhost       string
	TLS         *tls.Config // nil: plain AMQP
	// Display is the URL without password or query, safe for responses and logs.
	Display string
}

func isAMQPScheme(scheme string) bool {
	switch scheme {
	case "amqp", "amqps", "pyamqp", "librabbitmq":
		return true
	}
	return false
}

// parseAMQPURL reads the broker URLs kombu's AMQP transports accept:
//
//	amqp://[user[:password]@]host[:port][/vhost]     also pyamqp:// and librabbitmq://
//	amqps://…                                       TLS (as ?ssl=true on the others)
//
// As kombu: the user and password default to guest, the port to 5672 (5671 with TLS),
// the vhost to "/"; the vhost is the path without its first "/", percent-decoded, so
// "amqp://h//" and "amqp://h/%2F" are "/", and "amqp://h/dw" is "dw". With TLS the query
// may carry ssl_cert_reqs, ssl_ca_certs, ssl_certfile and ssl_keyfile as for rediss://.
// The error text never contains the password.
func parseAMQPURL(raw string) (amqpEndpoint, error) {
	var ep amqpEndpoint
	raw = strings.TrimSpace(raw)
	scheme := schemeOf(raw)
	if !isAMQPScheme(scheme) {
		return ep, fmt.Errorf("scheme %q is not an AMQP URL", scheme)
	}
	u, err := url.Parse(raw)
	if err != nil {
		err = withoutURL(err)
		return ep, fmt.Errorf("invalid URL: %s", errclass.Mask(err.Error()))
	}
	ep.Username, ep.Password = "guest", "guest"
	if u.User != nil {
		if name := u.User.Username(); name != "" {
			ep.Username = name
		}
		if p, ok := u.User.Password(); ok {
			ep.Password, ep.HasPassword = p, true
		}
	}
	query := u.Query()
	useTLS := scheme == "amqps"
	switch strings.ToLower(query.Get("ssl")) {
	case "", "0", "false", "no":
	case "1", "true", "yes":
		useTLS = true
	default:
		return ep, fmt.Errorf("invalid ssl %q", query.Get("ssl"))
	}
	ep.Host = u.Hostname()
	if ep.Host == "" {
		ep.Host = "localhost"
	}
	port := u.Port()
	if port == "" {
		port = "5672"
		if useTLS {
			port = "5671"
		}
	}
	if n, err := strconv.Atoi(port); err != nil || n <= 0 || n > 65535 {
		return ep, fmt.Errorf("invalid port %q", port)
	}
	ep.Addr = net.JoinHostPort(ep.Host, port)
	ep.Vhost = strings.TrimPrefix(u.Path, "/")
	if ep.Vhost == "" {
		ep.Vhost = "/"
	}
	if useTLS {
		if ep.TLS, err = tlsFromQuery(query, ep.Host); err != nil {
			return ep, err
		}
	}
	ep.Display = amqpDisplayURL(scheme, ep)
	return ep, nil
}

// amqpDisplayURL rebuilds the URL with the password masked and the query left out;
// the vhost "/" is written "//", as kombu logs it.
func amqpDisplayURL(scheme string, ep amqpEndpoint) string {
	var b strings.Builder
	b.WriteString(scheme + "://" + url.PathEscape(ep.Username))
	if ep.HasPassword {
		b.WriteString(":***")
	}
	b.WriteString("@" + ep.Addr + "/")
	if ep.Vhost != "/" {
		b.WriteString(url.PathEscape(ep.Vhost))
	} else {
		b.WriteString("/")
	}
	return b.String()
}

// amqpSession is one open AMQP connection and what its handshake told.
type amqpSession struct {
	conn *amqp.Connection
	raw  net.Conn
	// properties are the server's, from connection.start: product, version, platform,
	// cluster_name, capabilities.
	properties amqp.Table
	// connectTime is how long TCP, TLS and the AMQP handshake took.
	connectTime time.Duration
	// timedOut is set when a check that ran out of time closed the connection (expire),
	// and only then: the other check sharing it then fails as timed out too, not as a
	// broken connection, and get drops the session at once.
	timedOut atomic.Bool
}

// expire is abort for a check that ran out of time; the AfterFuncs of the checks' own
// contexts call it. Any other close (a failure, close) is a plain abort, so that the
// reason stays the real one.
func (s *amqpSession) expire() {
	s.timedOut.Store(true)
	s.abort()
}

// abort closes the network connection under the AMQP one, which ends every call
// blocked on it at once: amqp091's calls take no context, so this is how a check that
// runs out of time stops waiting on a broker that does not answer.
func (s *amqpSession) abort() {
	_ = s.raw.Close()
}

// amqpConn holds the connection to one broker, shared by the celery check and the
// rabbitmq card, reused between checks and replaced after a failure.
//
// Connecting runs in a goroutine of its own, which the amqpConn owns and close joins,
// with a budget of its own (dialBudget): RabbitMQ answers a refused login only after
// about two seconds, the default health timeout, so a check that waited for the dial
// alone would only ever say "timed out". A check waits for the dial as long as its own
// context allows; if that ends first, it reports the failure of the previous dial, if
// there was one, and the dial goes on to be the next check's answer.
type amqpConn struct {
	ep     amqpEndpoint
	budget time.Duration
	life   context.Context // ends the dial in flight at close
	stop   context.CancelFunc
	dials  sync.WaitGroup

	mu      sync.Mutex
	session *amqpSession
	dialing chan struct{} // closed when the dial in flight ends; nil when none
	lastErr error         // the failure of the last dial that ended; nil after a success
	closed  bool
}

// minDialBudget is the least time a dial may take in the background.
const minDialBudget = 10 * time.Second

func newAMQPConn(ep amqpEndpoint, timeout time.Duration) *amqpConn {
	c := &amqpConn{ep: ep, budget: max(timeout, minDialBudget)}
	c.life, c.stop = context.WithCancel(context.Background())
	return c
}

// errConnClosed is get's answer after close.
var errConnClosed = errors.New("closed")

// get returns the open connection, or waits within ctx for a dial to open one.
func (c *amqpConn) get(ctx context.Context) (*amqpSession, error) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil, errConnClosed
	}
	// IsClosed turns true only once amqp091's reader has seen the network connection
	// end, a moment after expire closed it: a session that expired is closed already.
	if c.session != nil && !c.session.conn.IsClosed() && !c.session.timedOut.Load() {
		defer c.mu.Unlock()
		return c.session, nil
	}
	if c.session != nil {
		c.session.abort()
		c.session = nil
	}
	if c.dialing == nil {
		c.dialing = make(chan struct{})
		done := c.dialing
		c.dials.Go(func() {
			defer close(done)
			ctx, cancel := context.WithTimeout(c.life, c.budget)
			defer cancel()
			s, err := dialAMQP(ctx, c.ep)
			c.mu.Lock()
			defer c.mu.Unlock()
			c.dialing = nil
			if err != nil {
				c.lastErr = err
				return
			}
			if c.closed {
				s.abort()
				return
			}
			c.session, c.lastErr = s, nil
		})
	}
	done, prev := c.dialing, c.lastErr
	c.mu.Unlock()

	select {
	case <-done:
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.session != nil {
			return c.session, nil
		}
		if c.lastErr != nil {
			return nil, c.lastErr
		}
		return nil, errConnClosed
	case <-ctx.Done():
		if prev != nil {
			return nil, prev // still connecting; this is why the last attempt failed
		}
		return nil, ctx.Err()
	}
}

// reset drops failed, unless it was already replaced, so that the next get dials anew.
func (c *amqpConn) reset(failed *amqpSession) {
	c.mu.Lock()
	defer c.mu.Unlock()
	failed.abort()
	if c.session == failed {
		c.session = nil
	}
}

// close ends a dial in flight and waits for it, then ends the connection politely if
// the broker answers within a second, and at once otherwise.
func (c *amqpConn) close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.stop()
	c.dials.Wait()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.session != nil {
		_ = c.session.conn.CloseDeadline(time.Now().Add(time.Second))
		c.session.abort()
		c.session = nil
	}
}

// amqpConnectionName is how syncwatch's connections are named in RabbitMQ's own
// lists (rabbitmqctl list_connections, the management UI).
const amqpConnectionName = "syncwatch health"

// dialAMQP connects and logs in, bounded by ctx (TCP, TLS and the AMQP handshake
// together). Its errors are dialErrors.
func dialAMQP(ctx context.Context, ep amqpEndpoint) (*amqpSession, error) {
	start := time.Now()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", ep.Addr)
	if err != nil {
		return nil, dialError{unreachable: true, err: err}
	}
	deadline, _ := ctx.Deadline()
	_ = raw.SetDeadline(deadline) // amqp091 clears it once the handshake is done
	// A ctx that ends during the handshake ends it; once the handshake is done, the
	// deadline the library cleared must not come back.
	stopAbort := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	// ranOut says whether a failure is the budget's end rather than the broker's
	// answer: amqp091 reports any error the server did not send after start-ok as
	// ErrCredentials, and after connection.open as ErrVhost, an i/o timeout included,
	// so its error alone would call a broker that stalls a wrong password.
	ranOut := func() bool {
		return ctx.Err() != nil || !deadline.IsZero() && !time.Now().Before(deadline)
	}
	timedOut := func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return context.DeadlineExceeded
	}
	conn := raw
	if ep.TLS != nil {
		tc := tls.Client(raw, ep.TLS.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			stopAbort()
			_ = raw.Close()
			if ranOut() {
				return nil, dialError{err: timedOut()}
			}
			return nil, dialError{tls: true, err: err}
		}
		conn = tc
	}
	c, err := amqp.Open(conn, amqp.Config{
		SASL:       []amqp.Authentication{&amqp.PlainAuth{Username: ep.Username, Password: ep.Password}},
		Vhost:      ep.Vhost,
		Heartbeat:  10 * time.Second, // a silent broker is noticed between checks too
		Locale:     "en_US",
		FrameSize:  131072,
		Properties: amqp.Table{"connection_name": amqpConnectionName, "product": "syncwatch"},
	})
	if !stopAbort() || err != nil {
		_ = raw.Close()
		if err == nil || ranOut() {
			return nil, dialError{err: timedOut()}
		}
		return nil, dialError{err: err, user: ep.Username, vhost: ep.Vhost}
	}
	return &amqpSession{conn: c, raw: raw, properties: c.Properties, connectTime: time.Since(start)}, nil
}

// dialError is a failed connection, said plainly: who was refused, and why.
type dialError struct {
	unreachable bool // no TCP connection
	tls         bool // the TLS handshake failed
	err         error
	user, vhost string
}

func (e dialError) Unwrap() error { return e.err }

// timedOut reports whether the dial ran out of time: no answer from the broker.
func (e dialError) timedOut() bool {
	return errors.Is(e.err, context.DeadlineExceeded) || isTimeout(e.err)
}

// RabbitMQ's refusals at connection.open (530 NOT_ALLOWED) that have a reason of their
// own. The no-access one ends with the user's name: the same words followed by ": …"
// are another refusal (a connection limit reached, the vhost down), whose reason the
// broker's text says best.
var (
	vhostNotFound = regexp.MustCompile(`(?i)\bvhost .* not found\s*$`)
	vhostNoAccess = regexp.MustCompile(`(?i)\baccess to vhost '.*' refused for user '[^']*'\s*$`)
)

func (e dialError) Error() string {
	var aerr *amqp.Error
	switch {
	case e.unreachable:
		return "unreachable: " + e.err.Error()
	case e.tls:
		msg := "TLS handshake failed: " + e.err.Error()
		var rec tls.RecordHeaderError
		if errors.As(e.err, &rec) {
			msg += " (the port does not speak TLS: use amqp://, or the TLS port)"
		}
		var unknown x509.UnknownAuthorityError
		if errors.As(e.err, &unknown) {
			msg += " (give the CA with ssl_ca_certs)"
		}
		return msg
	case e.timedOut():
		return "unreachable: timed out during the handshake"
	case errors.As(e.err, &aerr):
		// amqp091 reports a socket closed without a word after start-ok as
		// ErrCredentials (RabbitMQ closes it so on a refused login unless the client
		// asks for a connection.close, which amqp091 does not), and after
		// connection.open as ErrVhost. Any other error the server did not send is the
		// client's: the other end closed or spoke something that is not AMQP.
		switch {
		case errors.Is(e.err, amqp.ErrVhost):
			return fmt.Sprintf("user %q has no access to vhost %q", e.user, e.vhost)
		case errors.Is(e.err, amqp.ErrCredentials):
			return fmt.Sprintf("authentication failed for user %q (wrong password, or no such user)", e.user)
		case errors.Is(e.err, amqp.ErrSASL):
			return "the server does not offer the PLAIN login mechanism"
		case !aerr.Server:
			return "the server closed the connection during the handshake (not an AMQP port, or TLS expected?): " + aerr.Reason
		case vhostNotFound.MatchString(aerr.Reason):
			return fmt.Sprintf("vhost %q not found", e.vhost)
		case vhostNoAccess.MatchString(aerr.Reason):
			return fmt.Sprintf("user %q has no access to vhost %q", e.user, e.vhost)
		case aerr.Code == amqp.AccessRefused:
			return fmt.Sprintf("authentication failed for user %q (wrong password, or no such user)", e.user)
		}
		return "refused: " + aerr.Reason
	}
	return e.err.Error()
}

// amqpFailure turns an error of an AMQP check into a reason's error: the check's own
// deadline is a timeout wherever it struck (the abort it causes surfaces as "channel/
// connection is not open"), a connection that failed is unreachable or refused, and a
// failed call says what it was doing.
func amqpFailure(ctx context.Context, what, doing string, err error) error {
	return amqpSessionFailure(ctx, nil, what, doing, err)
}

// amqpSessionFailure is amqpFailure for a call on session s, which a check sharing it
// may have aborted because it ran out of time: that is a timeout too.
func amqpSessionFailure(ctx context.Context, s *amqpSession, what, doing string, err error) error {
	var de dialError
	if errors.As(err, &de) {
		// Wrapped, so that reason names a timeout as one, as for any other check.
		if de.unreachable || de.timedOut() {
			return fmt.Errorf("%s %w", what, de)
		}
		return fmt.Errorf("%s error: %w", what, de)
	}
	if ctx.Err() != nil || (s != nil && s.timedOut.Load()) {
		return fmt.Errorf("%s: %w", what, context.DeadlineExceeded)
	}
	if errors.Is(err, amqp.ErrClosed) {
		return fmt.Errorf("%s unreachable: the connection closed during %s", what, doing)
	}
	return fmt.Errorf("%s error: %s: %w", what, doing, err)
}

// isNotFound reports whether err is the channel error of a passive declare of
// something that does not exist. The broker closes the channel with it, so the caller
// needs a new one for its next call.
func isNotFound(err error) bool {
	var aerr *amqp.Error
	return errors.As(err, &aerr) && aerr.Code == amqp.NotFound
}

// amqpBroker speaks remote control and reads queue depths on one AMQP broker.
type amqpBroker struct {
	conn *amqpConn
	mgmt *managementClient // nil without a management URL
	ep   amqpEndpoint
	// replyExpires is the reply queue's x-expires: how long it may stay unused before
	// RabbitMQ deletes it, for the case neither auto-delete nor the end of the connection
	// removes it (its declaration succeeded and the consumer never started, while the
	// connection lives on to the next check).
	replyExpires time.Duration
	// hook, when set (tests only), is called at each stage of a broadcast with the reply
	// queue's name: "declared", then "published".
	hook func(stage, queue string)
}

// defaultReplyExpires is Celery's own control_queue_expires.
const defaultReplyExpires = 10 * time.Second

func (b *amqpBroker) kind() string      { return "rabbitmq" }
func (b *amqpBroker) display() string   { return b.ep.Display }
func (b *amqpBroker) secrets() []string { return secretsOf(b.ep, b.mgmt) }
func (b *amqpBroker) close()            { b.conn.close() }

// measure looks at the broker once: the round trip of opening a channel, a broadcast
// of roundMethods collected until the deadline (or until as many workers answered as
// the management API says are listening, or the broker returned every broadcast as
// unroutable: no worker at all), then a passive declare of every queue.
func (b *amqpBroker) measure(ctx context.Context, timeout time.Duration, known []string) celeryMeasurement {
	var m celeryMeasurement
	start := time.Now()
	s, err := b.conn.get(ctx)
	if err != nil {
		m.err = amqpFailure(ctx, "broker", "connecting", err)
		return m
	}
	// Until its AMQP calls are done, the check's deadline closes the connection to cut
	// them short (amqp091's calls take no context); once they are, it must not, or a
	// slow management API would close the healthy connection every round.
	stop := context.AfterFunc(ctx, s.expire)
	replyDeadline := start.Add(time.Duration(float64(timeout) * replyShare))

	// The management API, when given, says how many mailboxes listen, so the wait can
	// end when all have answered. Its count is of no use past the reply deadline, so it
	// gets no longer; its goroutine is joined before measure returns.
	listeners := make(chan *int64, 1)
	countCtx, stopCount := context.WithDeadline(ctx, replyDeadline)
	var wg sync.WaitGroup
	defer func() {
		stop() // first: the AMQP work is over, whatever the management API still does
		stopCount()
		wg.Wait()
		if m.err != nil && s.conn.IsClosed() {
			b.conn.reset(s)
		}
	}()
	if b.mgmt != nil {
		wg.Go(func() { listeners <- b.mgmt.pidboxListeners(countCtx) })
	} else {
		listeners <- nil
	}

	res, rtt, err := b.inspect(ctx, s, roundMethods(), nil, replyDeadline, listeners)
	stopCount() // the replies are in: the count is of no use any more
	if err != nil {
		m.err = err
		return m
	}
	m.rtt = rtt
	m.slowest = res.slowest
	if res.listeners != nil {
		m.listeners = ptr(res.listeners["ping"])
	}
	m.workers = workersFromReplies(res.replies)
	m.reserved = unackedOf(m.workers)

	m.queues, err = passiveDepths(ctx, s, queuesToCount(known, m.workers))
	if err != nil {
		m.err = err
	}
	return m
}

// inspect broadcasts each method and collects the replies on a private queue until the
// deadline, or until the known number of listeners have all answered. It returns the
// round trip of opening its channel, the broker's first answer. Closing the channel at
// the end cancels the consumer, and auto-delete removes the queue and its binding; an
// exclusive queue also goes with the connection, however it ends.
func (b *amqpBroker) inspect(ctx context.Context, s *amqpSession, methods, destination []string, deadline time.Time, listeners <-chan *int64) (inspectResult, time.Duration, error) {
	res := newInspectResult(methods)
	t0 := time.Now()
	ch, err := s.conn.Channel()
	if err != nil {
		return res, 0, amqpSessionFailure(ctx, s, "broker", "opening a channel", err)
	}
	rtt := time.Since(t0)
	defer ch.Close()

	// No worker ever started on this vhost: its broadcast exchange does not exist, and
	// publishing to it would be a channel error. Declaring it would create it: never.
	if err := ch.ExchangeDeclarePassive(broadcastExchange, "fanout", false, false, false, false, nil); err != nil {
		if isNotFound(err) {
			res.setListeners(0)
			return res, rtt, nil
		}
		return res, rtt, amqpSessionFailure(ctx, s, "broker", "looking up "+broadcastExchange, err)
	}
	// The reply exchange, declared as kombu declares it (so both declarations agree):
	// Celery's own clients declare it too, and it stays, as after `celery inspect`.
	if err := ch.ExchangeDeclare(replyExchange, "direct", false, false, false, false, nil); err != nil {
		return res, rtt, amqpSessionFailure(ctx, s, "broker", "declaring "+replyExchange, err)
	}
	rk := "syncwatch-" + newID()
	q, err := ch.QueueDeclare(rk+"."+replyExchange, false, true, true, false,
		amqp.Table{"x-expires": int32(b.replyExpiresOrDefault() / time.Millisecond)})
	if err != nil {
		return res, rtt, amqpSessionFailure(ctx, s, "broker", "declaring the reply queue", err)
	}
	b.at("declared", q.Name)
	if err := ch.QueueBind(q.Name, rk, replyExchange, false, nil); err != nil {
		return res, rtt, amqpSessionFailure(ctx, s, "broker", "binding the reply queue", err)
	}
	deliveries, err := ch.ConsumeWithContext(ctx, q.Name, "", true, true, false, false, nil)
	if err != nil {
		return res, rtt, amqpSessionFailure(ctx, s, "broker", "consuming the reply queue", err)
	}
	returns := ch.NotifyReturn(make(chan amqp.Return, len(methods)))

	tickets := map[string]string{}
	for _, method := range methods {
		ticket := newID()
		tickets[ticket] = method
		msg, err := amqpControlMessage(controlRequest{Method: method, Destination: destination, Ticket: ticket, RoutingKey: rk, Expires: deadline})
		if err != nil {
			return res, rtt, err
		}
		// mandatory: a broadcast no mailbox receives comes back, so that "no worker"
		// needs no wait.
		if err := ch.PublishWithContext(ctx, broadcastExchange, "", true, false, msg); err != nil {
			return res, rtt, amqpSessionFailure(ctx, s, "broker", "publishing", err)
		}
	}
	sent := time.Now()
	b.at("published", q.Name)

	if err := collectReplies(ctx, &res, tickets, sent, deadline, len(methods), deliveries, returns, listeners); err != nil {
		return res, rtt, amqpSessionFailure(ctx, s, "broker", "collecting replies", err)
	}
	return res, rtt, nil
}

// collectReplies adds the replies to the broadcasts of tickets (sent at sent) to res
// until the deadline, until every listener has answered, or until the broker returned
// all the broadcasts unroutable (no mailbox at all). It fails with amqp.ErrClosed when
// the consumer ends, and with ctx's error when ctx does.
func collectReplies(ctx context.Context, res *inspectResult, tickets map[string]string, sent, deadline time.Time, broadcasts int,
	deliveries <-chan amqp.Delivery, returns <-chan amqp.Return, listeners <-chan *int64) error {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	returned := 0
	for !res.allAnswered() {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return amqp.ErrClosed
			}
			ticket, _ := d.Headers["ticket"].(string)
			results, err := decodeReplyBody(d.ContentType, d.Body)
			if err != nil {
				continue // not ours to understand; the worker's other replies still count
			}
			res.add(tickets, ticket, results, sent)
		case _, ok := <-returns:
			if !ok {
				// amqp091 closes it when the channel shuts down: that returned nothing,
				// and the closed deliveries will tell.
				returns = nil
				continue
			}
			if returned++; returned == broadcasts {
				res.setListeners(0) // every broadcast came back: no mailbox is bound
			}
		case n := <-listeners:
			if n != nil && returned < broadcasts {
				res.setListeners(*n)
			}
		case <-timer.C:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

func (b *amqpBroker) replyExpiresOrDefault() time.Duration {
	if b.replyExpires > 0 {
		return b.replyExpires
	}
	return defaultReplyExpires
}

func (b *amqpBroker) at(stage, queue string) {
	if b.hook != nil {
		b.hook(stage, queue)
	}
}

// amqpControlMessage is a remote-control command as `celery inspect` publishes it on
// AMQP, checked by validateAMQPMessage before it is returned.
func amqpControlMessage(req controlRequest) (amqp.Publishing, error) {
	body, err := encodeCommand(req)
	if err != nil {
		return amqp.Publishing{}, err
	}
	msg := amqp.Publishing{
		ContentType:     "application/json",
		ContentEncoding: "utf-8",
		DeliveryMode:    amqp.Persistent,
		Priority:        0,
		Headers:         amqp.Table{"clock": int32(1), "expires": unixSeconds(req.Expires)},
		Body:            body,
	}
	if err := validateAMQPMessage(msg); err != nil {
		return amqp.Publishing{}, err
	}
	return msg, nil
}

// validateAMQPMessage refuses a message a worker could not read as a remote-control
// command: JSON content type and encoding, an expiry, and a command that passes
// validateCommand.
func validateAMQPMessage(msg amqp.Publishing) error {
	expires, _ := msg.Headers["expires"].(float64)
	switch {
	case msg.ContentType != "application/json":
		return errors.New("message: content type is not application/json")
	case msg.ContentEncoding != "utf-8":
		return errors.New("message: content encoding is not utf-8")
	case expires <= 0:
		return errors.New("message: no expires header")
	}
	if err := validateCommand(msg.Body); err != nil {
		return fmt.Errorf("message: %w", err)
	}
	return nil
}

// passiveDepths reads the ready messages of every queue with a passive declare, which
// fails (404) for a queue that does not exist instead of creating it. That failure
// closes the channel, so the next queue gets a fresh one.
func passiveDepths(ctx context.Context, s *amqpSession, queues []string) (map[string]queueCount, error) {
	out := make(map[string]queueCount, len(queues))
	var ch *amqp.Channel
	defer func() {
		if ch != nil {
			_ = ch.Close()
		}
	}()
	for _, q := range queues {
		if ch == nil {
			var err error
			if ch, err = s.conn.Channel(); err != nil {
				return nil, amqpSessionFailure(ctx, s, "broker", "opening a channel", err)
			}
		}
		info, err := ch.QueueDeclarePassive(q, false, false, false, false, nil)
		switch {
		case isNotFound(err):
			out[q] = queueCount{missing: true}
			ch = nil // the broker closed it
		case err != nil:
			return nil, amqpSessionFailure(ctx, s, "broker", "reading queue "+strconv.Quote(q), err)
		default:
			out[q] = queueCount{pending: int64(info.Messages)}
		}
	}
	return out, nil
}

// unackedOf sums the messages the answering workers hold unacknowledged: reserved
// (prefetched) and active ones not acknowledged yet (late acks). Nil unless every
// answering worker answered both active and reserved.
func unackedOf(workers map[string]workerFacts) *int64 {
	if len(workers) == 0 {
		return nil
	}
	var n int64
	for _, w := range workers {
		if w.Unacked == nil {
			return nil
		}
		n += *w.Unacked
	}
	return &n
}
