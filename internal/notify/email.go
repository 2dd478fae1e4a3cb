package notify

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/syncwatch/syncwatch/internal/errclass"
)

// EmailConfig is the SMTP server and the addresses, under Django's settings names.
type EmailConfig struct {
	Host string // EMAIL_HOST
	Port int    // EMAIL_PORT (Django's default 25)
	// User and Password log in when both are set (EMAIL_HOST_USER, EMAIL_HOST_PASSWORD),
	// as Django does; they are sent only over TLS, or to a server on this machine.
	User, Password string
	// UseTLS upgrades the connection with STARTTLS (EMAIL_USE_TLS); UseSSL speaks TLS
	// from the start (EMAIL_USE_SSL, usually port 465). They exclude each other.
	UseTLS, UseSSL bool
	From           string   // DEFAULT_FROM_EMAIL, "Name <address>" or an address
	To             []string // ALERT_EMAIL_RECIPIENTS
	// TLS configures TLS to the server; nil verifies it with the system's roots under
	// Host's name (tests give their own authority).
	TLS *tls.Config
	// Hostname is the name given in EHLO and Message-IDs (default: this machine's name).
	Hostname string
	// Logger receives what is worth a debug line only; nil logs nothing.
	Logger *slog.Logger
}

// Email sends each message as one email to every recipient.
type Email struct {
	cfg  EmailConfig
	from *mail.Address
	to   []*mail.Address
}

// NewEmail checks cfg and returns the channel.
func NewEmail(cfg EmailConfig) (*Email, error) {
	if cfg.Host == "" {
		return nil, errors.New("EMAIL_HOST is not set")
	}
	if cfg.Port == 0 {
		cfg.Port = 25
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("EMAIL_PORT %d is not a port", cfg.Port)
	}
	if cfg.UseTLS && cfg.UseSSL {
		return nil, errors.New("EMAIL_USE_TLS and EMAIL_USE_SSL exclude each other (STARTTLS or TLS from the start): set one")
	}
	if cfg.From == "" {
		cfg.From = "webmaster@localhost" // Django's default
	}
	from, err := mail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("DEFAULT_FROM_EMAIL %q is not an address", cfg.From)
	}
	if len(cfg.To) == 0 {
		return nil, errors.New("no recipient")
	}
	e := &Email{cfg: cfg, from: from}
	for _, r := range cfg.To {
		a, err := mail.ParseAddress(r)
		if err != nil {
			return nil, fmt.Errorf("recipient %q is not an address", r)
		}
		e.to = append(e.to, a)
	}
	if e.cfg.Logger == nil {
		e.cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if e.cfg.Hostname == "" {
		e.cfg.Hostname, _ = os.Hostname()
		if e.cfg.Hostname == "" {
			e.cfg.Hostname = "localhost"
		}
	}
	return e, nil
}

// Kind is KindEmail.
func (e *Email) Kind() string { return KindEmail }

// ID is "email-" and a digest of the server and the recipients, in any order: another
// server or other recipients are told what fires now, not what the old ones were told.
func (e *Email) ID() string {
	to := make([]string, 0, len(e.to))
	for _, a := range e.to {
		to = append(to, a.Address)
	}
	slices.Sort(to)
	return KindEmail + "-" + digest(e.addr()+"\n"+strings.Join(to, ","))
}

// Target is the server and the number of recipients.
func (e *Email) Target() string {
	mode := "smtp"
	switch {
	case e.cfg.UseSSL:
		mode = "smtps"
	case e.cfg.UseTLS:
		mode = "smtp+starttls"
	}
	n := len(e.to)
	return fmt.Sprintf("%s://%s to %d recipient%s", mode, e.addr(), n, map[bool]string{true: "", false: "s"}[n == 1])
}

// Close does nothing: each message has its own SMTP connection.
func (e *Email) Close() {}

func (e *Email) addr() string { return net.JoinHostPort(e.cfg.Host, strconv.Itoa(e.cfg.Port)) }

// Send delivers m over SMTP.
func (e *Email) Send(ctx context.Context, m Message) error {
	body, err := e.Render(m)
	if err != nil {
		return fmt.Errorf("email: %w", err)
	}
	if err := e.deliver(ctx, body); err != nil {
		return fmt.Errorf("email %s: %s", e.addr(), errclass.Mask(err.Error()))
	}
	return nil
}

func (e *Email) tlsConfig() *tls.Config {
	if e.cfg.TLS != nil {
		c := e.cfg.TLS.Clone()
		if c.ServerName == "" {
			c.ServerName = e.cfg.Host
		}
		return c
	}
	return &tls.Config{ServerName: e.cfg.Host, MinVersion: tls.VersionTLS12}
}

// deliver speaks SMTP: connect (in TLS from the start with UseSSL), EHLO, STARTTLS with
// UseTLS, AUTH when a user and a password are set, then one transaction for every
// recipient.
func (e *Email) deliver(ctx context.Context, body []byte) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", e.addr())
	if err != nil {
		return err
	}
	defer conn.Close()
	// SMTP has no context: a deadline, and closing on cancel, bound every exchange.
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Now()) })
	defer stop()
	if e.cfg.UseSSL {
		tc := tls.Client(conn, e.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, e.cfg.Host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello(e.cfg.Hostname); err != nil {
		return err
	}
	if e.cfg.UseTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the server does not offer STARTTLS (EMAIL_USE_TLS)")
		}
		if err := c.StartTLS(e.tlsConfig()); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	// Django logs in only when both are set: a user without a password (a relay that
	// trusts its network, the user left over) sends without logging in.
	if e.cfg.User != "" && e.cfg.Password != "" {
		ok, mechanisms := c.Extension("AUTH")
		if !ok {
			return errors.New("the server does not offer AUTH, and EMAIL_HOST_USER and EMAIL_HOST_PASSWORD are set")
		}
		var auth smtp.Auth
		if slices.Contains(strings.Fields(strings.ToUpper(mechanisms)), "PLAIN") {
			auth = smtp.PlainAuth("", e.cfg.User, e.cfg.Password, e.cfg.Host)
		} else {
			auth = &loginAuth{user: e.cfg.User, password: e.cfg.Password, host: e.cfg.Host}
		}
		if err := c.Auth(auth); err != nil {
			return fmt.Errorf("login: %w", err)
		}
	}
	if err := c.Mail(e.from.Address); err != nil {
		return err
	}
	for _, to := range e.to {
		if err := c.Rcpt(to.Address); err != nil {
			return fmt.Errorf("recipient %s: %w", to.Address, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// The server has taken the message (250 after DATA): it is sent. A QUIT that fails
	// now (a server that hangs up first) changes nothing, and reporting it would have
	// the message sent again.
	if err := c.Quit(); err != nil {
		e.cfg.Logger.Debug("email: QUIT failed after the server accepted the message; it is sent",
			"server", e.addr(), "err", errclass.Mask(err.Error()))
	}
	return nil
}

// loginAuth is the LOGIN mechanism, for servers that offer it and not PLAIN; like
// smtp.PlainAuth it sends the password only over TLS or to this machine.
type loginAuth struct {
	user, password, host string
	step                 int
}

func (a *loginAuth) Start(server *smtp.ServerInfo) (string, []byte, error) {
	local := server.Name == "localhost" || server.Name == "127.0.0.1" || server.Name == "::1"
	if !server.TLS && !local {
		return "", nil, errors.New("unencrypted connection")
	}
	if server.Name != a.host {
		return "", nil, errors.New("wrong host name")
	}
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(_ []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.password), nil
	}
	return nil, errors.New("unexpected server challenge")
}

// Render writes m as an email: headers (From, To, Subject, Date, Message-ID,
// Auto-Submitted), a text part and an HTML part.
func (e *Email) Render(m Message) ([]byte, error) {
	var buf bytes.Buffer
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, part := range []struct{ kind, text string }{
		{"text/plain", emailText(m)}, {"text/html", emailHTML(m)},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.kind + "; charset=utf-8"},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(part.text)); err != nil {
			return nil, err
		}
		if err := qp.Close(); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	at := m.At
	if at.IsZero() {
		at = time.Now()
	}
	var to []string
	for _, a := range e.to {
		to = append(to, a.String())
	}
	headers := [][2]string{
		{"From", e.from.String()},
		{"To", strings.Join(to, ", ")},
		{"Subject", mime.QEncoding.Encode("utf-8", oneLine(m.Subject()))},
		{"Date", at.Format(time.RFC1123Z)},
		{"Message-ID", e.messageID(at)},
		{"MIME-Version", "1.0"},
		{"Content-Type", "multipart/alternative; boundary=\"" + mw.Boundary() + "\""},
		// RFC 3834: an automatic message, which auto-responders must not answer.
		{"Auto-Submitted", "auto-generated"},
	}
	if m.Test {
		headers = append(headers, [2]string{"X-Syncwatch-Test", "true"})
	}
	for _, h := range headers {
		fmt.Fprintf(&buf, "%s: %s\r\n", h[0], h[1])
	}
	buf.WriteString("\r\n")
	buf.Write(body.Bytes())
	return buf.Bytes(), nil
}

// messageID is a new unique Message-ID under the sender's domain.
func (e *Email) messageID(at time.Time) string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	domain := e.cfg.Hostname
	if i := strings.LastIndex(e.from.Address, "@"); i >= 0 && i+1 < len(e.from.Address) {
		domain = e.from.Address[i+1:]
	}
	return fmt.Sprintf("<%d.%s@%s>", at.Unix(), hex.EncodeToString(b[:]), domain)
}

// oneLine drops line breaks and other control characters, which would forge headers.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// emailText is the plain text body.
func emailText(m Message) string {
	var b strings.Builder
	fmt.Fprintf(&b, "syncwatch: %s\n", m.Headline())
	if m.Test {
		b.WriteString("\nThis is a test notification: the channel works. Nothing is wrong.\n")
	}
	if m.HeldBack > 0 {
		fmt.Fprintf(&b, "\n%s. This message shows what is true now.\n", heldBackNote(m.HeldBack, m.Cap))
	}
	section := func(title string, alerts []Alert, resolved bool) {
		if len(alerts) == 0 {
			return
		}
		fmt.Fprintf(&b, "\n%s\n", title)
		for _, a := range alerts {
			fmt.Fprintf(&b, "\n- %s %s\n  %s\n", a.Name, labelText(a.Labels), a.Summary)
			if resolved {
				fmt.Fprintf(&b, "  Firing since %s, resolved %s.\n", timeText(a.StartsAt), timeText(a.EndsAt))
			} else if !a.StartsAt.IsZero() {
				fmt.Fprintf(&b, "  Since %s%s.\n", timeText(a.StartsAt), map[bool]string{true: " (still firing)"}[a.Reminder])
			}
			if a.ErrorType != "" {
				fmt.Fprintf(&b, "  Error %s: %s\n", a.ErrorType, strings.ReplaceAll(a.ErrorMessage, "\n", "\n    "))
			}
			if a.URL != "" {
				fmt.Fprintf(&b, "  %s\n", a.URL)
			}
		}
	}
	section("FIRING", m.Firing, false)
	section("RESOLVED", m.Resolved, true)
	if m.ExternalURL != "" {
		fmt.Fprintf(&b, "\nsyncwatch: %s\n", m.ExternalURL)
	}
	return b.String()
}

var emailPage = template.Must(template.New("email").Funcs(template.FuncMap{
	"time": timeText, "labels": labelText,
}).Parse(`<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<h2>syncwatch: {{.M.Headline}}</h2>
{{if .M.Test}}<p>This is a test notification: the channel works. Nothing is wrong.</p>{{end}}
{{if .HeldBack}}<p><strong>{{.HeldBack}}.</strong> This message shows what is true now.</p>{{end}}
{{range .Sections}}{{if .Alerts}}<h3>{{.Title}}</h3><ul>{{$resolved := .Resolved}}{{range .Alerts}}
<li><p><strong>{{.Name}}</strong> <code>{{labels .Labels}}</code><br>{{.Summary}}<br>
{{if $resolved}}Firing since {{time .StartsAt}}, resolved {{time .EndsAt}}.{{else}}Since {{time .StartsAt}}{{if .Reminder}} (still firing){{end}}.{{end}}
{{if .ErrorType}}<br>Error <code>{{.ErrorType}}</code>: <pre style="white-space: pre-wrap">{{.ErrorMessage}}</pre>{{end}}
{{if .URL}}<br><a href="{{.URL}}">Open in syncwatch</a>{{end}}</p></li>{{end}}</ul>{{end}}{{end}}
{{if .M.ExternalURL}}<p><a href="{{.M.ExternalURL}}">Open syncwatch</a></p>{{end}}
</body></html>
`))

// emailHTML is the HTML body; every text is escaped by html/template.
func emailHTML(m Message) string {
	type section struct {
		Title    string
		Alerts   []Alert
		Resolved bool
	}
	data := struct {
		M        Message
		HeldBack string
		Sections []section
	}{M: m, Sections: []section{{"FIRING", m.Firing, false}, {"RESOLVED", m.Resolved, true}}}
	if m.HeldBack > 0 {
		data.HeldBack = heldBackNote(m.HeldBack, m.Cap)
	}
	var b strings.Builder
	if err := emailPage.Execute(&b, data); err != nil {
		return "<p>" + template.HTMLEscapeString(emailText(m)) + "</p>"
	}
	return b.String()
}
