package web_test

import (
	"context"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestJavaScriptUnits runs the unit tests of the page's pure modules (jstest/*.test.js)
// with Node's built-in test runner, so `go test ./...` covers them. Node is required, as
// Chromium is for the browser tests: scripts/test.sh installs Debian's nodejs. A
// JavaScript test that fails, is skipped or is left to do fails this test.
func TestJavaScriptUnits(t *testing.T) {
	t.Parallel()
	needsServices(t) // Node takes most of a second to start; -short is the Go tier only
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatalf("node not found: install Node.js (Debian: apt-get install nodejs; scripts/test.sh does): %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=tap", "jstest/")
	// The modules format for the viewer's locale and zone; the tests expect these
	// (jstest/env.js checks them).
	cmd.Env = append(os.Environ(), "LC_ALL=en_US.UTF-8", "LANG=en_US.UTF-8", "TZ=UTC", "NODE_OPTIONS=", "NO_COLOR=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test jstest/: %v\n%s", err, out)
	}
	count := func(what string) int {
		m := regexp.MustCompile(`(?m)^# ` + what + ` (\d+)$`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("node --test printed no %q count:\n%s", what, out)
		}
		n, _ := strconv.Atoi(string(m[1]))
		return n
	}
	if pass, fail, skipped, todo := count("pass"), count("fail"), count("skipped"), count("todo"); pass < 40 || fail+skipped+todo > 0 {
		t.Errorf("node --test: %d passed, %d failed, %d skipped, %d to do; want every test of jstest/ run and passed\n%s",
			pass, fail, skipped, todo, out)
	}
}
