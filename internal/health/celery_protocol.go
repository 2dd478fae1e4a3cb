package health

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Celery's remote control, whatever carries it: the names, the command every worker
// understands, the guard that every command passes before it is sent, and the reading
// of replies. The transports (broker_redis.go, broker_amqp.go) only move these bytes.
// See shared/reference/celery-protocol.md; every field here was checked against what
// Debian's Celery 5.2.6 sends and accepts.

// controlNamespace is Celery's control_exchange.
const controlNamespace = "celery"

// broadcastExchange is the fanout exchange every worker's mailbox is bound to.
const broadcastExchange = controlNamespace + ".pidbox"

// replyExchange is the direct exchange workers reply to.
const replyExchange = "reply." + controlNamespace + ".pidbox"

// roundMethods are the inspections one round of checks broadcasts: ping says who is
// alive, stats gives pool sizes and counts, active_queues the queues to count, active
// and reserved the tasks each worker runs and holds.
func roundMethods() []string { return []string{"ping", "stats", "active_queues", "active", "reserved"} }

// isInspectMethod reports whether method is one of the only remote-control methods this
// package may send: read-only inspections. The encoder refuses every other method, so no
// code path here can ever shut down, restart or reconfigure a worker.
func isInspectMethod(method string) bool {
	switch method {
	case "ping", "stats", "active_queues", "active", "reserved":
		return true
	}
	return false
}

// controlCommand is the body of a remote-control message, as kombu's Mailbox._publish
// writes it.
type controlCommand struct {
	Method      string    `json:"method"`
	Arguments   struct{}  `json:"arguments"`   // always {}
	Destination []string  `json:"destination"` // null: every worker
	Pattern     *string   `json:"pattern"`
	Matcher     *string   `json:"matcher"`
	Ticket      string    `json:"ticket"`
	ReplyTo     replyAddr `json:"reply_to"`
}

type replyAddr struct {
	Exchange   string `json:"exchange"`
	RoutingKey string `json:"routing_key"`
}

// controlRequest is what the encoders need to build one remote-control message.
type controlRequest struct {
	Method      string
	Destination []string // nil: broadcast to every worker
	Ticket      string   // matches replies to this request
	RoutingKey  string   // the reply binding's routing key
	DeliveryTag string   // the virtual transport's delivery tag (Redis); AMQP sets its own
	Expires     time.Time
}

// encodeCommand builds the JSON command of a remote-control request and checks it with
// validateCommand before returning it. On AMQP it is the message body as it is.
func encodeCommand(req controlRequest) ([]byte, error) {
	if !isInspectMethod(req.Method) {
		return nil, fmt.Errorf("encode control: method %q is not a read-only inspection", req.Method)
	}
	if req.Ticket == "" || req.RoutingKey == "" || req.Expires.IsZero() {
		return nil, errors.New("encode control: ticket, routing key and expiry are required")
	}
	body, err := json.Marshal(controlCommand{
		Method:      req.Method,
		Destination: req.Destination,
		Ticket:      req.Ticket,
		ReplyTo:     replyAddr{Exchange: replyExchange, RoutingKey: req.RoutingKey},
	})
	if err != nil {
		return nil, fmt.Errorf("encode control: %w", err)
	}
	if err := validateCommand(body); err != nil {
		return nil, err
	}
	return body, nil
}

// validateCommand re-reads an encoded command the way a worker does and refuses it
// unless it is a read-only inspection with a ticket, arguments {} and a reply_to with an
// exchange and a routing key.
func validateCommand(body []byte) error {
	var cmd struct {
		Method  string          `json:"method"`
		Ticket  string          `json:"ticket"`
		Args    json.RawMessage `json:"arguments"`
		ReplyTo *replyAddr      `json:"reply_to"`
	}
	if err := json.Unmarshal(body, &cmd); err != nil {
		return fmt.Errorf("command: %w", err)
	}
	switch {
	case !isInspectMethod(cmd.Method):
		return fmt.Errorf("command: method %q is not a read-only inspection", cmd.Method)
	case cmd.Ticket == "":
		return errors.New("command: no ticket")
	case cmd.ReplyTo == nil || cmd.ReplyTo.RoutingKey == "" || cmd.ReplyTo.Exchange == "":
		return errors.New("command: no reply_to routing_key")
	case string(cmd.Args) != "{}":
		return errors.New("command: arguments is not {}")
	}
	return nil
}

// envelope is kombu's virtual-transport message (the Redis transport's). Every field is
// a plain struct field without omitempty: an envelope without properties.delivery_tag
// makes every worker exit, one without content-type leaves every worker deaf to remote
// control.
type envelope struct {
	Body            string             `json:"body"`
	ContentEncoding string             `json:"content-encoding"`
	ContentType     string             `json:"content-type"`
	Headers         envelopeHeaders    `json:"headers"`
	Properties      envelopeProperties `json:"properties"`
}

type envelopeHeaders struct {
	Clock   int64   `json:"clock"`
	Expires float64 `json:"expires"`
}

type envelopeProperties struct {
	DeliveryMode int          `json:"delivery_mode"`
	DeliveryInfo deliveryInfo `json:"delivery_info"`
	Priority     int          `json:"priority"`
	BodyEncoding string       `json:"body_encoding"`
	DeliveryTag  string       `json:"delivery_tag"`
}

type deliveryInfo struct {
	Exchange   string `json:"exchange"`
	RoutingKey string `json:"routing_key"`
}

// encodeControl builds the virtual-transport envelope of a remote-control command and
// checks it with validateEnvelope before returning it, so a malformed envelope is never
// published.
func encodeControl(req controlRequest) ([]byte, error) {
	if req.DeliveryTag == "" {
		return nil, errors.New("encode control: a delivery tag is required")
	}
	body, err := encodeCommand(req)
	if err != nil {
		return nil, err
	}
	env := envelope{
		Body:            base64.StdEncoding.EncodeToString(body),
		ContentEncoding: "utf-8",
		ContentType:     "application/json",
		Headers: envelopeHeaders{
			Clock:   1,
			Expires: unixSeconds(req.Expires),
		},
		Properties: envelopeProperties{
			DeliveryMode: 2,
			DeliveryInfo: deliveryInfo{Exchange: broadcastExchange, RoutingKey: ""},
			Priority:     0,
			BodyEncoding: "base64",
			DeliveryTag:  req.DeliveryTag,
		},
	}
	out, err := json.Marshal(env)
	if err != nil {
		return nil, fmt.Errorf("encode control: %w", err)
	}
	if err := validateEnvelope(out); err != nil {
		return nil, err
	}
	return out, nil
}

// unixSeconds is a time as Celery's "expires" header writes it: Unix seconds with
// microseconds.
func unixSeconds(t time.Time) float64 { return float64(t.UnixMicro()) / 1e6 }

// validateEnvelope re-reads an encoded envelope the way a worker does and refuses it
// unless it carries everything a worker needs: properties.delivery_tag, content-type
// application/json, content-encoding, body_encoding base64, headers.expires, and a body
// that passes validateCommand.
func validateEnvelope(raw []byte) error {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(raw, &env); err != nil {
		return fmt.Errorf("envelope: %w", err)
	}
	var props struct {
		DeliveryTag  *string `json:"delivery_tag"`
		BodyEncoding string  `json:"body_encoding"`
	}
	var headers struct {
		Expires *float64 `json:"expires"`
	}
	var contentType, contentEncoding, body string
	for _, f := range []struct {
		key string
		dst any
	}{
		{"properties", &props}, {"headers", &headers}, {"content-type", &contentType},
		{"content-encoding", &contentEncoding}, {"body", &body},
	} {
		v, ok := env[f.key]
		if !ok {
			return fmt.Errorf("envelope: no %s", f.key)
		}
		if err := json.Unmarshal(v, f.dst); err != nil {
			return fmt.Errorf("envelope: %s: %w", f.key, err)
		}
	}
	switch {
	case props.DeliveryTag == nil || *props.DeliveryTag == "":
		return errors.New("envelope: no properties.delivery_tag")
	case props.BodyEncoding != "base64":
		return errors.New("envelope: properties.body_encoding is not base64")
	case contentType != "application/json":
		return errors.New("envelope: content-type is not application/json")
	case contentEncoding == "":
		return errors.New("envelope: no content-encoding")
	case headers.Expires == nil || *headers.Expires <= 0:
		return errors.New("envelope: no headers.expires")
	}
	decoded, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		return fmt.Errorf("envelope: body: %w", err)
	}
	if err := validateCommand(decoded); err != nil {
		return fmt.Errorf("envelope: %w", err)
	}
	return nil
}

// decodeReply reads a worker's reply envelope (virtual transport): its ticket and its
// body, which maps the worker's node name to its result.
func decodeReply(raw []byte) (ticket string, results map[string]json.RawMessage, err error) {
	var env struct {
		Body        string `json:"body"`
		ContentType string `json:"content-type"`
		Headers     struct {
			Ticket string `json:"ticket"`
		} `json:"headers"`
		Properties struct {
			BodyEncoding string `json:"body_encoding"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return "", nil, fmt.Errorf("reply: %w", err)
	}
	body := []byte(env.Body)
	if env.Properties.BodyEncoding == "base64" {
		if body, err = base64.StdEncoding.DecodeString(env.Body); err != nil {
			return "", nil, fmt.Errorf("reply: body: %w", err)
		}
	}
	results, err = decodeReplyBody(env.ContentType, body)
	return env.Headers.Ticket, results, err
}

// decodeReplyBody reads the body of a reply, on any transport: JSON mapping the worker's
// node name to its result. Any other content type (pickle, for one) is refused unread.
func decodeReplyBody(contentType string, body []byte) (map[string]json.RawMessage, error) {
	if contentType != "application/json" {
		return nil, fmt.Errorf("reply: content-type %q", contentType)
	}
	var results map[string]json.RawMessage
	if err := json.Unmarshal(body, &results); err != nil {
		return nil, fmt.Errorf("reply: body: %w", err)
	}
	return results, nil
}

// inspectResult holds the replies to one round of broadcasts.
type inspectResult struct {
	// replies maps method → node name → result.
	replies map[string]map[string]json.RawMessage
	// listeners is how many workers each broadcast reached (method → count), when the
	// transport can tell; nil when it cannot.
	listeners map[string]int64
	// slowest is the time from the broadcast to the last reply received.
	slowest time.Duration
}

// setListeners records that every broadcast reached n workers.
func (res *inspectResult) setListeners(n int64) {
	res.listeners = map[string]int64{}
	for method := range res.replies {
		res.listeners[method] = n
	}
}

func newInspectResult(methods []string) inspectResult {
	res := inspectResult{replies: map[string]map[string]json.RawMessage{}}
	for _, m := range methods {
		res.replies[m] = map[string]json.RawMessage{}
	}
	return res
}

// allAnswered reports whether every broadcast has as many replies as it reached
// listeners, so the wait can end before the deadline; never when the count is unknown.
// A listener that is not a worker only makes the wait last until the deadline.
func (res inspectResult) allAnswered() bool {
	if res.listeners == nil {
		return false
	}
	for method, n := range res.listeners {
		if int64(len(res.replies[method])) < n {
			return false
		}
	}
	return true
}

// add records the results of one reply to the broadcast with the given ticket.
func (res *inspectResult) add(tickets map[string]string, ticket string, results map[string]json.RawMessage, since time.Time) {
	method, ok := tickets[ticket]
	if !ok {
		return // another client's reply, or one to an earlier round
	}
	for node, result := range results {
		res.replies[method][node] = result
	}
	res.slowest = time.Since(since)
}

// workerFacts is what one check learned about one worker.
type workerFacts struct {
	PID           *int64
	PoolSize      *int64
	Processed     *int64
	UptimeSeconds *int64
	Prefetch      *int64
	Queues        []string // nil when active_queues did not answer
	// Active and Reserved count the tasks the worker executes and has prefetched, from
	// its answers to active and reserved; nil when it did not answer that.
	Active, Reserved *int64
	// Unacked counts the messages it holds unacknowledged: reserved ones, and active
	// ones not acknowledged yet (late acks). Nil unless it answered both.
	Unacked *int64
}

// workersFromReplies merges the methods' replies per node: a worker that answered any of
// them is alive.
func workersFromReplies(replies map[string]map[string]json.RawMessage) map[string]workerFacts {
	workers := map[string]workerFacts{}
	for _, byNode := range replies {
		for node := range byNode {
			workers[node] = workerFacts{}
		}
	}
	for node, raw := range replies["stats"] {
		w := workers[node]
		var s struct {
			PID    *int64 `json:"pid"`
			Uptime *int64 `json:"uptime"`
			Pool   struct {
				MaxConcurrency *int64 `json:"max-concurrency"`
			} `json:"pool"`
			Total    map[string]int64 `json:"total"`
			Prefetch *int64           `json:"prefetch_count"`
		}
		if json.Unmarshal(raw, &s) == nil {
			w.PID, w.UptimeSeconds, w.PoolSize, w.Prefetch = s.PID, s.Uptime, s.Pool.MaxConcurrency, s.Prefetch
			if s.Total != nil {
				var n int64
				for _, c := range s.Total {
					n += c
				}
				w.Processed = &n
			}
		}
		workers[node] = w
	}
	for node, raw := range replies["active"] {
		w := workers[node]
		var tasks []struct {
			Acknowledged *bool `json:"acknowledged"`
		}
		if json.Unmarshal(raw, &tasks) == nil && tasks != nil {
			w.Active = ptr(int64(len(tasks)))
			var unacked int64
			for _, t := range tasks {
				if t.Acknowledged != nil && !*t.Acknowledged {
					unacked++
				}
			}
			w.Unacked = &unacked // completed below by the reserved ones
		}
		workers[node] = w
	}
	for node, raw := range replies["reserved"] {
		w := workers[node]
		var tasks []json.RawMessage
		if json.Unmarshal(raw, &tasks) == nil && tasks != nil {
			w.Reserved = ptr(int64(len(tasks)))
		}
		workers[node] = w
	}
	for node, w := range workers {
		if w.Unacked != nil && w.Reserved != nil {
			w.Unacked = ptr(*w.Unacked + *w.Reserved)
		} else {
			w.Unacked = nil
		}
		workers[node] = w
	}
	for node, raw := range replies["active_queues"] {
		w := workers[node]
		var qs []struct {
			Name     string `json:"name"`
			Exchange struct {
				Type string `json:"type"`
			} `json:"exchange"`
		}
		if json.Unmarshal(raw, &qs) == nil {
			w.Queues = []string{}
			for _, q := range qs {
				// Broadcast (fanout) queues hold nothing for long: they are not task queues.
				if q.Name != "" && q.Exchange.Type != "fanout" {
					w.Queues = append(w.Queues, q.Name)
				}
			}
			slices.Sort(w.Queues)
		}
		workers[node] = w
	}
	return workers
}

// newID returns a random UUID (version 4) for tickets, routing keys and delivery tags.
func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
