package health

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Celery's remote control over a Redis broker, spoken the way `celery inspect` speaks it
// (kombu's pidbox over its Redis transport). See shared/reference/celery-protocol.md.

// sep is kombu's separator in binding members and priority queue names.
const sep = "\x06\x16"

// controlNamespace is Celery's control_exchange.
const controlNamespace = "celery"

// priorityLevels are the suffixes of kombu's default priority_steps [0, 3, 6, 9]; level 0
// is the plain queue key, which workers serve first.
func priorityLevels() [4]string { return [4]string{"", "3", "6", "9"} }

// kombuNames builds the Redis keys and channels of one broker: kombu's global_keyprefix
// goes in front of every key and channel, and the database number is part of the
// broadcast channel's name because Redis pub/sub ignores SELECT.
type kombuNames struct {
	prefix string
	db     int
}

// broadcastChannel is where workers listen for remote-control commands:
// prefix + "/{db}.celery.pidbox".
func (n kombuNames) broadcastChannel() string {
	return n.prefix + "/" + strconv.Itoa(n.db) + "." + controlNamespace + ".pidbox"
}

// replyExchange is the direct exchange workers reply to.
func (n kombuNames) replyExchange() string { return "reply." + controlNamespace + ".pidbox" }

// replyBindingKey is the set that binds routing keys to reply queues.
func (n kombuNames) replyBindingKey() string { return n.prefix + "_kombu.binding." + n.replyExchange() }

// replyQueueName is the reply queue's name for a routing key, as kombu names it. Members
// of the binding set carry it without the prefix; the prefix is added to make its key.
func (n kombuNames) replyQueueName(routingKey string) string {
	return routingKey + "." + n.replyExchange()
}

// bindingMember binds routingKey to its reply queue: rk + SEP + pattern("") + SEP + queue.
func (n kombuNames) bindingMember(routingKey string) string {
	return routingKey + sep + "" + sep + n.replyQueueName(routingKey)
}

// queueKeys returns the four list keys of a queue, one per priority level.
func (n kombuNames) queueKeys(queue string) [4]string {
	var keys [4]string
	for i, level := range priorityLevels() {
		keys[i] = n.prefix + queue
		if level != "" {
			keys[i] += sep + level
		}
	}
	return keys
}

// unackedKey is the hash of messages workers took and have not acknowledged.
func (n kombuNames) unackedKey() string { return n.prefix + "unacked" }

// unackedIndexKey is the sorted set of those messages by delivery time.
func (n kombuNames) unackedIndexKey() string { return n.prefix + "unacked_index" }

// inspectMethods are the only remote-control methods this package may send: read-only
// inspections. The encoder refuses every other method, so no code path here can ever
// shut down, restart or reconfigure a worker.
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

// envelope is kombu's virtual-transport message. Every field is a plain struct field
// without omitempty: an envelope without properties.delivery_tag makes every worker exit,
// one without content-type leaves every worker deaf to remote control.
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

// controlRequest is what encodeControl needs to build one remote-control message.
type controlRequest struct {
	Method      string
	Destination []string // nil: broadcast to every worker
	Ticket      string   // matches replies to this request
	RoutingKey  string   // the reply binding's routing key
	DeliveryTag string
	Expires     time.Time
}

// encodeControl builds the JSON envelope of a remote-control command and checks it with
// validateEnvelope before returning it, so a malformed envelope is never published.
func encodeControl(names kombuNames, req controlRequest) ([]byte, error) {
	if !isInspectMethod(req.Method) {
		return nil, fmt.Errorf("encode control: method %q is not a read-only inspection", req.Method)
	}
	if req.Ticket == "" || req.RoutingKey == "" || req.DeliveryTag == "" || req.Expires.IsZero() {
		return nil, errors.New("encode control: ticket, routing key, delivery tag and expiry are required")
	}
	cmd := controlCommand{
		Method:      req.Method,
		Destination: req.Destination,
		Ticket:      req.Ticket,
		ReplyTo:     replyAddr{Exchange: names.replyExchange(), RoutingKey: req.RoutingKey},
	}
	body, err := json.Marshal(cmd)
	if err != nil {
		return nil, fmt.Errorf("encode control: %w", err)
	}
	env := envelope{
		Body:            base64.StdEncoding.EncodeToString(body),
		ContentEncoding: "utf-8",
		ContentType:     "application/json",
		Headers: envelopeHeaders{
			Clock:   1,
			Expires: float64(req.Expires.UnixMicro()) / 1e6,
		},
		Properties: envelopeProperties{
			DeliveryMode: 2,
			DeliveryInfo: deliveryInfo{Exchange: controlNamespace + ".pidbox", RoutingKey: ""},
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

// validateEnvelope re-reads an encoded envelope the way a worker does and refuses it
// unless it carries everything a worker needs: properties.delivery_tag, content-type
// application/json, content-encoding, body_encoding base64, headers.expires, and a body
// that decodes to a command with a method, a ticket and a reply_to with a routing key.
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
	var cmd struct {
		Method  string          `json:"method"`
		Ticket  string          `json:"ticket"`
		Args    json.RawMessage `json:"arguments"`
		ReplyTo *replyAddr      `json:"reply_to"`
	}
	if err := json.Unmarshal(decoded, &cmd); err != nil {
		return fmt.Errorf("envelope: body: %w", err)
	}
	switch {
	case !isInspectMethod(cmd.Method):
		return fmt.Errorf("envelope: method %q is not a read-only inspection", cmd.Method)
	case cmd.Ticket == "":
		return errors.New("envelope: no ticket")
	case cmd.ReplyTo == nil || cmd.ReplyTo.RoutingKey == "" || cmd.ReplyTo.Exchange == "":
		return errors.New("envelope: no reply_to routing_key")
	case string(cmd.Args) != "{}":
		return errors.New("envelope: arguments is not {}")
	}
	return nil
}

// decodeReply reads a worker's reply envelope: its ticket and its body, which maps the
// worker's node name to its result.
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
	if env.ContentType != "application/json" {
		return "", nil, fmt.Errorf("reply: content-type %q", env.ContentType)
	}
	body := []byte(env.Body)
	if env.Properties.BodyEncoding == "base64" {
		if body, err = base64.StdEncoding.DecodeString(env.Body); err != nil {
			return "", nil, fmt.Errorf("reply: body: %w", err)
		}
	}
	if err := json.Unmarshal(body, &results); err != nil {
		return "", nil, fmt.Errorf("reply: body: %w", err)
	}
	return env.Headers.Ticket, results, nil
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

// brpopTimeout returns BRPOP's timeout argument for the time left before a deadline:
// seconds with millisecond resolution, rounded down so the server never blocks past the
// deadline. It returns false when less than a millisecond is left, because a timeout of
// 0 would block forever. go-redis's BRPop sends whole seconds and rounds anything below
// a second up to 1 s, so this package sends BRPOP itself (Redis ≥ 6 reads decimals).
func brpopTimeout(left time.Duration) (string, bool) {
	ms := left.Milliseconds()
	if ms < 1 {
		return "", false
	}
	return strconv.FormatInt(ms/1000, 10) + "." + fmt.Sprintf("%03d", ms%1000), true
}

// celeryBroker speaks remote control and reads queue lengths on one Redis broker.
type celeryBroker struct {
	conn     *redisConn
	names    kombuNames
	display  string
	password string
}

// cleanupTimeout bounds the removal of the reply binding after a broadcast, which runs
// even when the check's context is done.
const cleanupTimeout = 250 * time.Millisecond

// inspectResult holds the replies to one round of broadcasts.
type inspectResult struct {
	// replies maps method → node name → result.
	replies map[string]map[string]json.RawMessage
	// listeners is how many connections each PUBLISH reached (method → count).
	listeners map[string]int64
	// slowest is the time from the broadcast to the last reply received.
	slowest time.Duration
}

// inspect broadcasts each method to the workers named in destination (nil: all) and
// collects replies until every listening connection has answered every method or the
// deadline passes. It binds a private reply queue first and always unbinds and deletes
// it afterwards, even when ctx is done.
func inspect(ctx context.Context, client *redis.Client, names kombuNames, methods []string, destination []string, deadline time.Time) (inspectResult, error) {
	res := inspectResult{replies: map[string]map[string]json.RawMessage{}, listeners: map[string]int64{}}
	rk := newID()
	bindingKey, member := names.replyBindingKey(), names.bindingMember(rk)
	replyKeys := names.queueKeys(names.replyQueueName(rk))

	// Workers drop replies for routing keys that have no binding, so bind first.
	if err := client.SAdd(ctx, bindingKey, member).Err(); err != nil {
		return res, connError("broker", err)
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		// SREM before DEL: a worker that still finds the binding recreates the list.
		_, _ = client.TxPipelined(cctx, func(p redis.Pipeliner) error {
			p.SRem(cctx, bindingKey, member)
			p.Del(cctx, replyKeys[:]...)
			return nil
		})
	}()

	tickets := map[string]string{} // ticket → method
	msgs := make([][]byte, len(methods))
	for i, method := range methods {
		ticket := newID()
		tickets[ticket] = method
		msg, err := encodeControl(names, controlRequest{
			Method: method, Destination: destination, Ticket: ticket, RoutingKey: rk,
			DeliveryTag: newID(), Expires: deadline,
		})
		if err != nil {
			return res, err
		}
		msgs[i] = msg
	}
	sent := time.Now()
	cmds, err := client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, msg := range msgs {
			p.Publish(ctx, names.broadcastChannel(), msg)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("broker publish: %w", err)
	}
	for i, cmd := range cmds {
		res.listeners[methods[i]] = cmd.(*redis.IntCmd).Val()
		res.replies[methods[i]] = map[string]json.RawMessage{}
	}

	args := make([]any, 0, 6)
	args = append(args, "brpop")
	for _, k := range replyKeys {
		args = append(args, k)
	}
	for !allAnswered(res) {
		timeout, ok := brpopTimeout(time.Until(deadline))
		if !ok {
			break
		}
		v, err := client.Do(ctx, append(args, timeout)...).StringSlice()
		if errors.Is(err, redis.Nil) {
			break // the deadline passed without another reply
		}
		if err != nil {
			return res, fmt.Errorf("broker reply: %w", err)
		}
		if len(v) != 2 {
			continue
		}
		ticket, results, err := decodeReply([]byte(v[1]))
		if err != nil {
			continue // not ours to understand; the worker's other replies still count
		}
		method, ok := tickets[ticket]
		if !ok {
			continue
		}
		for node, result := range results {
			res.replies[method][node] = result
		}
		res.slowest = time.Since(sent)
	}
	return res, nil
}

// allAnswered reports whether every method has as many replies as its PUBLISH reached
// listeners; a listener that is not a worker only makes the wait last until the deadline.
func allAnswered(res inspectResult) bool {
	for method, n := range res.listeners {
		if int64(len(res.replies[method])) < n {
			return false
		}
	}
	return true
}

// workerFacts is what one check learned about one worker.
type workerFacts struct {
	PID           *int64
	PoolSize      *int64
	Processed     *int64
	UptimeSeconds *int64
	Prefetch      *int64
	Queues        []string // nil when active_queues did not answer
}

// queueDepth is the length of each priority level of one queue.
type queueDepth [4]int64

func (d queueDepth) total() int64 { return d[0] + d[1] + d[2] + d[3] }

// celeryMeasurement is the outcome of one look at the broker, before judgement.
type celeryMeasurement struct {
	err       error
	rtt       time.Duration
	elapsed   time.Duration
	slowest   time.Duration
	listeners int64
	workers   map[string]workerFacts // the workers that answered
	depths    map[string]queueDepth
	reserved  int64
	// oldestReserved is the delivery time of the oldest unacknowledged message.
	oldestReserved *time.Time
}

// replyShare is the part of the check's timeout spent waiting for replies; the rest
// is for reading queue lengths and unbinding the reply queue.
const replyShare = 0.75

// measure looks at the broker once: a PING's round trip, a broadcast of ping, stats and
// active_queues, then the lengths of every queue in one MULTI/EXEC. known lists the
// queues to count besides those the workers report.
func (b *celeryBroker) measure(ctx context.Context, timeout time.Duration, known []string) celeryMeasurement {
	var m celeryMeasurement
	start := time.Now()
	defer func() { m.elapsed = time.Since(start) }()
	client := b.conn.get()
	if err := client.Ping(ctx).Err(); err != nil {
		b.conn.reset(client)
		m.err = connError("broker", err)
		return m
	}
	m.rtt = time.Since(start)
	res, err := inspect(ctx, client, b.names, []string{"ping", "stats", "active_queues"}, nil, start.Add(time.Duration(float64(timeout)*replyShare)))
	if err != nil {
		m.err = err
		return m
	}
	m.listeners = res.listeners["ping"]
	m.slowest = res.slowest
	m.workers = workersFromReplies(res.replies)

	queues := slices.Clone(known)
	for _, w := range m.workers {
		queues = append(queues, w.Queues...)
	}
	slices.Sort(queues)
	queues = slices.Compact(queues)
	depths, reserved, oldest, err := queueDepths(ctx, client, b.names, queues)
	if err != nil {
		m.err = err
		return m
	}
	m.depths, m.reserved, m.oldestReserved = depths, reserved, oldest
	return m
}

// workersFromReplies merges the three methods' replies per node: a worker that answered
// any of them is alive.
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
				// Broadcast (fanout) queues live in pub/sub, not in lists: nothing waits there.
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

// depths reads, in one MULTI/EXEC, the length of every priority level of every queue,
// the number of unacknowledged messages and the delivery time of the oldest of them.
func queueDepths(ctx context.Context, client *redis.Client, names kombuNames, queues []string) (map[string]queueDepth, int64, *time.Time, error) {
	var lens [][4]*redis.IntCmd
	var hlen *redis.IntCmd
	var oldest *redis.ZSliceCmd
	_, err := client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, q := range queues {
			var cmds [4]*redis.IntCmd
			for i, key := range names.queueKeys(q) {
				cmds[i] = p.LLen(ctx, key)
			}
			lens = append(lens, cmds)
		}
		hlen = p.HLen(ctx, names.unackedKey())
		oldest = p.ZRangeWithScores(ctx, names.unackedIndexKey(), 0, 0)
		return nil
	})
	if err != nil {
		return nil, 0, nil, fmt.Errorf("broker queue lengths: %w", err)
	}
	out := make(map[string]queueDepth, len(queues))
	for i, q := range queues {
		var d queueDepth
		for j, cmd := range lens[i] {
			d[j] = cmd.Val() // a missing key has length 0
		}
		out[q] = d
	}
	var oldestAt *time.Time
	if z := oldest.Val(); len(z) > 0 {
		t := time.UnixMicro(int64(z[0].Score * 1e6)).UTC()
		oldestAt = &t
	}
	return out, hlen.Val(), oldestAt, nil
}

// CeleryReport is the celery section of the system-health answer.
type CeleryReport struct {
	Check
	// Broker is the broker's URL without password.
	Broker string `json:"broker,omitempty"`
	// ActiveWorkers counts the workers judged alive: those that answered this check's
	// broadcast, plus those that missed only this one check (see the package doc).
	ActiveWorkers *int `json:"active_workers"`
	// AnsweredWorkers counts only the workers that answered this check.
	AnsweredWorkers *int `json:"answered_workers"`
	// PendingTasks is the number of messages waiting in the broker over all queues and
	// priority levels. Messages already prefetched by workers are not in it.
	PendingTasks *int64 `json:"pending_tasks"`
	// ReservedTasks counts messages workers took and have not acknowledged yet
	// (prefetched, and with late acks also executing), over all queues.
	ReservedTasks *int64 `json:"reserved_tasks"`
	// OldestReservedSeconds is the age of the oldest of them; null when there is none.
	OldestReservedSeconds *float64 `json:"oldest_reserved_seconds"`
	// ResponseTimeMS is the broker's PING round trip.
	ResponseTimeMS *float64 `json:"response_time_ms"`
	// Listeners is how many connections listen on the broadcast channel; each worker
	// holds one.
	Listeners *int64 `json:"listeners"`
	// Workers lists the workers judged alive, by name.
	Workers []WorkerReport `json:"workers"`
	// GoneWorkers names the workers judged gone at this check.
	GoneWorkers []string `json:"gone_workers,omitempty"`
	// Queues lists the queues counted, by name.
	Queues []QueueReport `json:"queues"`
}

// WorkerReport is one Celery worker as the last check saw it.
// The numbers come from the worker's answer to stats, and are null when it did not
// answer that; Queues from its answer to active_queues.
type WorkerReport struct {
	// Name is the worker's node name (-n), for example "celery@host".
	Name string `json:"name"`
	// Answered is false for a worker that missed this check but answered the one before.
	Answered bool `json:"answered"`
	// LastSeen is when it last answered.
	LastSeen time.Time `json:"last_seen"`
	// PID is the worker's main process.
	PID *int64 `json:"pid"`
	// PoolSize is the pool's max-concurrency.
	PoolSize *int64 `json:"pool_size"`
	// Processed sums stats' total: the tasks it has accepted since it started, the
	// running ones included.
	Processed *int64 `json:"processed"`
	// UptimeSeconds is the worker's uptime.
	UptimeSeconds *int64 `json:"uptime_seconds"`
	// Prefetch is the worker's prefetch count.
	Prefetch *int64 `json:"prefetch_count"`
	// Queues are the task queues it consumes.
	Queues []string `json:"queues"`
}

// QueueReport is one task queue.
type QueueReport struct {
	Name    string `json:"name"`
	Pending int64  `json:"pending"`
	// PendingByPriority splits Pending by kombu's priority levels "0", "3", "6" and "9".
	PendingByPriority map[string]int64 `json:"pending_by_priority"`
	// Consumers counts the answering workers that consume the queue.
	Consumers int `json:"consumers"`
}

// maxKnownQueues bounds the queue names remembered between checks.
const maxKnownQueues = 100

// celeryState is what the judgement remembers between checks.
type celeryState struct {
	workers map[string]*rememberedWorker
	// pending holds the totals of the last three measured checks, oldest first.
	pending []int64
	// queues are the queue names seen in workers' active_queues that may still hold
	// messages; they stay counted after their last consumer is gone.
	queues map[string]bool
}

type rememberedWorker struct {
	facts    workerFacts
	lastSeen time.Time
	missed   int
}

func newCeleryState() *celeryState {
	return &celeryState{workers: map[string]*rememberedWorker{}, queues: map[string]bool{}}
}

// knownQueues returns the queues to count besides those the workers will report: the
// configured default queue and the remembered ones.
func (s *celeryState) knownQueues(defaultQueue string) []string {
	out := []string{defaultQueue}
	for q := range s.queues {
		out = append(out, q)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// celeryRules are the thresholds of the judgement.
type celeryRules struct {
	timeout         time.Duration
	growthThreshold int64
	defaultQueue    string
	password        string // removed from reasons
}

// judge turns one measurement into a report and updates the memory. The rules are the
// package doc's: a worker is gone after two consecutive checks without an answer; no
// worker alive is unhealthy; a missing or gone worker, pending growth over three checks,
// or slowness is degraded.
func (s *celeryState) judge(m celeryMeasurement, rules celeryRules, now time.Time) CeleryReport {
	var rep CeleryReport
	if m.err != nil {
		// Nothing was observed, so nothing is forgotten or counted against a worker.
		rep.Status, rep.Error = StatusUnhealthy, reason(m.err, rules.timeout, rules.password)
		return rep
	}

	// Workers: answered now, missed once (still counted), or gone (missed twice).
	for name, facts := range m.workers {
		s.workers[name] = &rememberedWorker{facts: facts, lastSeen: now}
	}
	var missing, gone []string
	for name, w := range s.workers {
		if _, ok := m.workers[name]; ok {
			continue
		}
		w.missed++
		if w.missed >= 2 {
			gone = append(gone, name)
			delete(s.workers, name)
		} else {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	slices.Sort(gone)

	consumers := map[string]int{}
	rep.Workers = []WorkerReport{}
	for name, w := range s.workers {
		answered := w.missed == 0
		rep.Workers = append(rep.Workers, WorkerReport{
			Name: name, Answered: answered, LastSeen: w.lastSeen,
			PID: w.facts.PID, PoolSize: w.facts.PoolSize, Processed: w.facts.Processed,
			UptimeSeconds: w.facts.UptimeSeconds, Prefetch: w.facts.Prefetch, Queues: w.facts.Queues,
		})
		for _, q := range w.facts.Queues {
			if answered {
				consumers[q]++
			}
			if len(s.queues) < maxKnownQueues {
				s.queues[q] = true
			}
		}
	}
	slices.SortFunc(rep.Workers, func(a, b WorkerReport) int { return strings.Compare(a.Name, b.Name) })
	rep.GoneWorkers = gone
	rep.ActiveWorkers = ptr(len(rep.Workers))
	rep.AnsweredWorkers = ptr(len(m.workers))
	rep.Listeners = ptr(m.listeners)
	rep.ResponseTimeMS = ptr(millis(m.rtt))

	// Queues: every measured queue that is configured, consumed, or holds messages.
	var total int64
	rep.Queues = []QueueReport{}
	for name, d := range m.depths {
		total += d.total()
		if name != rules.defaultQueue && consumers[name] == 0 && d.total() == 0 {
			delete(s.queues, name) // nothing waits there and nobody consumes it: forget it
			continue
		}
		byPri := map[string]int64{}
		for i, level := range priorityLevels() {
			if level == "" {
				level = "0"
			}
			byPri[level] = d[i]
		}
		rep.Queues = append(rep.Queues, QueueReport{Name: name, Pending: d.total(), PendingByPriority: byPri, Consumers: consumers[name]})
	}
	slices.SortFunc(rep.Queues, func(a, b QueueReport) int { return strings.Compare(a.Name, b.Name) })
	rep.PendingTasks = ptr(total)
	rep.ReservedTasks = ptr(m.reserved)
	if m.oldestReserved != nil {
		rep.OldestReservedSeconds = ptr(max(0, now.Sub(*m.oldestReserved).Round(100*time.Millisecond).Seconds()))
	}
	s.pending = append(s.pending, total)
	if len(s.pending) > 3 {
		s.pending = s.pending[len(s.pending)-3:]
	}

	// Status.
	if len(rep.Workers) == 0 {
		rep.Status = StatusUnhealthy
		rep.Error = fmt.Sprintf("no worker answered the ping (%d listening on the broker)", m.listeners)
		if len(gone) > 0 {
			rep.Error = "no worker answered the ping; gone: " + strings.Join(gone, ", ")
		}
		return rep
	}
	if len(m.workers) == 0 {
		rep.Warnings = append(rep.Warnings, "no worker answered this check; counting those that answered the previous one")
	}
	for _, name := range missing {
		rep.Warnings = append(rep.Warnings, name+" did not answer this check")
	}
	for _, name := range gone {
		rep.Warnings = append(rep.Warnings, name+" did not answer two checks in a row: gone")
	}
	if p := s.pending; len(p) == 3 && p[0] < p[1] && p[1] < p[2] && p[2]-p[0] > rules.growthThreshold {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("pending tasks grew from %d to %d over the last 3 checks", p[0], p[2]))
	}
	if m.rtt > rules.timeout/2 {
		rep.Warnings = append(rep.Warnings, slowWarning("the broker", m.rtt, rules.timeout))
	}
	if m.slowest > rules.timeout/2 {
		rep.Warnings = append(rep.Warnings, slowWarning("a worker", m.slowest, rules.timeout))
	}
	rep.Status = StatusHealthy
	if len(rep.Warnings) > 0 {
		rep.Status = StatusDegraded
	}
	return rep
}
