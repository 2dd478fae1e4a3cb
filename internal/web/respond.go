package web

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/syncwatch/syncwatch/internal/dashboard"
	"github.com/syncwatch/syncwatch/internal/syncs"
)

// apiError is the body of every error the API answers:
// {"error": {"code": "…", "message": "…"}}.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// writeJSON encodes v as the contract says every response is encoded.
func writeJSON(w http.ResponseWriter, status int, v any) {
	startJSON(w, status)
	enc := json.NewEncoder(w)
	// The encoder escapes <, > and & by default, so JSON opened as HTML shows no markup.
	_ = enc.Encode(v)
}

// startJSON writes the headers every JSON answer carries, and its status.
func startJSON(w http.ResponseWriter, status int) {
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
}

// writeError answers err as a JSON error. Clients get a public message; the cause goes to
// the log, never to the client.
func writeError(w http.ResponseWriter, r *http.Request, logger *slog.Logger, err error) {
	status, code, msg := http.StatusInternalServerError, "internal", "internal error; the server log has the cause"
	var bad *badParam
	switch {
	case errors.As(err, &bad):
		status, code, msg = http.StatusBadRequest, "bad_request", bad.msg
	case errors.Is(err, dashboard.ErrNotFound):
		status, code, msg = http.StatusNotFound, "not_found", "no such CRM or run"
	case errors.Is(err, dashboard.ErrBusy):
		w.Header().Set("Retry-After", "30")
		status, code, msg = http.StatusServiceUnavailable, "busy",
			"other exports are running; try again in a minute"
	case errors.Is(err, syncs.ErrTooSlow):
		status, code, msg = http.StatusServiceUnavailable, "too_slow",
			"the search took longer than allowed before finding anything; narrow the filters or the time range"
	case errors.Is(err, syncs.ErrNotReady):
		status, code, msg = http.StatusServiceUnavailable, "warehouse_not_ready",
			"the warehouse is not as syncwatch needs it"
		if why, ok := syncs.Reason(err); ok {
			msg += ": " + why
		}
	case errors.Is(err, syncs.ErrUnavailable):
		status, code, msg = http.StatusServiceUnavailable, "unavailable",
			"the sync history database cannot be reached and no earlier figures exist"
		if why, ok := syncs.Reason(err); ok {
			msg += " (" + why + ")"
		}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		// The request's own context ended: the viewer went away (who reads nothing), or
		// the server stopped it at the end of its shutdown's grace.
		status, code, msg = http.StatusServiceUnavailable, "unavailable",
			"syncwatch is shutting down; try again in a moment"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		status, code, msg = http.StatusServiceUnavailable, "unavailable",
			"the figures are still being computed; try again shortly"
	}
	switch {
	case status == http.StatusInternalServerError:
		logger.Error("request failed", "path", r.URL.Path, "status", status, "err", err)
	case status >= 500:
		// The dashboard logged the failed computation once, when it failed; an outage
		// must not add a line for every viewer's request.
		logger.Debug("request failed", "path", r.URL.Path, "status", status, "err", err)
	}
	var body apiError
	body.Error.Code, body.Error.Message = code, msg
	writeJSON(w, status, body)
}
