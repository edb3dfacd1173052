// Package engage is the HTTP client of the TeamViewer Engage REST API.
//
// A Client sends the token as a Bearer header (never in the URL, where proxies
// would log it), paces itself to a configured number of requests per second,
// and retries what can be retried: 429 (honouring Retry-After), 5xx, resets and
// truncated bodies, with exponential backoff and jitter. Every other failure is
// an *APIError that callers inspect with errors.As, or classify with Retryable.
//
// Responses are decoded by the caller's function while they stream in, so a
// truncated body is noticed (io.ErrUnexpectedEOF) and retried like a reset.
//
// The package knows the wire format only; paths and request bodies come from
// internal/catalog, and it knows nothing about SQL.
package engage
