package notify

import (
	"context"
	"net/http"
	"time"
)

// Webhook posts Alertmanager's webhook JSON (version 4) to a URL, so that every existing
// consumer of Alertmanager's webhooks understands syncwatch (ALERT_WEBHOOK_URLS).
type Webhook struct {
	URL    string
	Client *http.Client
}

// NewWebhook returns the channel of one webhook URL; the URL must pass CheckURL.
func NewWebhook(rawURL string) *Webhook {
	return &Webhook{URL: rawURL, Client: HTTPClient()}
}

// Kind is KindWebhook.
func (w *Webhook) Kind() string { return KindWebhook }

// ID is "webhook-" and a digest of the URL: several webhooks are told apart, and a
// reordered list keeps what each was told.
func (w *Webhook) ID() string { return KindWebhook + "-" + digest(w.URL) }

// Target is the URL's scheme and host.
func (w *Webhook) Target() string { return urlTarget(w.URL) }

// Close releases idle connections.
func (w *Webhook) Close() { w.Client.CloseIdleConnections() }

// Send posts m.
func (w *Webhook) Send(ctx context.Context, m Message) error {
	return postJSON(ctx, w.Client, w.URL, "webhook "+w.Target(), WebhookPayload(m, "syncwatch"))
}

// WebhookMessage is the body Alertmanager's webhook receiver posts (version 4), with
// syncwatch's own additions in Syncwatch, which consumers that do not know it ignore.
type WebhookMessage struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []WebhookAlert    `json:"alerts"`
	Syncwatch         WebhookExtras     `json:"syncwatch"`
}

// WebhookAlert is one alert of a WebhookMessage.
type WebhookAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// WebhookExtras is what syncwatch adds to Alertmanager's format.
type WebhookExtras struct {
	// Test marks the test notification of "syncwatch alerts test".
	Test bool `json:"test"`
	// HeldBack counts the messages the hourly cap held back before this one.
	HeldBack int `json:"held_back"`
	// HourlyCap is that cap.
	HourlyCap int `json:"hourly_cap"`
}

// WebhookPayload builds the body of m for a receiver named receiver.
func WebhookPayload(m Message, receiver string) WebhookMessage {
	out := WebhookMessage{
		Version: "4", GroupKey: "{}:{}", Status: m.Status(), Receiver: receiver,
		GroupLabels: map[string]string{}, ExternalURL: m.ExternalURL, Alerts: []WebhookAlert{},
		Syncwatch: WebhookExtras{Test: m.Test, HeldBack: m.HeldBack, HourlyCap: m.Cap},
	}
	var labels, annotations []map[string]string
	add := func(a Alert, status string) {
		// A firing alert's EndsAt is zero: the zero time, as Alertmanager sends it.
		wa := WebhookAlert{
			Status: status, Labels: a.LabelSet(), Annotations: a.Annotations(),
			StartsAt: a.StartsAt.UTC(), EndsAt: a.EndsAt.UTC(), GeneratorURL: a.URL, Fingerprint: a.Fingerprint,
		}
		out.Alerts = append(out.Alerts, wa)
		labels, annotations = append(labels, wa.Labels), append(annotations, wa.Annotations)
	}
	for _, a := range m.Firing {
		add(a, "firing")
	}
	for _, a := range m.Resolved {
		add(a, "resolved")
	}
	out.CommonLabels, out.CommonAnnotations = commonMap(labels), commonMap(annotations)
	return out
}
