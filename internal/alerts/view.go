package alerts

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/feed"
)

// View is the answer of api/alerts/: what fires now, what waits for its "for" duration,
// what resolved in the last 24 hours, and how each channel is doing. It also carries the
// fields of the warehouse's old mock endpoint (alerts, alert_stats), with true values,
// so that its old template keeps working.
type View struct {
	// Enabled is true: the alerts are on (api/alerts/ says false when they are off).
	Enabled bool `json:"enabled"`
	// Sender is whether this replica sends the notifications (false on a replica that
	// another one sends for).
	Sender   bool          `json:"sender"`
	Firing   []ViewAlert   `json:"firing"`
	Pending  []ViewAlert   `json:"pending"`
	Resolved []ViewAlert   `json:"resolved"`
	Channels []ViewChannel `json:"channels"`
	// Evaluations counts the snapshots evaluated since the start; EvaluatedAt is when
	// the last was (null before the first).
	Evaluations uint64     `json:"evaluations"`
	EvaluatedAt *time.Time `json:"evaluated_at"`

	Alerts     []LegacyAlert `json:"alerts"`
	AlertStats LegacyStats   `json:"alert_stats"`
	// Timestamp is when the view was made.
	Timestamp time.Time `json:"timestamp"`
}

// ViewAlert is one alert.
type ViewAlert struct {
	Name        string            `json:"name"`
	Labels      map[string]string `json:"labels"`
	Fingerprint string            `json:"fingerprint"`
	Severity    string            `json:"severity"`
	Summary     string            `json:"summary"`
	Description string            `json:"description"`
	// CRM is the CRM the alert is about (its page is crm/<source>/), null for the
	// machinery's alerts.
	CRM          *string `json:"crm"`
	ErrorType    *string `json:"error_type"`
	ErrorMessage *string `json:"error_message"`
	// Since is when the condition began; FiredAt when the alert fired (null while
	// pending); ResolvedAt when it resolved.
	Since      time.Time  `json:"since"`
	FiredAt    *time.Time `json:"fired_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
}

// ViewChannel is one channel's status.
type ViewChannel struct {
	ID     string `json:"id"`
	Kind   string `json:"kind"`
	Target string `json:"target"`
	// LastSuccess is when a message last arrived; LastError and LastErrorAt the last
	// failure (kept after a success, to show what happened).
	LastSuccess *time.Time `json:"last_success"`
	LastError   *string    `json:"last_error"`
	LastErrorAt *time.Time `json:"last_error_at"`
	// Failing is true while the latest attempt failed.
	Failing bool `json:"failing"`
	// Owed counts the alerts waiting to be sent to it (new, reminders, resolutions).
	Owed int `json:"owed"`
	// HeldBack counts the messages the hourly cap held back; SentLastHour the messages
	// of the last hour.
	HeldBack     int `json:"held_back"`
	SentLastHour int `json:"sent_last_hour"`
	// RetryAt is when a failed message is tried again.
	RetryAt *time.Time `json:"retry_at"`
}

// LegacyAlert is an alert as the warehouse's old mock endpoint shaped it.
type LegacyAlert struct {
	ID string `json:"id"`
	// Type is error (critical) or warning.
	Type string `json:"type"`
	// Severity is high (critical) or medium (warning).
	Severity string `json:"severity"`
	Title    string `json:"title"`
	Message  string `json:"message"`
	// Threshold is the rule's threshold as a number (see docs/api.md for units).
	Threshold float64   `json:"threshold"`
	Timestamp time.Time `json:"timestamp"`
	// Status is active or resolved.
	Status string `json:"status"`
	// Source is the CRM, or celery or database for the machinery's alerts.
	Source string `json:"source"`
}

// LegacyStats are the old endpoint's counts.
type LegacyStats struct {
	TotalAlerts24h    int `json:"total_alerts_24h"`
	ActiveAlerts      int `json:"active_alerts"`
	CriticalAlerts    int `json:"critical_alerts"`
	ResolvedAlerts24h int `json:"resolved_alerts_24h"`
}

// published is the view and its encoding, made once per change for every reader.
type published struct {
	view View
	json []byte
}

// Subscribe returns a subscription to the views: the current one at once, then one
// after each change (an evaluation, a delivery, a change of sender).
func (e *Engine) Subscribe() *feed.Subscription[View] { return e.views.Subscribe() }

// View returns the current view. Readers never wait on a channel, the state file or a
// replica.
func (e *Engine) View() View { return e.published.Load().view }

// AlertsJSON returns the current view, encoded.
func (e *Engine) AlertsJSON() []byte { return e.published.Load().json }

// FiringByName counts the alerts firing now, by alertname (every rule is present).
func (e *Engine) FiringByName() map[string]int {
	out := make(map[string]int, len(RuleNames))
	for _, name := range RuleNames {
		out[name] = 0
	}
	for _, a := range e.published.Load().view.Firing {
		out[a.Name]++
	}
	return out
}

// NotificationTotals counts the notifications sent since start: channel kind → result
// ("success" or "failure") → count. Every configured kind is present.
func (e *Engine) NotificationTotals() map[string]map[string]uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make(map[string]map[string]uint64, len(e.totals))
	for kind, results := range e.totals {
		out[kind] = maps.Clone(results)
	}
	return out
}

// ruleTitles are the legacy titles' words.
var ruleTitles = map[string]string{
	SyncFailing: "Sync failing", SyncStale: "No recent success", SyncStuck: "Sync stuck",
	ScheduleOverdue: "Schedule overdue", EmptyRuns: "Empty runs", WorkersDown: "Celery workers down",
	QueueBacklog: "Queue backlog", WarehouseUnreachable: "Warehouse unreachable",
}

// publishLocked makes the view of the state at now.
func (e *Engine) publishLocked(now time.Time) {
	v := View{Enabled: true, Sender: e.sending(), Evaluations: e.evaluations, Timestamp: now.UTC(),
		Firing: []ViewAlert{}, Pending: []ViewAlert{}, Resolved: []ViewAlert{}, Channels: []ViewChannel{}, Alerts: []LegacyAlert{}}
	if !e.evaluatedAt.IsZero() {
		v.EvaluatedAt = ptr(e.evaluatedAt.UTC())
	}
	for _, r := range sortedRecords(e.st.Active, func(*Record) bool { return true }) {
		if r.Firing {
			v.Firing = append(v.Firing, viewAlert(r))
			v.Alerts = append(v.Alerts, legacyAlert(r, "active", r.ActiveAt))
			v.AlertStats.ActiveAlerts++
			if r.Alert.Severity == Critical {
				v.AlertStats.CriticalAlerts++
			}
		} else {
			v.Pending = append(v.Pending, viewAlert(r))
		}
	}
	resolved := sortedRecords(e.st.Resolved, func(r *Record) bool { return now.Sub(r.ResolvedAt) <= resolvedKept })
	slices.Reverse(resolved) // the latest first
	slices.SortStableFunc(resolved, func(a, b *Record) int { return b.ResolvedAt.Compare(a.ResolvedAt) })
	for _, r := range resolved {
		v.Resolved = append(v.Resolved, viewAlert(r))
		v.Alerts = append(v.Alerts, legacyAlert(r, "resolved", r.ResolvedAt))
	}
	v.AlertStats.ResolvedAlerts24h = len(v.Resolved)
	v.AlertStats.TotalAlerts24h = v.AlertStats.ActiveAlerts + v.AlertStats.ResolvedAlerts24h
	for _, o := range e.outboxes {
		cs := e.channelLocked(o.ch.ID())
		d, _ := o.owedLocked(now)
		c := ViewChannel{ID: o.ch.ID(), Kind: o.ch.Kind(), Target: o.ch.Target(),
			LastSuccess: utcPtr(cs.LastSuccess), LastErrorAt: utcPtr(cs.LastErrorAt),
			Owed: len(d.msg.Firing) + len(d.msg.Resolved), HeldBack: cs.HeldBack,
			SentLastHour: len(recent(cs.Sent, now))}
		if cs.LastError != "" {
			c.LastError = ptr(cs.LastError)
		}
		c.Failing = cs.LastErrorAt != nil && (cs.LastSuccess == nil || cs.LastErrorAt.After(*cs.LastSuccess))
		if !o.retryAt.IsZero() {
			c.RetryAt = ptr(o.retryAt.UTC())
		}
		v.Channels = append(v.Channels, c)
	}
	data, err := json.Marshal(v)
	if err != nil {
		panic("alerts: the view cannot be encoded: " + err.Error()) // only plain types: a bug
	}
	e.published.Store(&published{view: v, json: append(data, '\n')})
	e.views.Publish(v)
}

func viewAlert(r *Record) ViewAlert {
	a := ViewAlert{Name: r.Alert.Name, Labels: r.Alert.Labels, Fingerprint: r.Alert.Fingerprint,
		Severity: r.Alert.Severity, Summary: r.Alert.Summary, Description: r.Alert.Description,
		Since: r.ActiveAt.UTC()}
	if a.Labels == nil {
		a.Labels = map[string]string{}
	}
	if r.CRM != "" {
		a.CRM = ptr(r.CRM)
	}
	if r.Alert.ErrorType != "" {
		a.ErrorType = ptr(r.Alert.ErrorType)
		a.ErrorMessage = ptr(r.Alert.ErrorMessage)
	}
	if !r.FiredAt.IsZero() {
		a.FiredAt = ptr(r.FiredAt.UTC())
	}
	if !r.ResolvedAt.IsZero() {
		a.ResolvedAt = ptr(r.ResolvedAt.UTC())
	}
	return a
}

func legacyAlert(r *Record, status string, at time.Time) LegacyAlert {
	l := LegacyAlert{ID: r.Alert.Fingerprint, Type: "warning", Severity: "medium", Message: r.Alert.Summary,
		Threshold: r.Threshold, Timestamp: at.UTC(), Status: status, Source: r.CRM}
	if r.Alert.Severity == Critical {
		l.Type, l.Severity = "error", "high"
	}
	var words []string
	for _, k := range []string{"crm", "sync_type", "run_id", "queue"} {
		if v, ok := r.Alert.Labels[k]; ok {
			words = append(words, v)
		}
	}
	l.Title = ruleTitles[r.Alert.Name]
	if len(words) > 0 {
		l.Title += ": " + strings.Join(words, " ")
	}
	if status == "resolved" {
		l.Title = "RESOLVED: " + l.Title
	}
	if l.Source == "" {
		l.Source = "celery"
		if r.Alert.Name == WarehouseUnreachable {
			l.Source = "database"
		}
	}
	return l
}

func ptr[T any](v T) *T { return &v }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	return ptr(t.UTC())
}
