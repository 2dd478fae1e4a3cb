package alerts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/alerts"
	"github.com/syncwatch/syncwatch/internal/clock"
	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// warehouseSnapshot is a snapshot the size of the warehouse's: ten CRMs with two
// schedules each, 300 entities (Genius alone has about 30), of which failing fail.
func warehouseSnapshot(at time.Time, failingEntities int) dashboard.Snapshot {
	s := fresh(at)
	crms := []string{"hubspot", "callrail", "genius", "salesrabbit", "arrivy", "five9", "marketsharp", "leadconduit", "salespro", "gsheet"}
	for _, c := range crms {
		s.CRMs = append(s.CRMs, dashboard.CRMStatus{Source: c, Name: c, LastStart: ptr(at.Add(-time.Hour)), LastSuccess: ptr(at.Add(-time.Hour)),
			Schedules: []dashboard.ScheduleInfo{{Name: "hourly", ModelName: "NA", State: "scheduled"}, {Name: "nightly", ModelName: "NA", State: "scheduled"}}})
		for i := range 30 {
			e := dashboard.EntityStatus{CRMSource: c, Name: c, SyncType: fmt.Sprintf("entity%02d", i), LastSuccess: ptr(at.Add(-time.Hour))}
			if len(s.Entities) < failingEntities {
				e = failing(c, e.SyncType, 2, at)
			}
			s.Entities = append(s.Entities, e)
		}
	}
	return s
}

// BenchmarkEvaluate measures one evaluation of a warehouse-sized snapshot, as each
// refresh and each health reading costs: the rules, the states, and the view.
func BenchmarkEvaluate(b *testing.B) {
	for _, n := range []int{0, 50, 300} {
		b.Run(fmt.Sprintf("failing=%d", n), func(b *testing.B) {
			e, err := alerts.New(context.Background(), alerts.Config{Rules: alerts.DefaultRules(), Clock: clock.NewFake(now),
				Channels: channels(newFake("webhook"), newFake("slack"))})
			if err != nil {
				b.Fatal(err)
			}
			s := warehouseSnapshot(now, n)
			e.Evaluate(s)
			b.ReportAllocs()
			for b.Loop() {
				e.Evaluate(s)
			}
		})
	}
}

// BenchmarkSaveStateFile measures one save of the state file with 300 firing alerts told
// to two channels: the write after each change.
func BenchmarkSaveStateFile(b *testing.B) {
	f, err := alerts.OpenFile(context.Background(), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	st := alerts.State{Active: map[string]*alerts.Record{}, Channels: map[string]*alerts.ChannelState{
		"webhook": {Told: map[string]alerts.Told{}}, "slack": {Told: map[string]alerts.Told{}}}}
	for i := range 300 {
		fp := fmt.Sprintf("%016x", i)
		r := &alerts.Record{Firing: true, ActiveAt: now, FiredAt: now}
		r.Alert.Name, r.Alert.Fingerprint, r.Alert.Summary = "sync_failing", fp, "Genius entity failed 2 times in a row."
		r.Alert.Labels = map[string]string{"crm": "genius", "sync_type": fp}
		st.Active[fp] = r
		for _, c := range st.Channels {
			c.Told[fp] = alerts.Told{Episode: now, SentAt: now}
		}
	}
	ctx := context.Background()
	for b.Loop() {
		if err := f.Save(ctx, st, alerts.Meta{ReplicaID: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}
