// Package engage is the HTTP client of the TeamViewer Engage REST API.
//
// A Client sends the token as a Bearer header (never in the URL, where proxies
// would log it), paces itself to a configured number of requests per second,
// and retries what can be retried: 429 (honouring Retry-After), 5xx, resets and
// truncated bodies, with exponential backoff and jitter. Every other failure is
// an *APIError that callers inspect with errors.As, or classify with Retryable.
//
// Do hands the caller's function each answer's body; the function runs
// inside the request's retries, so a body cut short (io.ErrUnexpectedEOF)
// is fetched again like a reset, and it must keep no state. Pages reads a
// paged list or log page by page (Paging), calling back once per page after
// that page's request is done.
//
// The package knows the wire format only: the element types an answer
// decodes into (types.go), with their values checked by internal/decode;
// paths and request bodies come from internal/catalog, and it knows nothing
// about SQL.
package engage
