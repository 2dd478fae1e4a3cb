package dashboard

import (
	"context"
	"fmt"
	"time"

	"github.com/syncwatch/syncwatch/internal/schedule"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// addSchedules fills each CRM's schedules, its next run (the earliest next run among its
// enabled schedules) and its overdue mark: a schedule is overdue when no run of its CRM
// started near the time beat should last have sent it, the grace included (see
// schedule.Checkpoint). One query asks about every schedule at once.
func (d *Dashboard) addSchedules(ctx context.Context, now time.Time, crms []CRMStatus, schedules []syncs.Schedule) error {
	index := make(map[string]int, len(crms))
	for i, c := range crms {
		index[c.Source] = i
	}
	type check struct {
		crm, sched int
		expected   time.Time
	}
	var checks []check
	var probes []syncs.StartProbe
	for _, s := range schedules {
		i, ok := index[s.CRMSource]
		if !ok {
			// A schedule of a CRM the table does not list (not configured, no row in 30
			// days): the contract lists CRMs by their rows; doctor-level typos in a
			// schedule's crm_source must not make phantom CRMs.
			continue
		}
		r := schedule.Evaluate(s, now)
		info := ScheduleInfo{
			Name: word(s.Name), ModelName: word(s.ModelName), Mode: word(s.Mode), Recurrence: r.Description, State: string(r.State),
			Invalid: r.Invalid, Note: r.Note, NextRun: utc(r.Next), Due: r.Due,
			LastExpected: utc(r.LastExpected),
		}
		c := &crms[i]
		c.Schedules = append(c.Schedules, info)
		if s.Enabled && r.Next != nil && (c.NextSync == nil || r.Next.Before(*c.NextSync)) {
			c.NextSync = utc(r.Next)
		}
		// A run expected before the schedule last changed was never owed: beat reloads
		// a changed schedule and counts from then.
		if expected, ok := schedule.Checkpoint(s, now, d.cfg.OverdueGrace); ok && !expected.Before(s.UpdatedAt) {
			checks = append(checks, check{crm: i, sched: len(c.Schedules) - 1, expected: expected})
			probes = append(probes, schedule.Probe(s.CRMSource, expected, d.cfg.OverdueGrace))
		}
	}
	if len(probes) == 0 {
		return nil
	}
	started, err := d.cfg.Store.StartedNear(ctx, probes)
	if err != nil {
		return fmt.Errorf("overdue schedules: %w", err)
	}
	if len(started) != len(probes) {
		return fmt.Errorf("overdue schedules: got %d answers to %d probes", len(started), len(probes))
	}
	for k, ch := range checks {
		if schedule.Overdue(ch.expected, now, d.cfg.OverdueGrace, started[k]) {
			crms[ch.crm].Schedules[ch.sched].Overdue = true
			crms[ch.crm].Overdue = true
		}
	}
	return nil
}
