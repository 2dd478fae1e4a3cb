package metrics

import "github.com/syncwatch/syncwatch/internal/dashboard"

// otherSyncType is the sync_type under which the entities past the cap are counted.
const otherSyncType = "other"

// entityKey is the label pair of the per-entity metrics.
type entityKey struct{ crm, syncType string }

// group is what is known about one label pair: the entities (rows of sync_history) and
// the schedules (rows of sync_schedule, whose model_name is the sync_type) under it.
// A pair has more than one entity only under "other", and more than one schedule when
// several schedules sync the same entity.
type group struct {
	key       entityKey
	entities  []*dashboard.EntityStatus
	schedules []*dashboard.ScheduleInfo
}

// groupEntities gathers the entities and schedules of a snapshot by label pair. The
// first max pairs in byte order of (crm, sync_type), over entities and schedules
// together, keep their own; the others of each CRM are gathered under "other". It
// returns the groups in that order, and how many pairs were folded.
func groupEntities(s dashboard.Snapshot, maxPairs int) ([]*group, int) {
	byKey := make(map[entityKey]*group)
	var keys []entityKey
	get := func(k entityKey) *group {
		g, ok := byKey[k]
		if !ok {
			g = &group{key: k}
			byKey[k] = g
			keys = append(keys, k)
		}
		return g
	}
	for i := range s.Entities {
		e := &s.Entities[i]
		g := get(entityKey{label(e.CRMSource), label(e.SyncType)})
		g.entities = append(g.entities, e)
	}
	for i := range s.CRMs {
		crm := label(s.CRMs[i].Source)
		for j := range s.CRMs[i].Schedules {
			sch := &s.CRMs[i].Schedules[j]
			g := get(entityKey{crm, label(sch.ModelName)})
			g.schedules = append(g.schedules, sch)
		}
	}
	sortKeys(keys)
	if len(keys) <= maxPairs {
		out := make([]*group, len(keys))
		for i, k := range keys {
			out[i] = byKey[k]
		}
		return out, 0
	}

	// Past the cap: fold the rest into their CRM's "other", which may already exist (as
	// a kept pair, or a real sync_type named "other").
	kept := make(map[entityKey]*group, maxPairs)
	var out []*group
	for _, k := range keys[:maxPairs] {
		kept[k] = byKey[k]
		out = append(out, byKey[k])
	}
	for _, k := range keys[maxPairs:] {
		src := byKey[k]
		other := entityKey{k.crm, otherSyncType}
		dst, ok := kept[other]
		if !ok {
			dst = &group{key: other}
			kept[other] = dst
			out = append(out, dst)
		}
		dst.entities = append(dst.entities, src.entities...)
		dst.schedules = append(dst.schedules, src.schedules...)
	}
	return out, len(keys) - maxPairs
}
