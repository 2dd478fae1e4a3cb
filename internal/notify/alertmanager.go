package notify

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Alertmanager pushes alerts to Alertmanager's API v2 (POST /api/v2/alerts), so that
// teams who route, silence and inhibit with Alertmanager get syncwatch's alerts there.
// Alertmanager expects a firing alert to be pushed again and again, as Prometheus does:
// each push of a firing alert says it ends at Horizon after the push, unless pushed
// again; a resolved alert is pushed with the time it resolved.
type Alertmanager struct {
	// URL is Alertmanager's address, e.g. http://alertmanager:9093 (a path prefix, as
	// with --web.route-prefix, is kept).
	URL string
	// Horizon is how long after a push a firing alert stays firing in Alertmanager
	// without being pushed again: four times the resend interval, as Prometheus does.
	Horizon time.Duration
	Client  *http.Client
}

// NewAlertmanager returns the channel of the Alertmanager at rawURL (which must pass
// CheckURL); resend is how often firing alerts are pushed again.
func NewAlertmanager(rawURL string, resend time.Duration) *Alertmanager {
	return &Alertmanager{URL: rawURL, Horizon: 4 * resend, Client: HTTPClient()}
}

// Kind is KindAlertmanager.
func (a *Alertmanager) Kind() string { return KindAlertmanager }

// ID is "alertmanager-" and a digest of its URL: another Alertmanager is told what
// fires now.
func (a *Alertmanager) ID() string { return KindAlertmanager + "-" + digest(a.URL) }

// Target is Alertmanager's scheme and host.
func (a *Alertmanager) Target() string { return urlTarget(a.URL) }

// Close releases idle connections.
func (a *Alertmanager) Close() { a.Client.CloseIdleConnections() }

// PostableAlert is one alert of Alertmanager's API v2.
type PostableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// AlertmanagerPayload is the body pushed for m at m.At.
func (a *Alertmanager) AlertmanagerPayload(m Message) []PostableAlert {
	out := []PostableAlert{}
	for _, al := range m.Firing {
		out = append(out, PostableAlert{Labels: al.LabelSet(), Annotations: al.Annotations(),
			StartsAt: al.StartsAt.UTC(), EndsAt: m.At.Add(a.Horizon).UTC(), GeneratorURL: al.URL})
	}
	for _, al := range m.Resolved {
		out = append(out, PostableAlert{Labels: al.LabelSet(), Annotations: al.Annotations(),
			StartsAt: al.StartsAt.UTC(), EndsAt: al.EndsAt.UTC(), GeneratorURL: al.URL})
	}
	return out
}

// Send pushes m's alerts. A message with none (a note of messages held back: the cap
// does not apply to Alertmanager) pushes nothing.
func (a *Alertmanager) Send(ctx context.Context, m Message) error {
	body := a.AlertmanagerPayload(m)
	if len(body) == 0 {
		return nil
	}
	return postJSON(ctx, a.Client, a.endpoint(), "alertmanager "+a.Target(), body)
}

func (a *Alertmanager) endpoint() string {
	u, err := url.Parse(a.URL)
	if err != nil {
		return a.URL // postJSON reports it
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/api/v2/alerts"
	return u.String()
}
