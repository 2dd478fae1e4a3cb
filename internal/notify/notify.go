// Package notify speaks the wire formats of the channels syncwatch's alerts are sent to:
// a generic webhook (the JSON body Alertmanager's webhook receiver sends, version 4), a
// Slack incoming webhook, email over SMTP (with Django's settings names) and the
// Alertmanager API v2. A Channel sends one Message and reports whether it arrived; it
// keeps no state. Which alerts a message holds, when it is sent, retried, repeated or
// held back is decided by package alerts.
package notify

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The kinds of channel.
const (
	KindWebhook      = "webhook"
	KindSlack        = "slack"
	KindEmail        = "email"
	KindAlertmanager = "alertmanager"
)

// Channel sends messages to one receiver.
type Channel interface {
	// Kind is KindWebhook, KindSlack, KindEmail or KindAlertmanager.
	Kind() string
	// ID names the channel uniquely and stably across restarts: the kind and a digest
	// of what identifies the receiver (a webhook's or Alertmanager's URL, Slack's URL and
	// channel, the SMTP server and the recipients), so that what it was sent is
	// remembered per receiver, and a receiver changed is a new channel.
	ID() string
	// Target says where it sends, without secrets (a webhook's URL path can be one).
	Target() string
	// Send delivers m, or says why it could not; the error never carries a secret.
	Send(ctx context.Context, m Message) error
	// Close releases the channel's idle connections; call it when done sending.
	Close()
}

// Alert is one alert as a message shows it.
type Alert struct {
	// Name is the rule's name, Alertmanager's alertname.
	Name string `json:"name"`
	// Labels are the rule's labels, without alertname.
	Labels map[string]string `json:"labels"`
	// Fingerprint identifies the alert: a hash of its labels and name.
	Fingerprint string `json:"fingerprint"`
	// Summary is one sentence a person can act on; Description adds details.
	Summary     string `json:"summary"`
	Description string `json:"description,omitempty"`
	// Severity is "critical" or "warning".
	Severity string `json:"severity"`
	// ErrorType and ErrorMessage are the last failure's type and masked message, where
	// the alert is about a failure.
	ErrorType    string `json:"error_type,omitempty"`
	ErrorMessage string `json:"error_message,omitempty"`
	// URL is the page that shows what the alert is about.
	URL string `json:"url,omitempty"`
	// StartsAt is when the alert began; EndsAt when it resolved (zero while firing).
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
	// Reminder marks a firing alert sent again after the repeat interval.
	Reminder bool `json:"-"`
}

// LabelSet returns the alert's labels with alertname, as Alertmanager names them.
func (a Alert) LabelSet() map[string]string {
	out := make(map[string]string, len(a.Labels)+1)
	maps.Copy(out, a.Labels)
	out["alertname"] = a.Name
	return out
}

// Annotations returns the alert's annotations: summary always, the others when set.
func (a Alert) Annotations() map[string]string {
	out := map[string]string{"summary": a.Summary}
	for k, v := range map[string]string{
		"description": a.Description, "severity": a.Severity, "error_type": a.ErrorType,
		"error_message": a.ErrorMessage, "url": a.URL,
	} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

// Message is what one evaluation tells a channel: the alerts that fired (and reminders of
// those still firing after the repeat interval), and those that resolved.
type Message struct {
	Firing   []Alert
	Resolved []Alert
	// HeldBack counts the messages the hourly cap kept from this channel since its last
	// message; Cap is that cap.
	HeldBack int
	Cap      int
	// Test marks the test notification of "syncwatch alerts test".
	Test bool
	// ExternalURL is the page's address.
	ExternalURL string
	// At is when the message was made.
	At time.Time
}

// Status is "firing" when the message holds a firing alert, else "resolved".
func (m Message) Status() string {
	if len(m.Firing) > 0 {
		return "firing"
	}
	return "resolved"
}

// Headline says in a few words what the message holds: "TEST", "FIRING: 2",
// "RESOLVED: 1", or both counts; and the held-back note.
func (m Message) Headline() string {
	var parts []string
	if m.Test {
		parts = append(parts, "TEST notification")
	}
	if n := len(m.Firing); n > 0 {
		parts = append(parts, fmt.Sprintf("FIRING: %d", n))
	}
	if n := len(m.Resolved); n > 0 {
		parts = append(parts, fmt.Sprintf("RESOLVED: %d", n))
	}
	if m.HeldBack > 0 {
		parts = append(parts, heldBackNote(m.HeldBack, m.Cap))
	}
	if len(parts) == 0 {
		return "no change"
	}
	return strings.Join(parts, ", ")
}

// Subject is the email subject (and the first line elsewhere): the headline and, for a
// single alert, what it is about.
func (m Message) Subject() string {
	s := "[syncwatch] " + m.Headline()
	if all := m.All(); len(all) == 1 {
		s += " - " + all[0].Name + " " + labelText(all[0].Labels)
	}
	return strings.TrimSpace(s)
}

// All lists the firing alerts, then the resolved ones.
func (m Message) All() []Alert {
	return append(slices.Clip(m.Firing), m.Resolved...)
}

// heldBackNote says how many messages the cap held back.
func heldBackNote(n, limit int) string {
	word := "messages were"
	if n == 1 {
		word = "message was"
	}
	return fmt.Sprintf("%d %s held back (at most %d an hour)", n, word, limit)
}

// labelText writes labels as crm=hubspot sync_type=contacts, sorted by name.
func labelText(labels map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		parts = append(parts, k+"="+labels[k])
	}
	return strings.Join(parts, " ")
}

// timeText writes a time as the messages show it: UTC, to the minute.
func timeText(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// commonMap returns the entries every map has with the same value.
func commonMap(ms []map[string]string) map[string]string {
	out := map[string]string{}
	if len(ms) == 0 {
		return out
	}
	for k, v := range ms[0] {
		common := true
		for _, m := range ms[1:] {
			if w, ok := m[k]; !ok || w != v {
				common = false
				break
			}
		}
		if common {
			out[k] = v
		}
	}
	return out
}

// TestAlert is the alert of the test notification: clearly marked, about nothing.
func TestAlert(externalURL string, at time.Time) Alert {
	return Alert{
		Name:        "syncwatch_test",
		Labels:      map[string]string{"test": "true"},
		Fingerprint: Fingerprint("syncwatch_test", map[string]string{"test": "true"}),
		Summary:     "This is a test notification from syncwatch: the channel works. Nothing is wrong.",
		Severity:    "info",
		URL:         externalURL,
		StartsAt:    at,
	}
}
