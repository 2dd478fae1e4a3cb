package alerts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/feed"
	"github.com/syncwatch/syncwatch/internal/notify"
)

// resolvedKept is how long a resolved alert is listed (api/alerts/ shows the last 24 h).
const resolvedKept = 24 * time.Hour

// Channel is a channel and how it is fed.
type Channel struct {
	notify.Channel
	// Resend, when positive, makes it a channel in Alertmanager's manner: every firing
	// alert is pushed again this often (its receiver forgets alerts not pushed again),
	// and neither the repeat interval nor the hourly cap apply.
	Resend time.Duration
}

// Config is what the engine needs. Zero values take the defaults.
type Config struct {
	Rules Rules
	// Channels are the configured channels; none means the alerts are only shown.
	Channels []Channel
	// ExternalURL is the page's address, ending in a slash; links in messages go there
	// (a CRM's alerts to its page, crm/<source>/).
	ExternalURL string
	// RepeatInterval is how long a firing alert waits before it is sent again (default
	// 4 h, as Alertmanager's repeat_interval).
	RepeatInterval time.Duration
	// MaxPerHour caps the messages of each channel in any hour; 0 means no cap.
	MaxPerHour int
	// SendTimeout bounds one attempt to deliver a message (default 10 s).
	SendTimeout time.Duration
	// RetryMin and RetryMax bound the backoff between failed attempts (defaults 5 s and
	// 5 min): the delay doubles from RetryMin at each failure.
	RetryMin, RetryMax time.Duration
	// Store keeps the state across restarts; nil keeps it in memory only.
	Store Store
	// Coordinator elects the one replica that sends and shares the state between
	// replicas; nil means this process is the only sender.
	Coordinator *Coordinator
	Clock       clock.Clock
	Logger      *slog.Logger
}

// Store keeps the state across restarts: syncwatch's own state file (OpenFile).
type Store interface {
	Load(ctx context.Context) (State, Meta, error)
	Save(ctx context.Context, s State, m Meta) error
}

// Engine evaluates the rules over each snapshot of the dashboard, keeps the alerts'
// states, and feeds each channel's outbox. It is safe for concurrent use.
type Engine struct {
	cfg      Config
	log      *slog.Logger
	clock    clock.Clock
	outboxes []*outbox

	mu          sync.Mutex
	st          State
	meta        Meta
	version     uint64 // counts the changes worth saving
	evaluations uint64
	evaluatedAt time.Time
	totals      map[string]map[string]uint64 // kind → result → count

	// saveMu orders saves; saved is the version last saved (under mu).
	saveMu sync.Mutex
	saved  uint64

	published atomic.Pointer[published]
	views     feed.Feed[View]
	running   atomic.Bool
	// replicaID and wasSender are the state file's, as loaded (read by the coordinator).
	replicaID string
	wasSender bool
	// stepped, when set (by tests, before Run), is called after each look of an outbox
	// at what its channel is owed, with the channel's ID: a test that expects nothing to
	// be sent knows when the outbox has decided.
	stepped func(channelID string)
}

// New returns an engine, with the state the store kept.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if err := cfg.Rules.Check(); err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	if cfg.RepeatInterval <= 0 {
		cfg.RepeatInterval = 4 * time.Hour
	}
	if cfg.MaxPerHour < 0 {
		return nil, errors.New("alerts: the hourly cap must not be negative")
	}
	if cfg.SendTimeout <= 0 {
		cfg.SendTimeout = 10 * time.Second
	}
	if cfg.RetryMin <= 0 {
		cfg.RetryMin = 5 * time.Second
	}
	if cfg.RetryMax < cfg.RetryMin {
		cfg.RetryMax = max(5*time.Minute, cfg.RetryMin)
	}
	if cfg.ExternalURL != "" && !strings.HasSuffix(cfg.ExternalURL, "/") {
		cfg.ExternalURL += "/"
	}
	cfg.Clock = clock.OrReal(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	e := &Engine{cfg: cfg, log: cfg.Logger, clock: cfg.Clock, st: newState(), totals: map[string]map[string]uint64{}}
	ids := map[string]bool{}
	for _, ch := range cfg.Channels {
		if ids[ch.ID()] {
			return nil, fmt.Errorf("alerts: channel %s is configured twice", ch.ID())
		}
		ids[ch.ID()] = true
		e.outboxes = append(e.outboxes, &outbox{e: e, ch: ch, kick: make(chan struct{}, 1)})
		e.totals[ch.Kind()] = map[string]uint64{"success": 0, "failure": 0}
	}
	if cfg.Store != nil {
		st, meta, err := cfg.Store.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("alerts: %w", err)
		}
		st.normalize()
		// A pending alert is not trusted across a restart: its rule was not evaluated
		// while syncwatch was stopped, so the condition may have stopped and started
		// again (the workers came back and went down), and counting its "for" from
		// before would fire it at the first reading. It waits its whole "for" again.
		// Firing alerts are kept: what was sent must be resolved.
		for fp, r := range st.Active {
			if !r.Firing {
				delete(st.Active, fp)
			}
		}
		e.st, e.meta = st, meta
	}
	// What channels no longer configured were told is of no use.
	for id := range e.st.Channels {
		if !ids[id] {
			delete(e.st.Channels, id)
		}
	}
	for id := range ids {
		e.channelLocked(id)
	}
	if e.meta.ReplicaID == "" {
		e.meta.ReplicaID = newReplicaID()
	}
	e.replicaID, e.wasSender = e.meta.ReplicaID, e.meta.Sender
	e.mu.Lock()
	e.publishLocked(e.now())
	e.mu.Unlock()
	return e, nil
}

// Run evaluates each snapshot received until ctx ends or snapshots is closed, while the
// outboxes deliver (and the coordinator elects) in goroutines of their own. It returns
// when they have all ended and the state is saved; a message being sent when ctx ends
// is finished first (within SendTimeout). Call it once.
func (e *Engine) Run(ctx context.Context, snapshots <-chan dashboard.Snapshot) {
	if e.running.Swap(true) {
		panic("alerts: Run called twice")
	}
	var wg sync.WaitGroup
	defer func() {
		wg.Wait()
		// Saved (and shared) while still the sender, so that the successor reads all
		// that was sent; then the lease is given up, and the file says so: a replica
		// restarted while Redis is down sends only if its file says it was the sender.
		e.save()
		if c := e.cfg.Coordinator; c != nil {
			c.flush(context.Background()) // its run has returned: the last state is written now
		}
		if c := e.cfg.Coordinator; c != nil && c.release() {
			e.mu.Lock()
			e.version++
			e.mu.Unlock()
			e.save()
		}
	}()
	// The outboxes and the coordinator stop when Run returns, also when the snapshots end
	// before ctx does.
	ctx, stop := context.WithCancel(ctx)
	defer stop()
	for _, o := range e.outboxes {
		wg.Go(func() { o.run(ctx) })
	}
	if c := e.cfg.Coordinator; c != nil {
		wg.Go(func() { c.run(ctx, e) })
	}
	for {
		select {
		case <-ctx.Done():
			return
		case s, ok := <-snapshots:
			if !ok {
				return
			}
			e.Evaluate(s)
		}
	}
}

// Evaluate applies the rules to s now: alerts become pending, fire, or resolve, and the
// outboxes are told to look. It never waits on a channel.
func (e *Engine) Evaluate(s dashboard.Snapshot) {
	now := e.now()
	ev := e.cfg.Rules.evaluate(s, now)
	e.mu.Lock()
	e.applyLocked(ev, now)
	e.evaluations++
	e.evaluatedAt = now
	e.mu.Unlock()
	e.save()
	e.publish()
	e.kickAll()
}

// publish makes the view of the current state. It follows a save, so that what a view
// shows is recorded.
func (e *Engine) publish() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.publishLocked(e.now())
}

// applyLocked moves the alerts' states to what ev says.
func (e *Engine) applyLocked(ev evaluation, now time.Time) {
	seen := map[string]bool{}
	for _, c := range ev.candidates {
		fp := c.alert.Fingerprint
		if seen[fp] {
			continue
		}
		seen[fp] = true
		r := e.st.Active[fp]
		if r == nil {
			active := now
			if !c.since.IsZero() && c.since.Before(now) {
				active = c.since.UTC().Truncate(time.Microsecond)
			}
			r = &Record{ActiveAt: active}
			e.st.Active[fp] = r
			e.version++
		}
		// The texts follow the figures; the times stay those of the episode.
		r.Alert, r.key = c.alert, ""
		r.Alert.URL = e.link(c.crm)
		r.Alert.StartsAt, r.Alert.EndsAt = r.ActiveAt, time.Time{}
		r.CRM, r.Threshold = c.crm, c.threshold
		if !r.Firing && now.Sub(r.ActiveAt) >= c.hold {
			r.Firing, r.FiredAt = true, now
			e.version++
			e.log.Info("alert firing", "alert", r.Alert.Name, "labels", labelText(r.Alert.Labels), "summary", r.Alert.Summary)
		}
	}
	for fp, r := range e.st.Active {
		if seen[fp] || !ev.judged[r.Alert.Name] {
			continue // still true, or not judged now: kept as it is
		}
		delete(e.st.Active, fp)
		e.version++
		if r.Firing {
			r.Firing, r.ResolvedAt = false, now
			r.Alert.EndsAt = now
			if ev.outOfScope(r.Alert) {
				r.Alert.Summary = "No longer judged: no run of it started in the last 30 days. " + r.Alert.Summary
			}
			e.st.Resolved[fp] = r
			e.log.Info("alert resolved", "alert", r.Alert.Name, "labels", labelText(r.Alert.Labels))
		}
	}
	for fp, r := range e.st.Resolved {
		if now.Sub(r.ResolvedAt) > resolvedKept && !e.toldLocked(fp) {
			delete(e.st.Resolved, fp)
			e.version++
		}
	}
}

// toldLocked reports whether a channel still has fp's episode to be told resolved.
func (e *Engine) toldLocked(fp string) bool {
	for _, c := range e.st.Channels {
		if _, ok := c.Told[fp]; ok {
			return true
		}
	}
	return false
}

// link is the page of crm under the external URL, or the page itself.
func (e *Engine) link(crm string) string {
	if e.cfg.ExternalURL == "" {
		return ""
	}
	if crm == "" {
		return e.cfg.ExternalURL
	}
	return e.cfg.ExternalURL + "crm/" + url.PathEscape(crm) + "/"
}

func (e *Engine) channelLocked(id string) *ChannelState {
	c := e.st.Channels[id]
	if c == nil {
		c = &ChannelState{Told: map[string]Told{}}
		e.st.Channels[id] = c
	}
	return c
}

// sending reports whether this replica sends.
func (e *Engine) sending() bool {
	return e.cfg.Coordinator == nil || e.cfg.Coordinator.Leading()
}

func (e *Engine) kickAll() {
	for _, o := range e.outboxes {
		o.wake()
	}
}

// save writes the state to the store (and, on the sender, to the replicas' shared
// state) when it changed since the last save. Failures are logged: the state in memory
// goes on, and the next change tries again.
func (e *Engine) save() {
	if e.cfg.Store == nil && e.cfg.Coordinator == nil {
		return
	}
	e.saveMu.Lock()
	defer e.saveMu.Unlock()
	e.mu.Lock()
	if e.version == e.saved {
		e.mu.Unlock()
		return
	}
	version, st := e.version, e.st.clone()
	e.meta.Sender = e.sending()
	meta := e.meta
	e.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ok := true
	if e.cfg.Store != nil {
		if err := e.cfg.Store.Save(ctx, st, meta); err != nil {
			ok = false
			e.log.Error("alerts: cannot save the state file; what was sent may be sent again after a restart", "err", err)
		}
	}
	if c := e.cfg.Coordinator; c != nil && meta.Sender {
		c.share(st) // written by the coordinator's own goroutine: Redis never holds this one up
	}
	if ok {
		e.mu.Lock()
		e.saved = max(e.saved, version)
		e.mu.Unlock()
	}
}

// now is the engine's time, in UTC and whole microseconds: the state file keeps
// microseconds, and an episode read back must equal the one in memory.
func (e *Engine) now() time.Time { return e.clock.Now().UTC().Truncate(time.Microsecond) }

// senderChanged records that this replica started or stopped sending.
func (e *Engine) senderChanged() {
	e.mu.Lock()
	e.version++
	e.mu.Unlock()
	e.save()
	e.publish()
	e.kickAll()
}

// shareAll has the whole state saved as the replicas' shared state.
func (e *Engine) shareAll() {
	c := e.cfg.Coordinator
	if c == nil || !c.Leading() {
		return
	}
	e.mu.Lock()
	st := e.st.clone()
	e.mu.Unlock()
	c.share(st)
}

// adopt takes the replicas' shared state: on a replica that does not send, at every
// look at the lease, so that its page shows what the sender sees and has sent (and its
// own state file keeps a copy); on the replica that takes over, before it sends anything,
// so that it neither sends again what the previous sender sent nor forgets what that one
// still owed. Its own evaluations go on from there.
func (e *Engine) adopt(shared State) {
	shared.normalize()
	e.mu.Lock()
	e.st.Active, e.st.Resolved = shared.Active, shared.Resolved
	for id := range e.st.Channels {
		if c, ok := shared.Channels[id]; ok {
			e.st.Channels[id] = c
		}
	}
	e.version++
	e.mu.Unlock()
	e.save()
	e.publish()
}

// sortedRecords lists records by when they began, then name and fingerprint.
func sortedRecords(m map[string]*Record, keep func(*Record) bool) []*Record {
	var out []*Record
	for _, r := range m {
		if keep(r) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, compareRecords)
	return out
}

func labelText(labels map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, " ")
}
