package notify_test

import (
	"bufio"
	"bytes"
	"log/slog"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/notify"
	"github.com/syncwatch/syncwatch/internal/servicetest"
)

// Django logs in only when both EMAIL_HOST_USER and EMAIL_HOST_PASSWORD are set: a user
// alone, to a relay that offers no AUTH, sends without logging in.
func TestEmailLogsInOnlyWithAUserAndAPassword(t *testing.T) {
	t.Parallel()
	srv := servicetest.NewSMTP(t, servicetest.SMTPOptions{})
	email, err := notify.NewEmail(notify.EmailConfig{Host: "127.0.0.1", Port: srv.Port, User: "alerts",
		From: "dw@example.com", To: []string{"a@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := email.Send(ctx(t), message()); err != nil {
		t.Fatalf("a user without a password: %v", err)
	}
	if got := srv.Next(t); got.Login != "" {
		t.Errorf("logged in as %q", got.Login)
	}
}

// quitHangsUp is an SMTP server that accepts one message, then hangs up on QUIT
// without its 221. It returns its port, and a channel closed once the message's final
// "." has been answered 250.
func quitHangsUp(t *testing.T) (int, <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{})
	var wg sync.WaitGroup
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
	})
	wg.Go(func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		tp := textproto.NewConn(conn)
		reply := func(s string) bool { return tp.PrintfLine("%s", s) == nil }
		if !reply("220 test ESMTP") {
			return
		}
		for {
			line, err := tp.ReadLine()
			if err != nil {
				return
			}
			switch verb := strings.ToUpper(strings.Fields(line + " x")[0]); verb {
			case "EHLO", "HELO", "MAIL", "RCPT":
				reply("250 ok")
			case "DATA":
				reply("354 go on")
				if _, err := tp.ReadDotBytes(); err != nil {
					return
				}
				reply("250 queued")
				close(accepted)
			case "QUIT":
				return // hangs up without 221
			default:
				reply("502 no")
			}
		}
	})
	return l.Addr().(*net.TCPAddr).Port, accepted
}

// A QUIT that fails after the server accepted the message is not a failure: reporting
// it would have the message sent again.
func TestEmailAcceptedByTheServerIsSentWhateverQUITSays(t *testing.T) {
	t.Parallel()
	port, accepted := quitHangsUp(t)
	var logs bytes.Buffer
	email, err := notify.NewEmail(notify.EmailConfig{Host: "127.0.0.1", Port: port, From: "dw@example.com",
		To: []string{"a@example.com"}, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	if err := email.Send(ctx(t), message()); err != nil {
		t.Fatalf("accepted, then QUIT failed: %v", err)
	}
	select {
	case <-accepted:
	default:
		t.Fatal("the server never accepted the message")
	}
	if line, _, _ := bufio.NewReader(&logs).ReadLine(); !bytes.Contains(line, []byte("level=DEBUG")) || !bytes.Contains(line, []byte("QUIT")) {
		t.Errorf("log %q, want a debug line about QUIT", line)
	}
}

// A channel's ID names its receiver: changing where it sends makes another channel (told
// what fires now), while the same receiver, written otherwise, keeps its ID.
func TestChannelIDsNameTheirReceivers(t *testing.T) {
	t.Parallel()
	email := func(host string, port int, to ...string) notify.Channel {
		t.Helper()
		e, err := notify.NewEmail(notify.EmailConfig{Host: host, Port: port, To: to})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	const hook = "https://hooks.slack.com/services/T0/B0/x"
	same := [][2]notify.Channel{
		{notify.NewSlack(hook, "#ops"), notify.NewSlack(hook, "#ops")},
		{email("smtp.example", 587, "a@example.com", "Ops <b@example.com>"), email("smtp.example", 587, "b@example.com", "a@example.com")},
		{notify.NewAlertmanager("http://am:9093", time.Minute), notify.NewAlertmanager("http://am:9093", 2*time.Minute)},
	}
	for _, p := range same {
		if p[0].ID() != p[1].ID() {
			t.Errorf("one receiver, two IDs: %s, %s", p[0].ID(), p[1].ID())
		}
	}
	different := []notify.Channel{
		notify.NewSlack(hook, ""), notify.NewSlack(hook, "#ops"), notify.NewSlack(hook+"y", ""),
		email("smtp.example", 587, "a@example.com"), email("smtp.example", 25, "a@example.com"),
		email("smtp2.example", 587, "a@example.com"), email("smtp.example", 587, "a@example.com", "c@example.com"),
		notify.NewAlertmanager("http://am:9093", time.Minute), notify.NewAlertmanager("http://am2:9093", time.Minute),
		notify.NewWebhook("http://am:9093"),
	}
	seen := map[string]bool{}
	for _, ch := range different {
		id := ch.ID()
		if seen[id] || !strings.HasPrefix(id, ch.Kind()+"-") || strings.Contains(id, "example") || strings.Contains(id, "hooks") {
			t.Errorf("%s %s: ID %q repeated, not of its kind, or showing its receiver", ch.Kind(), ch.Target(), id)
		}
		seen[id] = true
	}
}
