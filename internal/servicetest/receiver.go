package servicetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Receiver is a local HTTP server that records every request, to play a webhook's
// receiver in tests. It can be stopped and started again on the same port, to play a
// receiver that is down (connections refused), and told to answer with an error status.
type Receiver struct {
	Port     int
	status   atomic.Int32
	requests chan Request

	mu  sync.Mutex
	srv *http.Server
	wg  sync.WaitGroup
}

// Request is one request a Receiver got.
type Request struct {
	Method, Path string
	Header       http.Header
	Body         []byte
}

// NewReceiver starts a receiver for one test, answering 200, and stops it at the end.
func NewReceiver(t testing.TB) *Receiver {
	t.Helper()
	port, err := FreePort()
	if err != nil {
		t.Fatal(err)
	}
	r := &Receiver{Port: port, requests: make(chan Request, 1000)}
	r.status.Store(http.StatusOK)
	r.Start(t)
	t.Cleanup(r.Stop)
	return r
}

// URL is the receiver's address with path.
func (r *Receiver) URL(path string) string {
	return "http://127.0.0.1:" + strconv.Itoa(r.Port) + path
}

// Start listens again after Stop.
func (r *Receiver) Start(t testing.TB) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		return
	}
	var ln net.Listener
	var err error
	// The port was ours a moment ago; a connection of the previous life may hold it
	// briefly.
	for deadline := time.Now().Add(10 * time.Second); ; {
		ln, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(r.Port))
		if err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("receiver: listen on %d: %v", r.Port, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 5 * time.Second}
	r.srv = srv
	r.wg.Go(func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(fmt.Sprintf("receiver: %v", err))
		}
	})
}

// Stop closes the listener and every connection: the receiver is down.
func (r *Receiver) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil {
		return
	}
	_ = r.srv.Close()
	r.wg.Wait()
	r.srv = nil
}

// Respond sets the status of the answers to come (200 by default).
func (r *Receiver) Respond(status int) { r.status.Store(int32(status)) }

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	status := int(r.status.Load())
	if status/100 == 2 {
		// Only what was accepted was received.
		r.requests <- Request{Method: req.Method, Path: req.URL.Path, Header: req.Header.Clone(), Body: body}
	}
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "status %d\n", status)
}

// Next waits for the next request accepted, at most 30 s.
func (r *Receiver) Next(t testing.TB) Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	select {
	case req := <-r.requests:
		return req
	case <-ctx.Done():
		t.Fatalf("receiver %d: no request within 30 s", r.Port)
		return Request{}
	}
}

// Received counts the requests accepted and not yet read with Next.
func (r *Receiver) Received() int { return len(r.requests) }
