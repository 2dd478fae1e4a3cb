package health

// Unit tests of the celery judgement: the same measurements, the same verdicts.

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func measured(workers ...string) celeryMeasurement {
	m := celeryMeasurement{workers: map[string]workerFacts{}, queues: map[string]queueCount{"dw": {}}, listeners: ptr(int64(len(workers)))}
	for _, w := range workers {
		m.workers[w] = workerFacts{Queues: []string{"dw"}}
	}
	return m
}

func TestJudgeWorkersGoneAfterTwoMissedChecks(t *testing.T) {
	t.Parallel()
	type verdict struct {
		status  Status
		active  int
		missing []string
		gone    []string
	}
	tests := []struct {
		name   string
		checks []celeryMeasurement
		want   []verdict
	}{
		{
			name:   "no worker ever",
			checks: []celeryMeasurement{measured()},
			want:   []verdict{{StatusUnhealthy, 0, nil, nil}},
		},
		{
			name:   "one late reply does not make the count flap",
			checks: []celeryMeasurement{measured("a", "b"), measured("a"), measured("a", "b")},
			want: []verdict{
				{StatusHealthy, 2, nil, nil},
				{StatusDegraded, 2, []string{"b"}, nil},
				{StatusHealthy, 2, nil, nil},
			},
		},
		{
			name:   "a killed worker: counted once more, gone at the second check, forgotten at the third",
			checks: []celeryMeasurement{measured("a", "b"), measured("a"), measured("a"), measured("a")},
			want: []verdict{
				{StatusHealthy, 2, nil, nil},
				{StatusDegraded, 2, []string{"b"}, nil},
				{StatusDegraded, 1, nil, []string{"b"}},
				{StatusHealthy, 1, nil, nil},
			},
		},
		{
			name:   "the only worker misses one check: degraded, not unhealthy",
			checks: []celeryMeasurement{measured("a"), measured(), measured("a")},
			want: []verdict{
				{StatusHealthy, 1, nil, nil},
				{StatusDegraded, 1, []string{"a"}, nil},
				{StatusHealthy, 1, nil, nil},
			},
		},
		{
			name:   "the only worker misses two checks: unhealthy",
			checks: []celeryMeasurement{measured("a"), measured(), measured()},
			want: []verdict{
				{StatusHealthy, 1, nil, nil},
				{StatusDegraded, 1, []string{"a"}, nil},
				{StatusUnhealthy, 0, nil, []string{"a"}},
			},
		},
		{
			name:   "an unreachable broker counts against nobody",
			checks: []celeryMeasurement{measured("a"), {err: errors.New("broker unreachable: refused")}, {err: errors.New("broker unreachable: refused")}, measured("a")},
			want: []verdict{
				{StatusHealthy, 1, nil, nil},
				{StatusUnhealthy, -1, nil, nil},
				{StatusUnhealthy, -1, nil, nil},
				{StatusHealthy, 1, nil, nil},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newCeleryState()
			now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
			for i, m := range tt.checks {
				rep := s.judge(m, celeryRules{timeout: 2 * time.Second, growthThreshold: 20, defaultQueue: "dw"}, now.Add(time.Duration(i)*30*time.Second))
				var missing []string
				for _, w := range rep.Workers {
					if !w.Answered {
						missing = append(missing, w.Name)
					}
				}
				active := -1
				if rep.ActiveWorkers != nil {
					active = *rep.ActiveWorkers
				}
				w := tt.want[i]
				if rep.Status != w.status || active != w.active || !slices.Equal(missing, w.missing) || !slices.Equal(rep.GoneWorkers, w.gone) {
					t.Errorf("check %d: got %q, active %d, missing %v, gone %v (%s %v); want %q, %d, %v, %v",
						i+1, rep.Status, active, missing, rep.GoneWorkers, rep.Error, rep.Warnings, w.status, w.active, w.missing, w.gone)
				}
			}
		})
	}
}

func TestJudgePendingGrowth(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		pending []int64
		want    Status // at the last check
	}{
		{"steady", []int64{50, 50, 50}, StatusHealthy},
		{"rising by more than the threshold over three checks", []int64{10, 20, 31}, StatusDegraded},
		{"rising by exactly the threshold", []int64{10, 20, 30}, StatusHealthy},
		{"only two checks so far", []int64{10, 100}, StatusHealthy},
		{"rising, then a dip", []int64{10, 40, 35}, StatusHealthy},
		{"a long rise judged on the last three", []int64{0, 1, 2, 3, 22}, StatusHealthy},
		{"the last three rise enough", []int64{0, 1, 2, 30, 60}, StatusDegraded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newCeleryState()
			var rep CeleryReport
			for _, p := range tt.pending {
				m := measured("a")
				m.queues = map[string]queueCount{"dw": {pending: p}}
				rep = s.judge(m, celeryRules{timeout: 2 * time.Second, growthThreshold: 20, defaultQueue: "dw"}, time.Now())
			}
			if rep.Status != tt.want {
				t.Errorf("got %q %v, want %q", rep.Status, rep.Warnings, tt.want)
			}
		})
	}
}

func TestJudgeSlowness(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		rtt, slowest time.Duration
		want         Status
	}{
		{"fast", 2 * time.Millisecond, 10 * time.Millisecond, StatusHealthy},
		{"a slow broker", 1100 * time.Millisecond, 1200 * time.Millisecond, StatusDegraded},
		{"a slow worker reply", time.Millisecond, 1100 * time.Millisecond, StatusDegraded},
		{"exactly half the timeout", time.Second, time.Second, StatusHealthy},
	}
	for _, tt := range tests {
		m := measured("a")
		m.rtt, m.slowest = tt.rtt, tt.slowest
		rep := newCeleryState().judge(m, celeryRules{timeout: 2 * time.Second, growthThreshold: 20, defaultQueue: "dw"}, time.Now())
		if rep.Status != tt.want {
			t.Errorf("%s: got %q %v, want %q", tt.name, rep.Status, rep.Warnings, tt.want)
		}
	}
}

// TestJudgeRemembersQueues: a queue seen in a worker's active_queues stays counted after
// its last consumer is gone, while it holds messages; then it is forgotten.
func TestJudgeRemembersQueues(t *testing.T) {
	t.Parallel()
	s := newCeleryState()
	rules := celeryRules{timeout: 2 * time.Second, growthThreshold: 20, defaultQueue: "dw"}
	m := measured("a")
	m.workers["a"] = workerFacts{Queues: []string{"dw", "dw-high"}}
	m.queues = map[string]queueCount{"dw": {}, "dw-high": {}}
	s.judge(m, rules, time.Now())
	if got := s.knownQueues("dw"); !slices.Equal(got, []string{"dw", "dw-high"}) {
		t.Fatalf("known queues: got %v, want [dw dw-high]", got)
	}
	m = measured() // the consumer is gone; dw-high still holds 7 messages
	m.queues = map[string]queueCount{"dw": {}, "dw-high": {pending: 7}}
	rep := s.judge(m, rules, time.Now())
	if got := queuePending(rep); got["dw-high"] != 7 || deref(rep.PendingTasks) != int64(7) {
		t.Errorf("queues: got %v, pending %v; want dw-high with 7", got, deref(rep.PendingTasks))
	}
	m = measured()
	m.queues = map[string]queueCount{"dw": {}, "dw-high": {}}
	rep = s.judge(m, rules, time.Now())
	if got := queuePending(rep); len(got) != 1 || s.knownQueues("dw")[0] != "dw" || len(s.knownQueues("dw")) != 1 {
		t.Errorf("after dw-high drained without consumer: got queues %v, known %v; want only dw", got, s.knownQueues("dw"))
	}
}
