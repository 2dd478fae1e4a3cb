package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"

	"github.com/syncwatch/syncwatch/internal/web"
)

// accessConfig says who may look. By default syncwatch listens on loopback only; any other
// address needs credentials, or a flag whose name says what it does.
type accessConfig struct {
	htpasswdFile   string
	basicAuth      string
	token          string
	tokenFile      string
	insecureNoAuth bool
}

func (c *accessConfig) flags(fs *flag.FlagSet, e *env) {
	fs.StringVar(&c.htpasswdFile, "auth-htpasswd-file", e.getenv("SYNCWATCH_HTPASSWD_FILE"),
		"file of user:bcrypt-hash lines for HTTP basic auth, as htpasswd -B writes (env SYNCWATCH_HTPASSWD_FILE)")
	e.secret(fs, &c.basicAuth, "auth-basic", "SYNCWATCH_BASIC_AUTH",
		"one user:bcrypt-hash for HTTP basic auth (env SYNCWATCH_BASIC_AUTH)")
	e.secret(fs, &c.token, "auth-token", "SYNCWATCH_AUTH_TOKEN",
		"a bearer token (16+ characters); browsers send it as the basic-auth password (env SYNCWATCH_AUTH_TOKEN)")
	fs.StringVar(&c.tokenFile, "auth-token-file", e.getenv("SYNCWATCH_AUTH_TOKEN_FILE"),
		"file holding the bearer token (env SYNCWATCH_AUTH_TOKEN_FILE)")
	fs.BoolVar(&c.insecureNoAuth, "insecure-no-auth", e.boolean("SYNCWATCH_INSECURE_NO_AUTH"),
		"serve a non-loopback address WITHOUT authentication: anyone who reaches the port sees the warehouse's sync data (env SYNCWATCH_INSECURE_NO_AUTH)")
}

// auth builds the credentials checker for addr; nil means no authentication, which is only
// allowed on loopback or when asked for by name.
func (c *accessConfig) auth(addr string) (*web.Auth, error) {
	var lines []string
	if c.htpasswdFile != "" {
		b, err := os.ReadFile(c.htpasswdFile)
		if err != nil {
			return nil, fmt.Errorf("--auth-htpasswd-file: %w", err)
		}
		lines = append(lines, string(b))
	}
	if c.basicAuth != "" {
		lines = append(lines, c.basicAuth)
	}
	token := c.token
	if c.tokenFile != "" {
		if token != "" {
			return nil, errors.New("--auth-token and --auth-token-file: give one, not both")
		}
		b, err := os.ReadFile(c.tokenFile)
		if err != nil {
			return nil, fmt.Errorf("--auth-token-file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if len(lines) == 0 && token == "" {
		if !c.insecureNoAuth && !isLoopback(addr) {
			return nil, fmt.Errorf("refusing to serve %s without authentication: anyone who reaches it "+
				"would see the warehouse's sync data; configure --auth-htpasswd-file, --auth-basic or "+
				"--auth-token, listen on 127.0.0.1, or pass --insecure-no-auth", addr)
		}
		return nil, nil
	}
	var htpasswd io.Reader
	if len(lines) > 0 {
		htpasswd = strings.NewReader(strings.Join(lines, "\n"))
	}
	return web.NewAuth(htpasswd, token)
}

// isLoopback reports whether addr (host:port) can only be reached from this machine.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// boolean reads a true/false variable, false when unset; a bad value is remembered as an
// error.
func (e *env) boolean(key string) bool { return e.booleanOr(key, false) }

// booleanOr reads a true/false variable, def when unset.
func (e *env) booleanOr(key string, def bool) bool {
	v := e.getenv(key)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		e.errs = append(e.errs, fmt.Errorf("%s: %q is not true or false", key, v))
		return def
	}
	return b
}
