package health

// Unit tests of remote control on AMQP: no services. testdata/wire/amqp_request_ping.json
// is what `celery inspect ping` published (read by a queue bound to celery.pidbox), and
// amqp_reply_*.json are a Celery 5.2.6 worker's replies (prefork, -c 1, prefetch 4, one
// task running and three reserved), as RabbitMQ delivered them.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/syncwatch/syncwatch/internal/servicetest"
)

// wireMessage is an AMQP message as the fixtures record it.
type wireMessage struct {
	Exchange        string         `json:"exchange"`
	RoutingKey      string         `json:"routing_key"`
	ContentType     string         `json:"content_type"`
	ContentEncoding string         `json:"content_encoding"`
	DeliveryMode    uint8          `json:"delivery_mode"`
	Priority        uint8          `json:"priority"`
	Headers         map[string]any `json:"headers"`
	Body            string         `json:"body"`
}

func readWire(t *testing.T, name string) wireMessage {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "wire", name))
	if err != nil {
		t.Fatal(err)
	}
	var m wireMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

// TestAMQPControlMessageMatchesCelerysOwn compares our ping with `celery inspect ping`'s:
// the same properties, the same header names, a body of the same shape.
func TestAMQPControlMessageMatchesCelerysOwn(t *testing.T) {
	t.Parallel()
	celerys := readWire(t, "amqp_request_ping.json")
	ours, err := amqpControlMessage(controlRequest{Method: "ping", Ticket: "t", RoutingKey: "rk", Expires: time.Unix(1796078194, 392425300)})
	if err != nil {
		t.Fatal(err)
	}
	if celerys.Exchange != broadcastExchange || celerys.RoutingKey != "" {
		t.Errorf("Celery published to %q with key %q; we publish to %q with key \"\"", celerys.Exchange, celerys.RoutingKey, broadcastExchange)
	}
	got := wireMessage{ContentType: ours.ContentType, ContentEncoding: ours.ContentEncoding, DeliveryMode: ours.DeliveryMode, Priority: ours.Priority}
	want := wireMessage{ContentType: celerys.ContentType, ContentEncoding: celerys.ContentEncoding, DeliveryMode: celerys.DeliveryMode, Priority: celerys.Priority}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("properties (-celery's +ours):\n%s", diff)
	}
	var ourHeaders []string
	for k := range ours.Headers {
		ourHeaders = append(ourHeaders, k)
	}
	slices.Sort(ourHeaders)
	if !slices.Equal(ourHeaders, []string{"clock", "expires"}) || len(celerys.Headers) != 2 || celerys.Headers["clock"] == nil || celerys.Headers["expires"] == nil {
		t.Errorf("headers: ours %v, Celery's %v; want clock and expires", ours.Headers, celerys.Headers)
	}
	if got := ours.Headers["expires"]; got != 1796078194.392425 {
		t.Errorf("expires: got %v, want Unix seconds with microseconds, 1796078194.392425", got)
	}
	if got, want := jsonPaths(t, ours.Body), jsonPaths(t, []byte(celerys.Body)); !slices.Equal(got, want) {
		t.Errorf("body paths: got %v, want %v", got, want)
	}
	if err := validateAMQPMessage(amqp.Publishing{ContentType: celerys.ContentType, ContentEncoding: celerys.ContentEncoding,
		Headers: amqp.Table{"expires": celerys.Headers["expires"]}, Body: []byte(celerys.Body)}); err != nil {
		t.Errorf("Celery's own message fails our guard: %v", err)
	}
}

// jsonPaths lists every path of a JSON object, sorted.
func jsonPaths(t *testing.T, raw []byte) []string {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	return valuePaths(v)
}

// TestAMQPControlMessageGuard: every message the package can build passes the guard, and
// the guard refuses each field whose absence makes a worker ignore or mistake it.
func TestAMQPControlMessageGuard(t *testing.T) {
	t.Parallel()
	for _, method := range []string{"ping", "stats", "active_queues", "active", "reserved"} {
		if _, err := amqpControlMessage(controlRequest{Method: method, Ticket: "t", RoutingKey: "rk", Expires: time.Now()}); err != nil {
			t.Errorf("%s: %v", method, err)
		}
	}
	for _, method := range []string{"shutdown", "pool_restart", "rate_limit", ""} {
		if _, err := amqpControlMessage(controlRequest{Method: method, Ticket: "t", RoutingKey: "rk", Expires: time.Now()}); err == nil {
			t.Errorf("%q: got a message, want the encoder to refuse it", method)
		}
	}
	good, err := amqpControlMessage(controlRequest{Method: "ping", Ticket: "t", RoutingKey: "rk", Expires: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(m *amqp.Publishing)) amqp.Publishing {
		m := good
		m.Headers = amqp.Table{}
		for k, v := range good.Headers {
			m.Headers[k] = v
		}
		f(&m)
		return m
	}
	tests := []struct {
		name string
		msg  amqp.Publishing
		want string
	}{
		{"no content type", edit(func(m *amqp.Publishing) { m.ContentType = "" }), "content type"},
		{"pickle", edit(func(m *amqp.Publishing) { m.ContentType = "application/x-python-serialize" }), "content type"},
		{"no content encoding", edit(func(m *amqp.Publishing) { m.ContentEncoding = "" }), "content encoding"},
		{"no expires", edit(func(m *amqp.Publishing) { delete(m.Headers, "expires") }), "expires"},
		{"a destructive method", edit(func(m *amqp.Publishing) { m.Body = []byte(strings.Replace(string(m.Body), `"ping"`, `"shutdown"`, 1)) }), "method"},
		{"no reply_to", edit(func(m *amqp.Publishing) { m.Body = []byte(`{"method": "ping", "arguments": {}, "ticket": "t"}`) }), "reply_to"},
		{"no ticket", edit(func(m *amqp.Publishing) {
			m.Body = []byte(`{"method": "ping", "arguments": {}, "reply_to": {"exchange": "x", "routing_key": "k"}}`)
		}), "ticket"},
		{"not JSON", edit(func(m *amqp.Publishing) { m.Body = []byte("ping") }), "command"},
	}
	for _, tt := range tests {
		if err := validateAMQPMessage(tt.msg); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: got %v, want an error about %s", tt.name, err, tt.want)
		}
	}
}

// TestDecodeAMQPRepliesFromARealWorker reads a worker's five replies as RabbitMQ
// delivered them: plain JSON bodies, the ticket in a header.
func TestDecodeAMQPRepliesFromARealWorker(t *testing.T) {
	t.Parallel()
	replies := map[string]map[string]json.RawMessage{}
	for _, method := range []string{"ping", "stats", "active_queues", "active", "reserved"} {
		m := readWire(t, "amqp_reply_"+method+".json")
		if m.Exchange != replyExchange || m.RoutingKey != "capture-rk" {
			t.Errorf("%s: came through %q with key %q, want %q and our routing key", method, m.Exchange, m.RoutingKey, replyExchange)
		}
		if ticket, _ := m.Headers["ticket"].(string); ticket != "ticket-"+method {
			t.Errorf("%s: ticket header %v, want ticket-%s", method, m.Headers["ticket"], method)
		}
		results, err := decodeReplyBody(m.ContentType, []byte(m.Body))
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if _, ok := results["fixture@syncwatch-test"]; !ok || len(results) != 1 {
			t.Errorf("%s: got nodes %v, want fixture@syncwatch-test", method, results)
		}
		replies[method] = results
	}
	got := workersFromReplies(replies)
	want := map[string]workerFacts{"fixture@syncwatch-test": {
		PID: ptr[int64](6706), PoolSize: ptr[int64](1), Processed: ptr[int64](1), UptimeSeconds: ptr[int64](24),
		Prefetch: ptr[int64](4), Queues: []string{"dw-production"},
		Active: ptr[int64](1), Reserved: ptr[int64](3), Unacked: ptr[int64](4),
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("workers (-want +got):\n%s", diff)
	}
	if got := unackedOf(got); deref(got) != int64(4) {
		t.Errorf("unacked over the workers: got %v, want 4", deref(got))
	}
}

func TestUnackedCountsOnlyWhatIsKnown(t *testing.T) {
	t.Parallel()
	replies := map[string]map[string]json.RawMessage{
		"active": {
			"late@h":  json.RawMessage(`[{"acknowledged": false}, {"acknowledged": false}]`),
			"early@h": json.RawMessage(`[{"acknowledged": true}]`),
			"mute@h":  json.RawMessage(`[]`),
		},
		"reserved": {
			"late@h":  json.RawMessage(`[{}]`),
			"early@h": json.RawMessage(`[]`),
		},
	}
	got := workersFromReplies(replies)
	for node, want := range map[string]any{"late@h": int64(3), "early@h": int64(0), "mute@h": nil} {
		if u := deref(got[node].Unacked); u != want {
			t.Errorf("%s unacked: got %v, want %v", node, u, want)
		}
	}
	if u := unackedOf(got); u != nil {
		t.Errorf("unacked over workers one of which did not answer reserved: got %v, want null", *u)
	}
	if u := unackedOf(map[string]workerFacts{}); u != nil {
		t.Errorf("unacked without workers: got %v, want null", *u)
	}
}

// TestDialErrorSaysWhy: the reasons of a failed connection, from the errors amqp091 and
// RabbitMQ 3.10 give (seen in TestAMQPConnectionFailuresSayWhy against a real node).
func TestDialErrorSaysWhy(t *testing.T) {
	t.Parallel()
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	tests := []struct {
		err  dialError
		want string
	}{
		{dialError{unreachable: true, err: refused}, "unreachable: dial tcp: connect: connection refused"},
		{dialError{err: amqp.ErrCredentials, user: "celery", vhost: "dw"}, `authentication failed for user "celery" (wrong password, or no such user)`},
		{dialError{err: &amqp.Error{Code: amqp.AccessRefused, Reason: "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN.", Server: true}, user: "celery"},
			`authentication failed for user "celery"`},
		{dialError{err: &amqp.Error{Code: amqp.NotAllowed, Reason: "NOT_ALLOWED - vhost dw not found", Server: true}, user: "celery", vhost: "dw"}, `vhost "dw" not found`},
		{dialError{err: &amqp.Error{Code: amqp.NotAllowed, Reason: "NOT_ALLOWED - access to vhost 'dw' refused for user 'celery'", Server: true}, user: "celery", vhost: "dw"},
			`user "celery" has no access to vhost "dw"`},
		{dialError{err: amqp.ErrVhost, user: "celery", vhost: "dw"}, `user "celery" has no access to vhost "dw"`},
		{dialError{tls: true, err: tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}}, "the port does not speak TLS"},
		{dialError{tls: true, err: &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}}, "give the CA with ssl_ca_certs"},
		{dialError{err: errTimeout{}}, "unreachable: timed out during the handshake"},
		{dialError{err: context.DeadlineExceeded}, "unreachable: timed out during the handshake"},
		// Refusals at connection.open that are not about access: the broker's own words.
		{dialError{err: &amqp.Error{Code: amqp.NotAllowed, Reason: "NOT_ALLOWED - access to vhost 'dw' refused for user 'celery': connection limit (10) is reached", Server: true}, user: "celery", vhost: "dw"},
			"refused: NOT_ALLOWED - access to vhost 'dw' refused for user 'celery': connection limit (10) is reached"},
		{dialError{err: &amqp.Error{Code: amqp.NotAllowed, Reason: "NOT_ALLOWED - vhost dw is down", Server: true}, user: "celery", vhost: "dw"},
			"refused: NOT_ALLOWED - vhost dw is down"},
		{dialError{err: &amqp.Error{Code: amqp.NotAllowed, Reason: "NOT_ALLOWED - connection refused: user 'celery' reached the limit of 10 connections", Server: true}, user: "celery", vhost: "dw"},
			"refused: NOT_ALLOWED - connection refused: user 'celery' reached the limit of 10 connections"},
		// Errors of the client's own, which the server never said: not a refusal.
		{dialError{err: &amqp.Error{Code: amqp.FrameError, Reason: "EOF"}, user: "celery", vhost: "dw"},
			"the server closed the connection during the handshake (not an AMQP port, or TLS expected?)"},
		{dialError{err: &amqp.Error{Code: amqp.FrameError, Reason: "frame could not be parsed"}, user: "celery", vhost: "dw"},
			"the server closed the connection during the handshake (not an AMQP port, or TLS expected?)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); !strings.Contains(got, tt.want) {
			t.Errorf("%v: got %q, want it to say %q", tt.err.err, got, tt.want)
		}
	}

	// Real dials to servers that misbehave in the handshake. amqp091 reports any error
	// the server did not send after start-ok as a wrong password: a server that stalls
	// there must read as timed out, not as a refusal.
	tlsFiles := servicetest.NewTLSFiles(t)
	cert, err := tls.LoadX509KeyPair(tlsFiles.Cert, tlsFiles.Key)
	if err != nil {
		t.Fatal(err)
	}
	dials := []struct {
		name  string
		serve func(net.Conn)
		want  string
	}{
		{"stalls after connection.start", func(c net.Conn) {
			if _, err := io.ReadFull(c, make([]byte, 8)); err != nil { // the protocol header
				return
			}
			_, _ = c.Write(connectionStartFrame())
			_, _ = io.Copy(io.Discard, c)
		}, "unreachable: timed out during the handshake"},
		{"stalls before connection.start", func(c net.Conn) { _, _ = io.Copy(io.Discard, c) }, "unreachable: timed out during the handshake"},
		{"closes after the protocol header", func(c net.Conn) { _, _ = io.ReadFull(c, make([]byte, 8)) }, "the server closed the connection during the handshake (not an AMQP port, or TLS expected?)"},
		{"speaks TLS", func(c net.Conn) {
			_ = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}}).Handshake()
		}, "the server closed the connection during the handshake (not an AMQP port, or TLS expected?)"},
	}
	for _, tt := range dials {
		ep, err := parseAMQPURL("amqp://celery:S3cret-pw@" + fakePeer(t, tt.serve) + "/dw")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		s, err := dialAMQP(ctx, ep)
		cancel()
		if err == nil {
			s.abort()
			t.Errorf("%s: the dial succeeded", tt.name)
			continue
		}
		if got := err.Error(); !strings.Contains(got, tt.want) {
			t.Errorf("%s: got %q, want it to say %q", tt.name, got, tt.want)
		}
	}
}

// connectionStartFrame is the server's first frame, connection.start, as RabbitMQ sends
// it but with no properties: AMQP 0-9-1, PLAIN login, en_US.
func connectionStartFrame() []byte {
	var payload []byte
	payload = binary.BigEndian.AppendUint16(payload, 10) // class connection
	payload = binary.BigEndian.AppendUint16(payload, 10) // method start
	payload = append(payload, 0, 9)                      // version 0-9
	payload = binary.BigEndian.AppendUint32(payload, 0)  // server properties: an empty table
	for _, long := range []string{"PLAIN", "en_US"} {    // mechanisms, locales
		payload = binary.BigEndian.AppendUint32(payload, uint32(len(long)))
		payload = append(payload, long...)
	}
	frame := []byte{1, 0, 0} // a method frame, on channel 0
	frame = binary.BigEndian.AppendUint32(frame, uint32(len(payload)))
	frame = append(frame, payload...)
	return append(frame, 0xCE) // frame end
}

// fakePeer listens on a free port and runs serve on each connection accepted, closing
// it when serve returns; the test's end closes everything and waits for it.
func fakePeer(t *testing.T, serve func(net.Conn)) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				serve(c)
			})
		}
	})
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close() // ends a serve that waits on its peer
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// TestAMQPFailureKeepsTimeouts: a dial that timed out is a timeout in the report too,
// as any other check's (the dialError is wrapped, not quoted), and unreachable.
func TestAMQPFailureKeepsTimeouts(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tests := []struct {
		err  error
		want string
	}{
		{dialError{err: context.DeadlineExceeded}, "broker unreachable: timed out after 2s"},
		{dialError{unreachable: true, err: &net.OpError{Op: "dial", Net: "tcp", Err: errTimeout{}}}, "broker unreachable: timed out after 2s"},
		{dialError{unreachable: true, err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}},
			"broker unreachable: dial tcp: connect: connection refused"},
		{dialError{err: amqp.ErrCredentials, user: "celery", vhost: "dw"}, `broker error: authentication failed for user "celery"`},
	}
	for _, tt := range tests {
		if got := reason(amqpFailure(ctx, "broker", "connecting", tt.err), 2*time.Second); !strings.Contains(got, tt.want) {
			t.Errorf("%v: got %q, want it to say %q", tt.err, got, tt.want)
		}
	}
}

// TestAMQPOnlyAnExpiryIsATimeout: a connection closed after a real failure (reset, get
// dropping a closed one, close) says the connection closed; only one a check's deadline
// closed says timed out.
func TestAMQPOnlyAnExpiryIsATimeout(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		close func(*amqpSession)
		want  string
	}{
		{"aborted after a failure", (*amqpSession).abort, "rabbitmq unreachable: the connection closed during opening a channel"},
		{"expired", (*amqpSession).expire, "rabbitmq: timed out after 2s"},
	} {
		raw, peer := net.Pipe()
		s := &amqpSession{raw: raw}
		tt.close(s)
		_ = peer.Close()
		got := reason(amqpSessionFailure(context.Background(), s, "rabbitmq", "opening a channel", amqp.ErrClosed), 2*time.Second)
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// TestCollectRepliesAfterTheChannelShutDown: amqp091 closes the returns channel when the
// channel shuts down; a closed one is no broadcast come back, and no proof that no
// worker listens.
func TestCollectRepliesAfterTheChannelShutDown(t *testing.T) {
	t.Parallel()
	methods := []string{"ping", "stats"}
	noCount := func() <-chan *int64 {
		c := make(chan *int64, 1)
		c <- nil
		return c
	}

	closed := make(chan amqp.Return)
	close(closed)
	res := newInspectResult(methods)
	err := collectReplies(context.Background(), &res, map[string]string{}, time.Now(), time.Now().Add(100*time.Millisecond),
		len(methods), make(chan amqp.Delivery), closed, noCount())
	if err != nil || res.listeners != nil {
		t.Errorf("returns closed: got %v, listeners %v; want the deadline, listeners unknown", err, res.listeners)
	}

	// Every broadcast really returned: no mailbox, said at once.
	returned := make(chan amqp.Return, len(methods))
	for range methods {
		returned <- amqp.Return{ReplyCode: amqp.NoRoute}
	}
	res = newInspectResult(methods)
	err = collectReplies(context.Background(), &res, map[string]string{}, time.Now(), time.Now().Add(time.Minute),
		len(methods), make(chan amqp.Delivery), returned, noCount())
	if err != nil || res.listeners["ping"] != 0 || !res.allAnswered() {
		t.Errorf("all returned: got %v, listeners %v; want 0 listening", err, res.listeners)
	}

	// The consumer ended: the connection or channel closed.
	deliveries := make(chan amqp.Delivery)
	close(deliveries)
	res = newInspectResult(methods)
	err = collectReplies(context.Background(), &res, map[string]string{}, time.Now(), time.Now().Add(time.Minute),
		len(methods), deliveries, closed, noCount())
	if !errors.Is(err, amqp.ErrClosed) {
		t.Errorf("deliveries closed: got %v, want amqp.ErrClosed", err)
	}
}

// TestAMQPSecretsKeepNames: the passwords masked are the ones the URLs give; kombu's
// default guest, and a password equal to the user's or the vhost's name, leave those
// names readable; any other password is masked wherever it appears.
func TestAMQPSecretsKeepNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, broker, mgmt string
		err                error
		want               string
	}{
		{"no password: kombu's default guest", "amqp://127.0.0.1/dw", "",
			dialError{err: amqp.ErrCredentials, user: "guest", vhost: "dw"}, `authentication failed for user "guest"`},
		{"only a user: the default password", "amqp://guest@127.0.0.1/dw", "",
			dialError{err: amqp.ErrCredentials, user: "guest", vhost: "dw"}, `authentication failed for user "guest"`},
		{"the password is the user name", "amqp://celery:celery@127.0.0.1/dw", "",
			dialError{err: amqp.ErrCredentials, user: "celery", vhost: "dw"}, `authentication failed for user "celery"`},
		{"the password is the vhost", "amqp://celery:warehouse@127.0.0.1/warehouse", "",
			dialError{err: amqp.ErrVhost, user: "celery", vhost: "warehouse"}, `user "celery" has no access to vhost "warehouse"`},
		{"a password of its own, quoted bare", "amqp://celery:S3cret-pw@127.0.0.1/dw", "",
			errors.New("login celery/S3cret-pw refused"), "login celery/*** refused"},
		{"a URL's userinfo, even with the password equal to the user", "amqp://celery:celery@127.0.0.1/dw", "",
			errors.New("dial amqp://celery:celery@127.0.0.1/dw: refused"), "dial amqp://celery:***@127.0.0.1/dw: refused"},
		{"the management API with the broker's default credentials", "amqp://127.0.0.1/dw", "http://127.0.0.1:15672/",
			errors.New(`management API: user "guest" was refused: Login failed`), `user "guest" was refused`},
		{"the management API's own password, quoted bare", "amqp://127.0.0.1/dw", "http://watcher:Mgmt-S3cret@127.0.0.1:15672/",
			errors.New("watcher/Mgmt-S3cret refused"), "watcher/*** refused"},
	}
	for _, tt := range tests {
		setup, err := newBroker(Config{BrokerURL: tt.broker, RabbitMQManagementURL: tt.mgmt, Timeout: time.Second})
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for who, secrets := range map[string][]string{"celery": setup.broker.secrets(), "rabbitmq": setup.rabbitmq.secrets} {
			if got := reason(tt.err, time.Second, secrets...); !strings.Contains(got, tt.want) {
				t.Errorf("%s, %s: got %q, want it to say %q", tt.name, who, got, tt.want)
			}
		}
		setup.broker.close()
	}
}

// TestAMQPReasonsMaskThePasswords: should an error ever quote the broker's or the
// management API's password, neither section shows it.
func TestAMQPReasonsMaskThePasswords(t *testing.T) {
	t.Parallel()
	const brokerSecret, mgmtSecret = "Br0ker-Secret", "Mgmt-Secret"
	m, clock := newTestMonitor(t, Config{
		BrokerURL:             "amqp://celery:" + brokerSecret + "@" + hungPeer(t) + "/dw",
		RabbitMQManagementURL: "http://watcher:" + mgmtSecret + "@127.0.0.1:1/",
		Timeout:               300 * time.Millisecond,
	})
	// The dial before failed with an error quoting both; the broker now hangs, so the
	// checks report that error.
	conn := m.broker.(*amqpBroker).conn
	conn.mu.Lock()
	conn.lastErr = dialError{err: errors.New("login as celery/" + brokerSecret + " refused, see " + mgmtSecret)}
	conn.mu.Unlock()
	rep := check(t, m, clock)
	for name, reason := range map[string]string{"celery": rep.Celery.Error, "rabbitmq": rep.RabbitMQ.Error} {
		if !strings.Contains(reason, "login as celery/*** refused, see ***") {
			t.Errorf("%s: got %q, want the error with both passwords masked", name, reason)
		}
	}
}
