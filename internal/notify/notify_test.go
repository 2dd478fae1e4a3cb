package notify_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/syncwatch/syncwatch/internal/notify"
	"github.com/syncwatch/syncwatch/internal/servicetest"
)

var at = time.Date(2025, time.October, 9, 10, 30, 0, 0, time.UTC)

func failingAlert(syncType string) notify.Alert {
	labels := map[string]string{"crm": "hubspot", "sync_type": syncType}
	return notify.Alert{
		Name: "sync_failing", Labels: labels, Fingerprint: notify.Fingerprint("sync_failing", labels),
		Summary: "HubSpot " + syncType + " failed 2 times in a row.", Severity: "critical",
		ErrorType: "rate_limit", ErrorMessage: "HTTP 429 <b>&</b> api_key=***",
		URL: "https://syncwatch.example/m/crm/hubspot/", StartsAt: at.Add(-time.Hour),
	}
}

func message() notify.Message {
	resolved := failingAlert("deals")
	resolved.EndsAt = at
	return notify.Message{Firing: []notify.Alert{failingAlert("contacts")}, Resolved: []notify.Alert{resolved},
		ExternalURL: "https://syncwatch.example/m/", At: at}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestWebhookPostsAlertmanagersWebhookJSON(t *testing.T) {
	t.Parallel()
	r := servicetest.NewReceiver(t)
	hook := notify.NewWebhook(r.URL("/hooks/T000/secret-token"))
	if err := hook.Send(ctx(t), message()); err != nil {
		t.Fatal(err)
	}
	req := r.Next(t)
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" || req.Path != "/hooks/T000/secret-token" {
		t.Fatalf("%s %s %q", req.Method, req.Path, req.Header.Get("Content-Type"))
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"version", "status", "groupKey", "receiver", "groupLabels", "commonLabels",
		"commonAnnotations", "externalURL", "alerts", "truncatedAlerts"} {
		if _, ok := body[key]; !ok {
			t.Errorf("no %q in %s", key, req.Body)
		}
	}
	if body["version"] != "4" || body["status"] != "firing" || body["externalURL"] != "https://syncwatch.example/m/" {
		t.Errorf("version %v status %v externalURL %v", body["version"], body["status"], body["externalURL"])
	}
	want := map[string]any{"alertname": "sync_failing", "crm": "hubspot"}
	if diff := cmp.Diff(want, body["commonLabels"]); diff != "" {
		t.Errorf("commonLabels (-want +got):\n%s", diff)
	}
	alerts := body["alerts"].([]any)
	if len(alerts) != 2 {
		t.Fatalf("%d alerts", len(alerts))
	}
	first, second := alerts[0].(map[string]any), alerts[1].(map[string]any)
	for _, key := range []string{"status", "labels", "annotations", "startsAt", "endsAt", "generatorURL", "fingerprint"} {
		if _, ok := first[key]; !ok {
			t.Errorf("alert without %q: %v", key, first)
		}
	}
	if first["status"] != "firing" || first["endsAt"] != "0001-01-01T00:00:00Z" || first["startsAt"] != "2025-10-09T09:30:00Z" ||
		first["labels"].(map[string]any)["sync_type"] != "contacts" ||
		first["annotations"].(map[string]any)["summary"] != "HubSpot contacts failed 2 times in a row." ||
		first["generatorURL"] != "https://syncwatch.example/m/crm/hubspot/" || len(first["fingerprint"].(string)) != 16 {
		t.Errorf("firing alert: %v", first)
	}
	if second["status"] != "resolved" || second["endsAt"] != "2025-10-09T10:30:00Z" {
		t.Errorf("resolved alert: %v", second)
	}
}

func TestHTTPChannelErrorsSayWhatHappenedWithoutTheSecretURL(t *testing.T) {
	t.Parallel()
	r := servicetest.NewReceiver(t)
	secret := "/services/T000/B000/XXXXsecretXXXX"
	for _, ch := range []notify.Channel{notify.NewWebhook(r.URL(secret)), notify.NewSlack(r.URL(secret), "#alerts")} {
		r.Respond(http.StatusServiceUnavailable)
		err := ch.Send(ctx(t), message())
		if err == nil || !strings.Contains(err.Error(), "503") || strings.Contains(err.Error(), "secret") {
			t.Errorf("%s, 503: %v", ch.Kind(), err)
		}
		r.Stop()
		err = ch.Send(ctx(t), message())
		if err == nil || !(strings.Contains(err.Error(), "refused") || strings.Contains(err.Error(), "closed the connection")) ||
			strings.Contains(err.Error(), "secret") {
			t.Errorf("%s, down: %v", ch.Kind(), err)
		}
		r.Start(t)
		r.Respond(http.StatusOK)
		if strings.Contains(ch.Target(), "secret") || strings.Contains(ch.ID(), "secret") {
			t.Errorf("%s target %q id %q", ch.Kind(), ch.Target(), ch.ID())
		}
	}
	if r.Received() != 0 {
		t.Errorf("%d requests accepted", r.Received())
	}
}

func TestSlackHasATextFallbackAndBlocks(t *testing.T) {
	t.Parallel()
	r := servicetest.NewReceiver(t)
	slack := notify.NewSlack(r.URL("/services/T/B/x"), "#data-alerts")
	m := message()
	for i := range 60 {
		m.Firing = append(m.Firing, failingAlert(fmt.Sprintf("entity%02d", i)))
	}
	m.HeldBack, m.Cap = 3, 10
	if err := slack.Send(ctx(t), m); err != nil {
		t.Fatal(err)
	}
	var body notify.SlackMessage
	var raw map[string]any
	req := r.Next(t)
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(req.Body, &raw)
	if body.Channel != "#data-alerts" || !strings.HasPrefix(body.Text, "[syncwatch] FIRING: 61, RESOLVED: 1") {
		t.Errorf("channel %q text %q", body.Channel, body.Text[:80])
	}
	if len(body.Blocks) > 50 || body.Blocks[0].Type != "header" || len(body.Blocks[0].Text.Text) > 150 {
		t.Fatalf("%d blocks, first %+v", len(body.Blocks), body.Blocks[0])
	}
	var sections []string
	for _, b := range body.Blocks {
		if b.Type == "section" {
			if len(b.Text.Text) > 3000 || b.Text.Type != "mrkdwn" {
				t.Errorf("section %q", b.Text.Text)
			}
			sections = append(sections, b.Text.Text)
		}
	}
	first := sections[0]
	for _, want := range []string{"*sync_failing*", "HubSpot contacts failed 2 times in a row.", "Since 2025-10-09 09:30 UTC",
		"`rate_limit`", "HTTP 429 &lt;b&gt;&amp;&lt;/b&gt; api_key=***", "<https://syncwatch.example/m/crm/hubspot/|Open in syncwatch>"} {
		if !strings.Contains(first, want) {
			t.Errorf("first section lacks %q:\n%s", want, first)
		}
	}
	all, _ := json.Marshal(raw["blocks"])
	for _, want := range []string{"…and 42 more on the page.", "3 messages were held back (at most 10 an hour)", "Open syncwatch"} {
		if !strings.Contains(string(all), want) {
			t.Errorf("blocks lack %q", want)
		}
	}
}

// emailParts reads a received email: its headers and its text and HTML parts.
func emailParts(t *testing.T, raw string) (*mail.Message, string, string) {
	t.Helper()
	msg, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(quotedprintable.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		kind, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		parts[kind] = string(body)
	}
	return msg, parts["text/plain"], parts["text/html"]
}

func TestEmailOverEachKindOfSMTP(t *testing.T) {
	t.Parallel()
	files := servicetest.NewTLSFiles(t)
	cases := []struct {
		name    string
		server  servicetest.SMTPOptions
		useTLS  bool
		useSSL  bool
		login   bool
		wantTLS bool
	}{
		{"plain, no login", servicetest.SMTPOptions{}, false, false, false, false},
		{"STARTTLS with login", servicetest.SMTPOptions{StartTLS: true, TLS: files, User: "alerts", Password: "s3cret"}, true, false, true, true},
		{"TLS from the start with login", servicetest.SMTPOptions{SMTPS: true, TLS: files, User: "alerts", Password: "s3cret"}, false, true, true, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := servicetest.NewSMTP(t, c.server)
			cfg := notify.EmailConfig{Host: "127.0.0.1", Port: srv.Port, UseTLS: c.useTLS, UseSSL: c.useSSL,
				From: "Data team <dw@example.com>", To: []string{"a@example.com", "Ops <b@example.com>"}, TLS: files.Client}
			if c.login {
				cfg.User, cfg.Password = "alerts", "s3cret"
			}
			email, err := notify.NewEmail(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if err := email.Send(ctx(t), message()); err != nil {
				t.Fatal(err)
			}
			got := srv.Next(t)
			if got.TLS != c.wantTLS || (c.login && got.Login != "alerts") || got.From != "dw@example.com" ||
				!slices.Equal(got.To, []string{"a@example.com", "b@example.com"}) {
				t.Errorf("envelope: tls %v login %q from %q to %v", got.TLS, got.Login, got.From, got.To)
			}
			msg, text, html := emailParts(t, got.Raw)
			h := msg.Header
			if h.Get("Subject") != "[syncwatch] FIRING: 1, RESOLVED: 1" || h.Get("From") != `"Data team" <dw@example.com>` ||
				!strings.Contains(h.Get("To"), "b@example.com") || h.Get("Auto-Submitted") != "auto-generated" {
				t.Errorf("headers: %v", h)
			}
			if d, err := h.Date(); err != nil || !d.Equal(at) {
				t.Errorf("Date %q: %v", h.Get("Date"), err)
			}
			if id := h.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@example.com>") {
				t.Errorf("Message-ID %q", id)
			}
			for _, want := range []string{"FIRING", "HubSpot contacts failed 2 times in a row.", "Since 2025-10-09 09:30 UTC",
				"Error rate_limit: HTTP 429 <b>&</b> api_key=***", "RESOLVED", "resolved 2025-10-09 10:30 UTC",
				"https://syncwatch.example/m/crm/hubspot/"} {
				if !strings.Contains(text, want) {
					t.Errorf("text lacks %q:\n%s", want, text)
				}
			}
			if !strings.Contains(html, "HTTP 429 &lt;b&gt;&amp;&lt;/b&gt;") || strings.Contains(html, "<b>&") {
				t.Errorf("HTML does not escape the message:\n%s", html)
			}
		})
	}
}

func TestEmailFailuresAreClearAndCarryNoPassword(t *testing.T) {
	t.Parallel()
	files := servicetest.NewTLSFiles(t)
	srv := servicetest.NewSMTP(t, servicetest.SMTPOptions{StartTLS: true, TLS: files, User: "alerts", Password: "right"})
	base := notify.EmailConfig{Host: "127.0.0.1", Port: srv.Port, From: "dw@example.com", To: []string{"a@example.com"}, TLS: files.Client}
	cases := []struct {
		name string
		edit func(*notify.EmailConfig)
		want string
	}{
		{"wrong password", func(c *notify.EmailConfig) { c.UseTLS, c.User, c.Password = true, "alerts", "wrong-hunter2" }, "535"},
		{"an unknown authority", func(c *notify.EmailConfig) { c.UseTLS, c.TLS = true, nil }, "certificate"},
		{"STARTTLS not used where it is required", func(c *notify.EmailConfig) {}, "STARTTLS"},
	}
	for _, c := range cases {
		cfg := base
		c.edit(&cfg)
		email, err := notify.NewEmail(cfg)
		if err != nil {
			t.Fatal(err)
		}
		began := time.Now()
		err = email.Send(ctx(t), message())
		t.Logf("%s: %v in %v", c.name, err, time.Since(began))
		if err == nil || !strings.Contains(err.Error(), c.want) || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	plain := servicetest.NewSMTP(t, servicetest.SMTPOptions{})
	cfg := base
	cfg.Port, cfg.UseTLS, cfg.TLS = plain.Port, true, files.Client
	email, _ := notify.NewEmail(cfg)
	if err := email.Send(ctx(t), message()); err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") {
		t.Errorf("EMAIL_USE_TLS to a server without STARTTLS: %v", err)
	}
	plain.Fail(t)
	cfg.UseTLS = false
	email, _ = notify.NewEmail(cfg)
	if err := email.Send(ctx(t), message()); err == nil || !strings.Contains(err.Error(), "451") {
		t.Errorf("a server refusing for now: %v", err)
	}
	if srv.Received()+plain.Received() != 0 {
		t.Error("a message arrived")
	}
	for _, bad := range []notify.EmailConfig{
		{Host: "", To: []string{"a@example.com"}},
		{Host: "h", UseTLS: true, UseSSL: true, To: []string{"a@example.com"}},
		{Host: "h", To: []string{"not an address"}},
		{Host: "h", From: "no at sign <", To: []string{"a@example.com"}},
	} {
		if _, err := notify.NewEmail(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestAlertmanagerReceivesThePushAndTheResolution(t *testing.T) {
	t.Parallel()
	hook := servicetest.NewReceiver(t)
	am := servicetest.NewAlertmanager(t, hook.URL("/from-alertmanager"))
	ch := notify.NewAlertmanager(am.URL+"/", time.Minute)
	alert := failingAlert("contacts")
	alert.StartsAt = time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	if err := ch.Send(ctx(t), notify.Message{Firing: []notify.Alert{alert}, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got := webhookFrom(t, hook)
	if got.Status != "firing" || len(got.Alerts) != 1 {
		t.Fatalf("from alertmanager: %+v", got)
	}
	a := got.Alerts[0]
	if a.Labels["alertname"] != "sync_failing" || a.Labels["sync_type"] != "contacts" ||
		a.Annotations["summary"] != alert.Summary || !a.StartsAt.Equal(alert.StartsAt) ||
		a.GeneratorURL != alert.URL || a.Fingerprint != alert.Fingerprint {
		t.Errorf("alert through alertmanager: %+v\nwant fingerprint %s", a, alert.Fingerprint)
	}

	alert.EndsAt = time.Now().UTC()
	if err := ch.Send(ctx(t), notify.Message{Resolved: []notify.Alert{alert}, At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	got = webhookFrom(t, hook)
	if got.Status != "resolved" || len(got.Alerts) != 1 || got.Alerts[0].Status != "resolved" {
		t.Fatalf("resolution from alertmanager: %+v\n%s", got, am.Log())
	}
}

func webhookFrom(t *testing.T, r *servicetest.Receiver) notify.WebhookMessage {
	t.Helper()
	var m notify.WebhookMessage
	if err := json.Unmarshal(r.Next(t).Body, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestHeadlinesAndTheTestAlert(t *testing.T) {
	t.Parallel()
	m := notify.Message{Test: true, Firing: []notify.Alert{notify.TestAlert("https://x/", at)}, At: at}
	if got := m.Subject(); got != "[syncwatch] TEST notification, FIRING: 1 - syncwatch_test test=true" {
		t.Errorf("subject %q", got)
	}
	if got := (notify.Message{Resolved: []notify.Alert{failingAlert("a"), failingAlert("b")}}).Subject(); got != "[syncwatch] RESOLVED: 2" {
		t.Errorf("subject %q", got)
	}
}
