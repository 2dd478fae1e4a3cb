package health

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Celery's remote control and queue depths over a Redis broker, the way `celery
// inspect` does it (kombu's pidbox over its Redis transport): a private reply list bound
// in a set, PUBLISH of virtual-transport envelopes, BRPOP of the replies, LLEN of every
// priority list in one MULTI/EXEC. See shared/reference/celery-protocol.md.

// sep is kombu's separator in binding members and priority queue names.
const sep = "\x06\x16"

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
	return n.prefix + "/" + strconv.Itoa(n.db) + "." + broadcastExchange
}

// replyBindingKey is the set that binds routing keys to reply queues.
func (n kombuNames) replyBindingKey() string { return n.prefix + "_kombu.binding." + replyExchange }

// replyQueueName is the reply queue's name for a routing key, as kombu names it. Members
// of the binding set carry it without the prefix; the prefix is added to make its key.
func (n kombuNames) replyQueueName(routingKey string) string {
	return routingKey + "." + replyExchange
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

// redisBroker speaks remote control and reads queue lengths on one Redis broker.
type redisBroker struct {
	conn     *redisConn
	names    kombuNames
	url      string // without password
	password string
}

func newRedisBroker(ep redisEndpoint, cfg Config) *redisBroker {
	return &redisBroker{
		conn:     newRedisConn(ep, cfg.Timeout),
		names:    kombuNames{prefix: cfg.KeyPrefix, db: ep.DB},
		url:      ep.Display,
		password: ep.Password,
	}
}

func (b *redisBroker) kind() string      { return "redis" }
func (b *redisBroker) display() string   { return b.url }
func (b *redisBroker) secrets() []string { return []string{b.password} }
func (b *redisBroker) close()            { b.conn.close() }

// replyShare is the part of the check's timeout spent waiting for replies; the rest
// is for reading queue lengths and unbinding the reply queue.
const replyShare = 0.75

// measure looks at the broker once: a PING's round trip, a broadcast of roundMethods,
// then the lengths of every queue in one MULTI/EXEC.
func (b *redisBroker) measure(ctx context.Context, timeout time.Duration, known []string) celeryMeasurement {
	var m celeryMeasurement
	start := time.Now()
	client := b.conn.get()
	if err := client.Ping(ctx).Err(); err != nil {
		b.conn.reset(client)
		m.err = connError("broker", err)
		return m
	}
	m.rtt = time.Since(start)
	res, err := inspect(ctx, client, b.names, roundMethods(), nil, start.Add(time.Duration(float64(timeout)*replyShare)))
	if err != nil {
		m.err = err
		return m
	}
	m.listeners = ptr(res.listeners["ping"])
	m.slowest = res.slowest
	m.workers = workersFromReplies(res.replies)

	depths, reserved, oldest, err := queueDepths(ctx, client, b.names, queuesToCount(known, m.workers))
	if err != nil {
		m.err = err
		return m
	}
	m.queues, m.reserved, m.oldestReserved = depths, ptr(reserved), oldest
	return m
}

// cleanupTimeout bounds the removal of the reply binding after a broadcast, which runs
// even when the check's context is done.
const cleanupTimeout = 250 * time.Millisecond

// inspect broadcasts each method to the workers named in destination (nil: all) and
// collects replies until every listening connection has answered every method or the
// deadline passes. It binds a private reply queue first and always unbinds and deletes
// it afterwards, even when ctx is done.
func inspect(ctx context.Context, client *redis.Client, names kombuNames, methods []string, destination []string, deadline time.Time) (inspectResult, error) {
	res := newInspectResult(methods)
	res.listeners = map[string]int64{}
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
		msg, err := encodeControl(controlRequest{
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
	}

	args := make([]any, 0, 6)
	args = append(args, "brpop")
	for _, k := range replyKeys {
		args = append(args, k)
	}
	for !res.allAnswered() {
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
		res.add(tickets, ticket, results, sent)
	}
	return res, nil
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

// queueDepths reads, in one MULTI/EXEC, the length of every priority level of every
// queue, the number of unacknowledged messages and the delivery time of the oldest.
func queueDepths(ctx context.Context, client *redis.Client, names kombuNames, queues []string) (map[string]queueCount, int64, *time.Time, error) {
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
	out := make(map[string]queueCount, len(queues))
	for i, q := range queues {
		c := queueCount{byPriority: map[string]int64{}}
		for j, level := range priorityLevels() {
			if level == "" {
				level = "0"
			}
			n := lens[i][j].Val() // a missing key has length 0
			c.byPriority[level] = n
			c.pending += n
		}
		out[q] = c
	}
	var oldestAt *time.Time
	if z := oldest.Val(); len(z) > 0 {
		t := time.UnixMicro(int64(z[0].Score * 1e6)).UTC()
		oldestAt = &t
	}
	return out, hlen.Val(), oldestAt, nil
}
