// Package browsertest drives Debian's Chromium, headless, for tests of syncwatch's page:
// it starts one browser per test with the flags a closed, sandbox-less test machine needs,
// opens tabs, and collects everything the page says on its console (errors, uncaught
// exceptions, Content-Security-Policy violations), so a test can assert there is none.
//
// A missing Chromium fails the test: a green run must mean the browser tests ran.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// DefaultExecPath is Debian's Chromium. SYNCWATCH_CHROMIUM overrides it.
const DefaultExecPath = "/usr/bin/chromium"

// ExecPath is the Chromium the tests run.
func ExecPath() string {
	if p := os.Getenv("SYNCWATCH_CHROMIUM"); p != "" {
		return p
	}
	return DefaultExecPath
}

// Browser is a running headless Chromium, closed when the test ends.
type Browser struct {
	ctx context.Context
}

// New starts Chromium for t, with a fresh profile in a temporary directory.
func New(t testing.TB) *Browser {
	t.Helper()
	path := ExecPath()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("browsertest: Chromium not found at %s (install Debian's chromium, or set SYNCWATCH_CHROMIUM): %v", path, err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in containers, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		// The test machine's network is closed: without these, Chromium keeps trying to
		// reach Google's services and floods the log with refused connections.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.NoFirstRun,
		// Fixed language and scrollbars, so text, number formats and widths are the same
		// on every machine.
		chromedp.Flag("lang", "en-US"),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.WindowSize(1366, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// chromedp reports CDP events that its protocol version does not know as errors;
	// they say nothing about the page, so only the test log sees them.
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(string, ...any) {}))
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser. It gets no deadline: chromedp ties the browser's
	// life to this context. Its first tab stays open, unused, so that closing a test's
	// tab never closes the browser.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("browsertest: start %s: %v", path, err)
	}
	return &Browser{ctx: ctx}
}

// Tab is a browser tab and what its pages said on the console.
type Tab struct {
	// Ctx runs chromedp actions in this tab.
	Ctx     context.Context
	Console *Console
}

// NewTab opens a tab that listens to its console from the start; it closes when the test
// ends.
func (b *Browser) NewTab(t testing.TB) *Tab {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.ctx)
	t.Cleanup(cancel)
	c := &Console{}
	// Listen opens the tab; it hears every event from then on, before any navigation.
	if err := chromedp.Listen(ctx, c.listen); err != nil {
		t.Fatalf("browsertest: open a tab: %v", err)
	}
	return &Tab{Ctx: ctx, Console: c}
}

// Do runs steps in the tab with a deadline, failing the test on error.
func (tab *Tab) Do(t testing.TB, timeout time.Duration, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, timeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatalf("browser: %v", err)
	}
}

// Eval evaluates a JavaScript expression in the tab and returns its value, decoded from
// JSON into T.
func Eval[T any](t testing.TB, tab *Tab, expr string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, 10*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("browser: evaluate %.80q: %v", expr, err)
	}
	return v
}

// WaitFor polls a JavaScript expression until it is true, failing the test when the
// deadline passes.
func (tab *Tab) WaitFor(t testing.TB, timeout time.Duration, expr string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(tab.Ctx, 5*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("Boolean("+expr+")"))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("browser: %s did not become true within %s (last error: %v)", expr, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Console collects what a tab's pages report as going wrong: console.error and
// console.warn calls, uncaught exceptions, and the browser's own log entries of level
// warning or error, among them Content-Security-Policy violations and failed loads.
type Console struct {
	mu       sync.Mutex
	problems []string
}

func (c *Console) listen(ev any) {
	var msg string
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		switch ev.Type {
		case runtime.ConsoleAPICalledTypeError, runtime.ConsoleAPICalledTypeWarning, runtime.ConsoleAPICalledTypeAssert:
		default:
			return
		}
		var args []string
		for _, a := range ev.Args {
			switch {
			case a.Description != "":
				args = append(args, a.Description)
			case len(a.Value) > 0:
				args = append(args, string(a.Value))
			default:
				args = append(args, string(a.Type))
			}
		}
		msg = fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " "))
	case *runtime.EventExceptionThrown:
		d := ev.ExceptionDetails
		text := d.Text
		if d.Exception != nil && d.Exception.Description != "" {
			text += " " + d.Exception.Description
		}
		msg = fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber+1, text)
	case *log.EventEntryAdded:
		e := ev.Entry
		if e.Level != log.EntryLevelError && e.Level != log.EntryLevelWarning {
			return
		}
		msg = fmt.Sprintf("browser %s (%s): %s %s", e.Level, e.Source, e.Text, e.URL)
	default:
		return
	}
	c.mu.Lock()
	c.problems = append(c.problems, msg)
	c.mu.Unlock()
}

// Problems returns what was collected so far.
func (c *Console) Problems() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.problems...)
}

// Reset forgets what was collected so far.
func (c *Console) Reset() {
	c.mu.Lock()
	c.problems = nil
	c.mu.Unlock()
}

// AssertClean fails the test for every problem collected so far.
func (c *Console) AssertClean(t testing.TB) {
	t.Helper()
	for _, p := range c.Problems() {
		t.Errorf("the page reported: %s", p)
	}
}

// Screenshot saves a PNG of the whole page (not only the viewport) at path.
func (tab *Tab) Screenshot(t testing.TB, path string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab.Ctx, 20*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("save screenshot: %v", err)
	}
}

// ColorScheme emulates the system's colour preference, "light" or "dark", for the
// prefers-color-scheme media query.
func ColorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}
