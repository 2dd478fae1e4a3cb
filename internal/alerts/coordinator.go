package alerts

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/health"
)

// Coordinator lets several syncwatch replicas that watch one warehouse send each
// notification once. In a Redis (the broker's, by default) they keep two keys:
//
//   - {key}:sender, a lease: the ID of the one replica that sends, which it renews
//     every third of the lease; the others take it only after seeing it absent twice;
//   - {key}:state, the state the sender saves after every change (what fires, what each
//     channel was told), written only while it holds the lease.
//
// A replica that takes over reads the shared state first, so it neither sends again what
// the previous sender sent nor forgets what that one still owed. A sender that cannot
// reach Redis goes on sending (the Celery broker being down is when alerts matter most),
// and a replica that has never reached Redis sends only if its own state file says it was
// the sender. syncwatch never writes to the warehouse: PostgreSQL has no place for the
// shared state, and its advisory locks do not work on a hot standby.
type Coordinator struct {
	client   *redis.Client
	lockKey  string
	stateKey string
	lease    time.Duration
	clock    clock.Clock
	log      *slog.Logger

	leading atomic.Bool

	// toShare holds the newest state to write to Redis, written by run's goroutine: the
	// engine's saves (after each evaluation and each delivery) never wait on Redis, so
	// a slow or hung Redis delays no channel. A newer state replaces one not yet written.
	toShare chan State
	// shareMu makes replacing the state in toShare one step.
	shareMu sync.Mutex
	// shareFailing is set while writing the state fails, so that it is logged once.
	shareFailing atomic.Bool

	// id is written once, by run's goroutine before it first sets leading. write reads
	// it on run's goroutine, or after run has returned; release, on another goroutine,
	// reads it only after swapping leading from true, so the atomic orders the write
	// before its read.
	id string
	// The others are touched only by run's goroutine.
	wasSender bool
	reached   bool
	absent    int
	warned    bool
	// polled, when set (by tests), is called after each poll.
	polled func()
}

// CoordinatorConfig configures a Coordinator.
type CoordinatorConfig struct {
	// RedisURL is the Redis the replicas share, in any form Celery's broker URL may take
	// (redis://, rediss://…?ssl_cert_reqs=…, unix://, redis+socket://, socket://).
	RedisURL string
	// Key is the prefix of the two keys; replicas of one warehouse use the same one.
	Key string
	// Lease is how long a sender that stopped renewing keeps the right to send (default
	// 30 s); another replica takes over within a lease and two polls of it.
	Lease  time.Duration
	Clock  clock.Clock
	Logger *slog.Logger
}

// sharedStateTTL bounds how long the shared state outlives the last sender.
const sharedStateTTL = 7 * 24 * time.Hour

// NewCoordinator returns a coordinator over the Redis at cfg.RedisURL; it connects when
// the engine runs. Close it after the engine's Run has returned.
func NewCoordinator(cfg CoordinatorConfig) (*Coordinator, error) {
	if cfg.Lease <= 0 {
		cfg.Lease = 30 * time.Second
	}
	if cfg.Lease < 300*time.Millisecond {
		return nil, errors.New("the sender's lease must be at least 300ms")
	}
	if cfg.Key == "" {
		return nil, errors.New("the coordination key is empty")
	}
	step := cfg.Lease / 3
	// The URL is read as the health checks read the broker's (kombu's forms: rediss://
	// with ssl_cert_reqs, which Celery requires, redis+socket://, socket://), since by
	// default it is the broker's; go-redis's own parser refuses those.
	opts, err := health.RedisOptions(cfg.RedisURL, step)
	if err != nil {
		return nil, fmt.Errorf("the coordination Redis URL: %w", err)
	}
	// go-redis refuses to dial for a second once PoolSize dials in a row have failed: room
	// for a few failures, so that a poll soon after Redis is back reaches it.
	opts.PoolSize = 10
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Coordinator{client: redis.NewClient(opts), lockKey: cfg.Key + ":sender", stateKey: cfg.Key + ":state",
		lease: cfg.Lease, clock: clock.OrReal(cfg.Clock), log: cfg.Logger, toShare: make(chan State, 1)}, nil
}

// Leading reports whether this replica sends.
func (c *Coordinator) Leading() bool { return c.leading.Load() }

// Close closes the connection to Redis.
func (c *Coordinator) Close() error { return c.client.Close() }

var (
	// renewScript keeps the lease of ARGV[1]: 1 renewed, 2 taken again after Redis lost
	// it (a restart, an eviction), 0 another replica holds it.
	renewScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if not v then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 2 end
return 0`)
	// shareScript writes the shared state only for the lease's holder, so a sender that
	// lost the lease cannot overwrite what the new one saves.
	shareScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3]) return 1 end
return 0`)
	releaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`)
)

// run polls the lease until ctx ends.
func (c *Coordinator) run(ctx context.Context, e *Engine) {
	c.id, c.wasSender = e.replicaID, e.wasSender
	ticker := c.clock.NewTicker(c.lease / 3)
	defer ticker.Stop()
	for {
		c.poll(ctx, e)
		c.flush(ctx) // what the poll's change of sender saved, before anyone is told of it
		if c.polled != nil {
			c.polled()
		}
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				return
			case st := <-c.toShare:
				c.write(ctx, st)
			case <-ticker.C():
				waiting = false
			}
		}
	}
}

func (c *Coordinator) poll(ctx context.Context, e *Engine) {
	ctx, cancel := context.WithTimeout(ctx, c.lease/3)
	defer cancel()
	if c.leading.Load() {
		res, err := renewScript.Run(ctx, c.client, []string{c.lockKey}, c.id, c.lease.Milliseconds()).Int()
		if err != nil {
			c.unreachable(err, "this replica goes on sending")
			return
		}
		c.reachable()
		switch res {
		case 0:
			c.log.Warn("alerts: another replica sends now", "replica", c.id)
			c.wasSender = false
			c.leading.Store(false)
			e.senderChanged()
		case 2:
			c.log.Info("alerts: the coordination Redis had lost the sender's lease; taken again", "replica", c.id)
			e.senderChanged() // saves the shared state again

		}
		return
	}
	holder, err := c.client.Get(ctx, c.lockKey).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		if !c.reached && c.wasSender {
			c.unreachable(err, "this replica was the sender, and sends")
			c.leading.Store(true)
			e.senderChanged()
			return
		}
		c.unreachable(err, "another replica may be sending; this one waits")
		return
	}
	c.reachable()
	switch holder {
	case c.id:
		// This replica's own lease, from before a restart: its state file is the latest.
		c.leading.Store(true)
		e.senderChanged()
		return
	case "":
		c.absent++
	default:
		c.absent, c.wasSender = 0, false
		if st, ok := c.load(ctx); ok && st.Active != nil {
			e.adopt(st)
		}
		return
	}
	// A lease seen absent once may be a sender's renewal about to come (after a Redis
	// restart the sender takes it at its next poll); only the last sender takes it at
	// the first sight.
	if c.absent < 2 && !c.wasSender {
		return
	}
	taken, err := c.client.SetNX(ctx, c.lockKey, c.id, c.lease).Result()
	if err != nil || !taken {
		return
	}
	st, ok := c.load(ctx)
	if !ok {
		// Without the shared state, this replica would send again what the last sender
		// sent: give the lease back, and try again at the next poll.
		_ = releaseScript.Run(ctx, c.client, []string{c.lockKey}, c.id).Err()
		return
	}
	if st.Active != nil {
		e.adopt(st)
	}
	c.log.Info("alerts: this replica sends now", "replica", c.id)
	c.absent, c.wasSender = 0, true
	c.leading.Store(true)
	e.senderChanged()
	e.shareAll()
}

// load reads the shared state; ok is false when it could not be read, and true with an
// empty state when there is none.
func (c *Coordinator) load(ctx context.Context) (State, bool) {
	data, err := c.client.Get(ctx, c.stateKey).Bytes()
	if errors.Is(err, redis.Nil) {
		return State{}, true
	}
	if err != nil {
		c.unreachable(err, "the shared state cannot be read")
		return State{}, false
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		c.log.Error("alerts: the shared state cannot be read; it is replaced", "err", err)
		return State{}, true
	}
	return st, true
}

// share saves st as the shared state, if this replica holds the lease.
func (c *Coordinator) share(st State) {
	c.shareMu.Lock()
	defer c.shareMu.Unlock()
	select {
	case <-c.toShare: // replaced by the newer state
	default:
	}
	c.toShare <- st
}

// flush writes the state still waiting to be shared, if any, now: after a poll, and at
// the end of the engine's Run, once run has returned, so that the next sender reads
// everything this one sent.
func (c *Coordinator) flush(ctx context.Context) {
	select {
	case st := <-c.toShare:
		c.write(ctx, st)
	default:
	}
}

// write stores st in Redis for the lease's holder; a failure is logged once until a
// write succeeds again (the state is written again at the next change).
func (c *Coordinator) write(ctx context.Context, st State) {
	data, err := json.Marshal(st)
	if err != nil {
		c.log.Error("alerts: cannot encode the shared state", "err", err)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, c.lease/3)
	defer cancel()
	if err := shareScript.Run(ctx, c.client, []string{c.lockKey, c.stateKey}, c.id, data,
		sharedStateTTL.Milliseconds()).Err(); err != nil {
		if !c.shareFailing.Swap(true) {
			c.log.Warn("alerts: cannot save the shared state in Redis; a replica that takes over may send again what this one sent", "err", err)
		}
		return
	}
	if c.shareFailing.Swap(false) {
		c.log.Info("alerts: the shared state is saved in Redis again")
	}
}

// release gives the lease up, so that another replica takes over without waiting for it
// to expire. It reports whether this replica was the sender and Redis took the lease
// back; when Redis could not be reached the lease is still this replica's, and it stays
// the last sender (its restart takes the lease back).
func (c *Coordinator) release() bool {
	if !c.leading.Swap(false) {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.lease/3)
	defer cancel()
	if err := releaseScript.Run(ctx, c.client, []string{c.lockKey}, c.id).Err(); err != nil {
		c.log.Warn("alerts: cannot give the sender's lease up; another replica takes over when it expires", "err", err)
		return false
	}
	return true
}

func (c *Coordinator) unreachable(err error, consequence string) {
	if !c.warned {
		c.warned = true
		c.log.Warn("alerts: the coordination Redis cannot be reached: "+consequence, "err", err)
	}
}

func (c *Coordinator) reachable() {
	if c.warned {
		c.log.Info("alerts: the coordination Redis answers again")
	}
	c.reached, c.warned = true, false
}

// String describes the coordinator for logs.
func (c *Coordinator) String() string { return fmt.Sprintf("redis lease %s", c.lockKey) }
