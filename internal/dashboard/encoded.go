package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
)

// The answers in JSON. Between two refreshes every viewer gets the same figures, so each
// answer is encoded once per computation of its figures and the same bytes are handed to
// every viewer: encoding them again for each request was most of the cost of serving
// from memory.

// StatsJSON is the JSON of Stats.
func (d *Dashboard) StatsJSON(ctx context.Context) ([]byte, error) {
	a, err := d.Stats(ctx)
	return d.answers.encode("stats", a.Meta, a, err)
}

// CRMStatusJSON is the JSON of CRMStatus.
func (d *Dashboard) CRMStatusJSON(ctx context.Context) ([]byte, error) {
	a, err := d.CRMStatus(ctx)
	return d.answers.encode("crm-status", a.Meta, a, err)
}

// RecentSyncsJSON is the JSON of RecentSyncs.
func (d *Dashboard) RecentSyncsJSON(ctx context.Context, q RecentQuery) ([]byte, error) {
	a, err := d.RecentSyncs(ctx, q)
	return d.answers.encode(recentKey(q), a.Meta, a, err)
}

// ChartsJSON is the JSON of Charts.
func (d *Dashboard) ChartsJSON(ctx context.Context, days int) ([]byte, error) {
	a, err := d.Charts(ctx, days)
	return d.answers.encode("charts/"+strconv.Itoa(days), a.Meta, a, err)
}

// ErrorsJSON is the JSON of Errors.
func (d *Dashboard) ErrorsJSON(ctx context.Context, days int) ([]byte, error) {
	a, err := d.Errors(ctx, days)
	return d.answers.encode("errors/"+strconv.Itoa(days), a.Meta, a, err)
}

// encodedAnswers keeps the last encoding of each answer with the meta of its figures.
type encodedAnswers struct {
	mu      sync.Mutex
	entries map[string]encodedAnswer
}

type encodedAnswer struct {
	meta Meta
	body []byte
}

// maxEncoded bounds the encoded answers kept, whatever the parameters asked.
const maxEncoded = 64

// encode returns the JSON of answer, whose figures are those of meta, followed by a
// newline: the bytes encoded for the same key and the same figures before, or new ones.
// The bytes are shared: callers must not modify them.
func (a *encodedAnswers) encode(key string, meta Meta, answer any, err error) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	e, ok := a.entries[key]
	a.mu.Unlock()
	if ok && sameFigures(e.meta, meta) {
		return e.body, nil
	}
	body, err := json.Marshal(answer)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", key, err)
	}
	body = append(body, '\n')
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.entries) >= maxEncoded {
		clear(a.entries) // a viewer walking through parameters; start again
	}
	a.entries[key] = encodedAnswer{meta: meta, body: body}
	return body, nil
}

// sameFigures reports whether two metas describe the same computation, in the same
// freshness: an answer that turned stale is encoded again, to say so.
func sameFigures(a, b Meta) bool {
	return a.Timestamp.Equal(b.Timestamp) && a.Stale == b.Stale &&
		(a.StaleSince == nil) == (b.StaleSince == nil) && (a.StaleSince == nil || a.StaleSince.Equal(*b.StaleSince))
}
