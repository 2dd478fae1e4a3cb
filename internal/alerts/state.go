package alerts

import (
	"maps"
	"time"

	"github.com/syncwatch/syncwatch/internal/notify"
)

// State is everything the alerts remember: what is pending or firing, what resolved, and
// what each channel was told. It is what the state file keeps, and what replicas share.
type State struct {
	// Active holds the pending and firing alerts, by fingerprint.
	Active map[string]*Record `json:"active"`
	// Resolved holds each alert's latest resolution, kept for 24 hours (the API lists
	// them) and for as long as a channel has yet to be told of it.
	Resolved map[string]*Record `json:"resolved"`
	// Channels is what each channel was told, by channel ID.
	Channels map[string]*ChannelState `json:"channels"`
}

// Record is one alert and where it stands.
type Record struct {
	// Alert is the alert as the last evaluation saw it; its StartsAt is ActiveAt, its
	// EndsAt ResolvedAt.
	Alert notify.Alert `json:"alert"`
	// CRM is the CRM the alert is about, "" for the machinery's alerts.
	CRM string `json:"crm,omitempty"`
	// Threshold is the rule's threshold as a number, for the legacy API fields.
	Threshold float64 `json:"threshold"`
	// Firing is false while the alert waits for its "for" duration (pending).
	Firing bool `json:"firing"`
	// ActiveAt is when its condition began; FiredAt when it fired, which also names the
	// episode: an alert that resolves and fires again is a new episode.
	ActiveAt   time.Time `json:"active_at"`
	FiredAt    time.Time `json:"fired_at,omitzero"`
	ResolvedAt time.Time `json:"resolved_at,omitzero"`

	// key orders records of the same ActiveAt: name, labels, fingerprint (made once).
	key string
}

// sortKey is the record's name, labels and fingerprint, for a stable order.
func (r *Record) sortKey() string {
	if r.key == "" {
		r.key = r.Alert.Name + "\x00" + labelText(r.Alert.Labels) + "\x00" + r.Alert.Fingerprint
	}
	return r.key
}

// ChannelState is what one channel was told, and how its sending goes.
type ChannelState struct {
	// Told holds, by fingerprint, the firing episodes the channel was told of and not
	// yet told resolved.
	Told map[string]Told `json:"told"`
	// Sent are the times of its messages in the last hour, for the hourly cap.
	Sent []time.Time `json:"sent"`
	// HeldBack counts the messages the cap held back since its last message.
	HeldBack int `json:"held_back"`
	// LastSuccess is when a message last arrived; LastError why the last attempt
	// failed, at LastErrorAt (kept after a later success, to show what happened).
	LastSuccess *time.Time `json:"last_success"`
	LastError   string     `json:"last_error,omitempty"`
	LastErrorAt *time.Time `json:"last_error_at"`
}

// Told is a firing episode a channel was told of.
type Told struct {
	// Episode is the alert's FiredAt when it was told.
	Episode time.Time `json:"episode"`
	// SentAt is when it was last sent (first, or as a reminder).
	SentAt time.Time `json:"sent_at"`
}

// newState returns an empty state.
func newState() State {
	return State{Active: map[string]*Record{}, Resolved: map[string]*Record{}, Channels: map[string]*ChannelState{}}
}

// normalize makes every map of a loaded state usable.
func (s *State) normalize() {
	if s.Active == nil {
		s.Active = map[string]*Record{}
	}
	if s.Resolved == nil {
		s.Resolved = map[string]*Record{}
	}
	if s.Channels == nil {
		s.Channels = map[string]*ChannelState{}
	}
	for _, c := range s.Channels {
		if c.Told == nil {
			c.Told = map[string]Told{}
		}
	}
}

// clone copies s deeply, so that it can be saved while the engine goes on.
func (s *State) clone() State {
	out := newState()
	for fp, r := range s.Active {
		out.Active[fp] = r.clone()
	}
	for fp, r := range s.Resolved {
		out.Resolved[fp] = r.clone()
	}
	for id, c := range s.Channels {
		out.Channels[id] = c.clone()
	}
	return out
}

func (r *Record) clone() *Record {
	c := *r
	c.Alert.Labels = maps.Clone(r.Alert.Labels)
	return &c
}

func (c *ChannelState) clone() *ChannelState {
	out := *c
	out.Told = maps.Clone(c.Told)
	if out.Told == nil {
		out.Told = map[string]Told{}
	}
	out.Sent = append([]time.Time(nil), c.Sent...)
	return &out
}

// Meta is what a replica remembers about itself, beside the state.
type Meta struct {
	// ReplicaID names this replica to the others (its lock token); it is made once and
	// kept, so that a replica restarted after a crash finds its own lock.
	ReplicaID string
	// Sender is whether this replica was the sender when it last knew: a replica that
	// cannot reach the coordinator at all sends only if it was.
	Sender bool
}
