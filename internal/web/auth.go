package web

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// Auth guards the page and the API. Two kinds of credentials are accepted, alone or
// together:
//
//   - HTTP basic auth against bcrypt hashes (htpasswd's "user:$2y$…" lines);
//   - a bearer token, sent as "Authorization: Bearer <token>" by scripts and proxies, or
//     as the password of basic auth (with any user name) by a browser, which cannot send
//     a bearer header when it opens a page.
//
// /healthz and /readyz stay open for orchestrators; they tell nothing about the syncs.
type Auth struct {
	users map[string][]byte // user → bcrypt hash
	token []byte            // sha256 of the token; nil: no token

	// bcrypt costs tens of milliseconds by design; a page refresh sends several
	// requests, so a verified user:password pair is remembered (by its hash) for a while.
	mu       sync.Mutex
	verified map[[32]byte]time.Time
	now      func() time.Time

	// dummy is a bcrypt hash compared against for unknown users, so that response times
	// do not tell which user names exist.
	dummy []byte
	// bcrypts admits one bcrypt comparison at a time: each costs tens of milliseconds of
	// CPU, and wrong passwords are not remembered, so a stream of them must not take
	// every core (verified passwords are remembered and skip the queue).
	bcrypts chan struct{}
}

// verifiedFor is how long a verified basic-auth pair is remembered.
const verifiedFor = 5 * time.Minute

// maxVerified bounds the memory of verified pairs.
const maxVerified = 1024

// NewAuth builds an Auth from htpasswd-style lines (user:bcrypt-hash, one per line, #
// comments allowed) and a bearer token; either may be empty, not both.
func NewAuth(htpasswd io.Reader, token string) (*Auth, error) {
	a := &Auth{users: make(map[string][]byte), verified: make(map[[32]byte]time.Time), now: time.Now,
		bcrypts: make(chan struct{}, 1)}
	if htpasswd != nil {
		sc := bufio.NewScanner(htpasswd)
		line := 0
		for sc.Scan() {
			line++
			text := strings.TrimSpace(sc.Text())
			if text == "" || strings.HasPrefix(text, "#") {
				continue
			}
			user, hash, ok := strings.Cut(text, ":")
			if !ok || user == "" {
				return nil, fmt.Errorf("auth: line %d: want user:bcrypt-hash", line)
			}
			if _, err := bcrypt.Cost([]byte(hash)); err != nil {
				return nil, fmt.Errorf("auth: line %d: the hash of %q is not a bcrypt hash (make one with: htpasswd -nB %s)", line, user, user)
			}
			a.users[user] = []byte(hash)
		}
		if err := sc.Err(); err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
	}
	if token != "" {
		if len(token) < 16 {
			return nil, errors.New("auth: the token must be at least 16 characters")
		}
		sum := sha256.Sum256([]byte(token))
		a.token = sum[:]
	}
	if len(a.users) == 0 && a.token == nil {
		return nil, errors.New("auth: no user and no token given")
	}
	// The dummy costs what the users' own hashes cost, so that an unknown user takes as
	// long as a wrong password. A token alone needs none: it is compared in constant time.
	cost := 0
	for _, hash := range a.users {
		c, _ := bcrypt.Cost(hash) // checked above
		cost = max(cost, c)
	}
	if cost > 0 {
		var random [16]byte
		_, _ = rand.Read(random[:])
		dummy, err := bcrypt.GenerateFromPassword(random[:], cost)
		if err != nil {
			return nil, fmt.Errorf("auth: %w", err)
		}
		a.dummy = dummy
	}
	return a, nil
}

// allowed reports whether the request carries valid credentials.
func (a *Auth) allowed(r *http.Request) bool {
	header := r.Header.Get("Authorization")
	if scheme, value, ok := strings.Cut(header, " "); ok && strings.EqualFold(scheme, "Bearer") {
		return a.tokenMatches(strings.TrimSpace(value))
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	if a.tokenMatches(pass) {
		return true
	}
	hash, known := a.users[user]
	if !known {
		_ = a.compare(r, a.dummy, pass)
		return false
	}
	key := sha256.Sum256([]byte(user + "\x00" + pass + "\x00" + string(hash)))
	a.mu.Lock()
	until, seen := a.verified[key]
	a.mu.Unlock()
	if seen && a.now().Before(until) {
		return true
	}
	if !a.compare(r, hash, pass) {
		return false
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.verified) >= maxVerified {
		clear(a.verified)
	}
	a.verified[key] = a.now().Add(verifiedFor)
	return true
}

// compare checks a password against a bcrypt hash, one comparison at a time; a request
// that gives up waiting is refused.
func (a *Auth) compare(r *http.Request, hash []byte, pass string) bool {
	select {
	case a.bcrypts <- struct{}{}:
		defer func() { <-a.bcrypts }()
	case <-r.Context().Done():
		return false
	}
	return bcrypt.CompareHashAndPassword(hash, []byte(pass)) == nil
}

func (a *Auth) tokenMatches(candidate string) bool {
	if a.token == nil || candidate == "" {
		return false
	}
	sum := sha256.Sum256([]byte(candidate))
	return subtle.ConstantTimeCompare(sum[:], a.token) == 1
}

// require wraps h so that it answers 401 without valid credentials.
func (a *Auth) require(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.allowed(r) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Basic realm="syncwatch", charset="UTF-8"`)
		var body apiError
		body.Error.Code, body.Error.Message = "unauthorized", "credentials are required"
		if r.Header.Get("Authorization") != "" {
			// Never which part was wrong: the user, the password or the token.
			body.Error.Message = "invalid credentials"
		}
		writeJSON(w, http.StatusUnauthorized, body)
	})
}
