package engage

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// APIError is a non-2xx answer of the Engage API.
type APIError struct {
	Method     string
	Path       string // without query and without the base URL
	Status     int
	RetryAfter time.Duration // from the Retry-After header; 0 when absent
	Message    string        // the "message" of the error body, when there is one
	Body       string        // the first bytes of the body, for diagnosis
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	return msg
}

// IsAuth reports whether err is the API refusing the token (401 or 403). Such an
// error is the same for every request of a tenant, so callers stop the tenant.
func IsAuth(err error) bool {
	var apiErr *APIError
	return errors.As(err, &apiErr) && (apiErr.Status == http.StatusUnauthorized || apiErr.Status == http.StatusForbidden)
}

// Retryable reports whether the same request may succeed when sent again: rate
// limiting, server errors, and transport failures such as resets and bodies cut
// short. Context cancellation is never retryable.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	// A request's own timeout (WithTimeout) is a net.Error that times out;
	// the caller's deadline is not retried (Do checks the caller's context).
	var timeout net.Error
	if errors.As(err, &timeout) && timeout.Timeout() {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		switch apiErr.Status {
		case http.StatusTooManyRequests, http.StatusRequestTimeout,
			http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) ||
		errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &netErr)
}

// errorBody is the API's error document (CONTRACT.md §1).
type errorBody struct {
	Message string `json:"message"`
	Error   string `json:"error"`
}

func newAPIError(method, path string, resp *http.Response) *APIError {
	const keep = 512
	b, _ := io.ReadAll(io.LimitReader(resp.Body, keep))
	e := &APIError{Method: method, Path: path, Status: resp.StatusCode, Body: string(b)}
	var eb errorBody
	if json.Unmarshal(b, &eb) == nil {
		e.Message = eb.Message
	}
	e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// AnswerError is a 2xx answer that could not be read: it says what came
// (status, content type, size, first bytes), since "invalid character '<'"
// alone does not tell an HTML login page from a cut JSON body.
type AnswerError struct {
	Status      int
	ContentType string
	Size        int64  // bytes read
	Head        []byte // the first bytes, at most AnswerHead
	Err         error
}

// AnswerHead bounds the bytes of a failed answer kept for diagnosis.
const AnswerHead = 64 << 10

func (e *AnswerError) Error() string {
	snippet := e.Head
	if len(snippet) > 80 {
		snippet = snippet[:80]
	}
	return fmt.Sprintf("cannot load the answer (status %d, %s, %d bytes, starting %q): %v",
		e.Status, cmp.Or(e.ContentType, "no content type"), e.Size, snippet, e.Err)
}

func (e *AnswerError) Unwrap() error { return e.Err }

// headReader keeps the first AnswerHead bytes of what is read through it.
type headReader struct {
	r    io.Reader
	head []byte
	n    int64
}

func (h *headReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.n += int64(n)
	if room := AnswerHead - len(h.head); room > 0 {
		h.head = append(h.head, p[:min(n, room)]...)
	}
	return n, err
}
