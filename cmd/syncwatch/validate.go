package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// validate checks the values of serve's flags that the flag package accepts but syncwatch
// cannot use, with a message that names the flag.
func (c *serveConfig) validate() error {
	if err := checkAddr(c.addr); err != nil {
		return err
	}
	if !strings.HasPrefix(c.basePath, "/") {
		return fmt.Errorf("--base-path: %q must start with a slash, such as /ingestion/monitoring/", c.basePath)
	}
	// A zero --overdue-grace is refused too: a run starts a few seconds after its
	// scheduled time, so every schedule would be overdue for a moment at each run.
	for _, d := range []struct {
		flag  string
		value time.Duration
	}{
		{"--stuck-after", c.stuckAfter},
		{"--overdue-grace", c.overdueGrace},
		{"--statement-timeout", c.statementTimeout},
		{"--health-interval", c.healthInterval},
		{"--health-timeout", c.healthTimeout},
		{"--demo-interval", c.demoInterval},
		{"--shutdown-grace", c.shutdownGrace},
	} {
		if d.value <= 0 {
			return fmt.Errorf("%s: %s must be a positive duration such as 30s or 10m", d.flag, d.value)
		}
	}
	if c.refresh < time.Second {
		return errors.New("--refresh must be at least 1s")
	}
	if c.alerts.enabled {
		// The alerts' settings are checked before anything starts, like the others.
		if _, err := c.alerts.rules(); err != nil {
			return err
		}
		if _, err := c.alerts.channels(nil); err != nil {
			return err
		}
		if c.alerts.lockLease < 300*time.Millisecond {
			return errors.New("--alert-lock-lease must be at least 300ms")
		}
	}
	return nil
}

// checkAddr checks that addr is host:port with a port a server can listen on.
func checkAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr: %q is not host:port, such as 127.0.0.1:8000 or :8000", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("--addr: %q has no port number from 0 to 65535", addr)
	}
	if strings.ContainsAny(host, " /") {
		return fmt.Errorf("--addr: %q is not host:port, such as 127.0.0.1:8000 or :8000", addr)
	}
	return nil
}

// listenError explains a failed listen: a port in use is the usual one.
func listenError(addr string, err error) error {
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("cannot listen on %s: the address is already in use (another syncwatch?); choose another with --addr", addr)
	}
	return fmt.Errorf("cannot listen on %s: %w", addr, err)
}

// servingAddress is an address a person can open for a listener on ln, and a note when
// it listens on every interface (0.0.0.0 and [::] cannot be opened in a browser).
func servingAddress(configured string, ln net.Addr) (hostport, note string) {
	host, _, _ := net.SplitHostPort(configured)
	_, port, _ := net.SplitHostPort(ln.String())
	ip := net.ParseIP(host)
	if host == "" || (ip != nil && ip.IsUnspecified()) {
		return net.JoinHostPort("127.0.0.1", port), "listening on all interfaces, port " + port + "; from other machines use this machine's name or address"
	}
	return net.JoinHostPort(host, port), ""
}
