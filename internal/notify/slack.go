package notify

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Slack posts to a Slack incoming webhook (SLACK_WEBHOOK_URL): a plain text fallback
// for notifications and old clients, and blocks that say what broke, since when, the
// error type and masked message where there is one, and link to the page.
type Slack struct {
	URL string
	// Channel overrides the webhook's channel (SLACK_ALERT_CHANNEL); only legacy
	// webhooks honour it, newer ones post where they were made for.
	Channel string
	Client  *http.Client
}

// NewSlack returns the channel of one incoming webhook; the URL must pass CheckURL.
func NewSlack(rawURL, channel string) *Slack {
	return &Slack{URL: rawURL, Channel: channel, Client: HTTPClient()}
}

// Kind is KindSlack.
func (s *Slack) Kind() string { return KindSlack }

// ID is "slack-" and a digest of the webhook's URL and channel: another webhook or
// channel is another receiver, told what fires now, not what the old one was told.
func (s *Slack) ID() string { return KindSlack + "-" + digest(s.URL+"\n"+s.Channel) }

// Target is the webhook's host, and the channel when set (the webhook's path is its
// secret).
func (s *Slack) Target() string {
	if s.Channel != "" {
		return urlTarget(s.URL) + " " + s.Channel
	}
	return urlTarget(s.URL)
}

// Close releases idle connections.
func (s *Slack) Close() { s.Client.CloseIdleConnections() }

// Send posts m.
func (s *Slack) Send(ctx context.Context, m Message) error {
	return postJSON(ctx, s.Client, s.URL, "slack "+urlTarget(s.URL), SlackPayload(m, s.Channel))
}

// SlackMessage is an incoming webhook's body.
type SlackMessage struct {
	Text    string       `json:"text"`
	Channel string       `json:"channel,omitempty"`
	Blocks  []SlackBlock `json:"blocks"`
}

// SlackBlock is one of Slack's layout blocks (header, section, context, actions).
type SlackBlock struct {
	Type     string         `json:"type"`
	Text     *SlackText     `json:"text,omitempty"`
	Elements []SlackElement `json:"elements,omitempty"`
}

// SlackText is a text object.
type SlackText struct {
	Type string `json:"type"` // plain_text or mrkdwn
	Text string `json:"text"`
}

// SlackElement is an element of a context block (a text) or of an actions block (a
// button).
type SlackElement struct {
	Type string `json:"type"`
	// Text is a string in a context block, a SlackText in a button.
	Text any    `json:"text,omitempty"`
	URL  string `json:"url,omitempty"`
}

// Slack's limits: 50 blocks a message, 3000 characters a section, 150 a header.
const (
	slackMaxAlerts  = 20
	slackSectionMax = 3000
	slackHeaderMax  = 150
	slackMessageMax = 500 // the part of an error message shown
)

// SlackPayload builds the body of m, for channel when set.
func SlackPayload(m Message, channel string) SlackMessage {
	headline := "syncwatch: " + m.Headline()
	out := SlackMessage{Channel: channel}
	out.Blocks = append(out.Blocks, SlackBlock{Type: "header",
		Text: &SlackText{Type: "plain_text", Text: cutText(headline, slackHeaderMax)}})
	text := []string{"[syncwatch] " + m.Headline()}
	if m.HeldBack > 0 {
		note := "Notifications were held back: " + heldBackNote(m.HeldBack, m.Cap) + ". This message shows what is true now."
		out.Blocks = append(out.Blocks, contextBlock(slackEscape(note)))
	}
	shown := 0
	for i, a := range m.All() {
		resolved := i >= len(m.Firing)
		if resolved {
			text = append(text, "RESOLVED: "+a.Summary)
		} else {
			text = append(text, "FIRING: "+a.Summary)
		}
		if shown == slackMaxAlerts {
			continue
		}
		shown++
		out.Blocks = append(out.Blocks, SlackBlock{Type: "section",
			Text: &SlackText{Type: "mrkdwn", Text: cutText(slackAlert(a, resolved, m.Test), slackSectionMax)}})
	}
	if rest := len(m.Firing) + len(m.Resolved) - shown; rest > 0 {
		out.Blocks = append(out.Blocks, contextBlock(fmt.Sprintf("…and %d more on the page.", rest)))
	}
	if m.ExternalURL != "" {
		out.Blocks = append(out.Blocks, SlackBlock{Type: "actions", Elements: []SlackElement{{
			Type: "button", Text: SlackText{Type: "plain_text", Text: "Open syncwatch"}, URL: m.ExternalURL,
		}}})
		text = append(text, m.ExternalURL)
	}
	out.Text = cutText(strings.Join(text, "\n"), 3000)
	return out
}

// slackAlert is one alert's section, in Slack's mrkdwn.
func slackAlert(a Alert, resolved, test bool) string {
	icon := ":red_circle:"
	switch {
	case test:
		icon = ":test_tube:"
	case resolved:
		icon = ":large_green_circle:"
	case a.Severity == "warning":
		icon = ":large_orange_circle:"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s *%s*", icon, slackEscape(a.Name))
	if l := labelText(a.Labels); l != "" {
		fmt.Fprintf(&b, "  `%s`", slackEscape(l))
	}
	if a.Reminder {
		b.WriteString("  _(still firing)_")
	}
	fmt.Fprintf(&b, "\n%s", slackEscape(a.Summary))
	if resolved {
		fmt.Fprintf(&b, "\nFiring since %s, resolved %s.", timeText(a.StartsAt), timeText(a.EndsAt))
	} else if !a.StartsAt.IsZero() {
		fmt.Fprintf(&b, "\nSince %s.", timeText(a.StartsAt))
	}
	if a.ErrorType != "" {
		fmt.Fprintf(&b, "\nError `%s`", slackEscape(a.ErrorType))
		if a.ErrorMessage != "" {
			fmt.Fprintf(&b, ": %s", slackEscape(cutText(strings.ReplaceAll(a.ErrorMessage, "```", "'''"), slackMessageMax)))
		}
	}
	if a.URL != "" {
		fmt.Fprintf(&b, "\n<%s|Open in syncwatch>", slackEscape(a.URL))
	}
	return b.String()
}

func contextBlock(mrkdwn string) SlackBlock {
	return SlackBlock{Type: "context", Elements: []SlackElement{{Type: "mrkdwn", Text: mrkdwn}}}
}

// slackEscape escapes the three characters Slack's mrkdwn gives a meaning to.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// cutText cuts s to at most max characters, ending with an ellipsis when cut.
func cutText(s string, max int) string {
	if len(s) <= max {
		return s
	}
	r := []rune(s)
	if len(r) <= max {
		return s
	}
	return string(r[:max-1]) + "…"
}
