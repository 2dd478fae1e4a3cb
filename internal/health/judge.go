package health

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// The judging of Celery's health from what a transport measured, the same for every
// broker: the rules of the package doc's "How health is judged".

// celeryMeasurement is the outcome of one look at the broker, before judgement. Every
// transport fills it; fields a transport cannot measure stay nil.
type celeryMeasurement struct {
	// err is set when the broker could not be read: nothing else is then measured.
	err error
	// rtt is the broker's own round trip (Redis PING).
	rtt time.Duration
	// slowest is the time from the broadcast to the last reply.
	slowest time.Duration
	// listeners is how many connections the broadcast reached; nil when unknown.
	listeners *int64
	workers   map[string]workerFacts // the workers that answered
	queues    map[string]queueCount
	// reserved counts the messages workers took and have not acknowledged; nil when
	// unknown.
	reserved *int64
	// oldestReserved is the delivery time of the oldest of them; nil when unknown.
	oldestReserved *time.Time
}

// queueCount is what waits in one queue.
type queueCount struct {
	pending int64
	// byPriority splits pending by priority level, for brokers that keep one list per
	// level (Redis: "0", "3", "6", "9"); nil for the others.
	byPriority map[string]int64
	// missing is true when the broker says it has no such queue (AMQP).
	missing bool
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
	secrets         []string // masked in reasons
}

// judge turns one measurement into a report and updates the memory. The rules are the
// package doc's: a worker is gone after two consecutive checks without an answer; no
// worker alive is unhealthy; a missing or gone worker, pending growth over three checks,
// or slowness is degraded.
func (s *celeryState) judge(m celeryMeasurement, rules celeryRules, now time.Time) CeleryReport {
	var rep CeleryReport
	if m.err != nil {
		// Nothing was observed, so nothing is forgotten or counted against a worker.
		rep.Status, rep.Error = StatusUnhealthy, reason(m.err, rules.timeout, rules.secrets...)
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
			ActiveTasks: w.facts.Active, ReservedTasks: w.facts.Reserved,
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
	rep.Listeners = m.listeners
	rep.ResponseTimeMS = ptr(millis(m.rtt))

	// Queues: every measured queue that is configured, consumed, or holds messages.
	var total int64
	rep.Queues = []QueueReport{}
	for name, q := range m.queues {
		total += q.pending
		if name != rules.defaultQueue && consumers[name] == 0 && q.pending == 0 {
			delete(s.queues, name) // nothing waits there and nobody consumes it: forget it
			continue
		}
		rep.Queues = append(rep.Queues, QueueReport{Name: name, Pending: q.pending, PendingByPriority: q.byPriority,
			Consumers: consumers[name], Missing: q.missing})
	}
	slices.SortFunc(rep.Queues, func(a, b QueueReport) int { return strings.Compare(a.Name, b.Name) })
	rep.PendingTasks = ptr(total)
	rep.ReservedTasks = m.reserved
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
		rep.Error = "no worker answered the ping"
		if m.listeners != nil {
			rep.Error += fmt.Sprintf(" (%d listening on the broker)", *m.listeners)
		}
		if len(gone) > 0 {
			rep.Error = "no worker answered the ping; gone: " + strings.Join(gone, ", ")
		}
		rep.Error = shortText(rep.Error)
		return rep
	}
	if len(m.workers) == 0 {
		rep.Warnings = append(rep.Warnings, "no worker answered this check; counting those that answered the previous one")
	}
	for _, name := range missing {
		rep.Warnings = append(rep.Warnings, shortText(name+" did not answer this check"))
	}
	for _, name := range gone {
		rep.Warnings = append(rep.Warnings, shortText(name+" did not answer two checks in a row: gone"))
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

// queuesToCount lists, sorted and once each, the known queues and those the workers
// report consuming.
func queuesToCount(known []string, workers map[string]workerFacts) []string {
	queues := slices.Clone(known)
	for _, w := range workers {
		queues = append(queues, w.Queues...)
	}
	slices.Sort(queues)
	return slices.Compact(queues)
}
