package engagesim

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/fnv"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"golang.org/x/time/rate"
)

// rateLimited applies the per-token request rate, as the real API does.
func (s *Server) rateLimited(t *tenant) (time.Duration, bool) {
	if s.cfg.RateLimit <= 0 {
		return 0, false
	}
	s.mu.Lock()
	l := s.limiters[t.id]
	if l == nil {
		l = rate.NewLimiter(rate.Limit(s.cfg.RateLimit), max(1, int(s.cfg.RateLimit)))
		s.limiters[t.id] = l
	}
	s.mu.Unlock()
	r := l.Reserve()
	if d := r.Delay(); d > 0 {
		r.Cancel()
		return d, true
	}
	return 0, false
}

type faultKind int

const (
	noFault faultKind = iota
	fault429
	fault5xx
	faultTruncate
	faultReset
)

// drawFault decides deterministically from the seed, the request and how
// often this same request has just failed, so parallel clients see the same
// faults whatever order their requests arrive in.
func (s *Server) drawFault(r *http.Request, body []byte) faultKind {
	f := s.cfg.Faults
	if f.Rate429+f.Rate5xx+f.RateTruncate+f.RateReset == 0 {
		return noFault
	}
	if len(f.Paths) > 0 && !slices.Contains(f.Paths, strings.TrimPrefix(r.URL.Path, Prefix)) {
		return noFault
	}
	sum := sha256.Sum256(body)
	key := r.Method + " " + r.URL.Path + "?" + r.URL.RawQuery + " " + string(sum[:8]) + " " + r.Header.Get("Authorization")
	s.mu.Lock()
	defer s.mu.Unlock()
	n := s.faulted[key]
	if f.MaxConsecutive > 0 && n >= f.MaxConsecutive {
		delete(s.faulted, key)
		return noFault
	}
	h := fnv.New64a()
	binary.Write(h, binary.LittleEndian, s.cfg.Seed)
	h.Write([]byte(key))
	binary.Write(h, binary.LittleEndian, int64(n))
	u := float64(h.Sum64()>>11) / (1 << 53)
	kind := noFault
	for _, c := range []struct {
		rate float64
		kind faultKind
	}{{f.Rate429, fault429}, {f.Rate5xx, fault5xx}, {f.RateTruncate, faultTruncate}, {f.RateReset, faultReset}} {
		if u < c.rate {
			kind = c.kind
			break
		}
		u -= c.rate
	}
	if kind == noFault {
		delete(s.faulted, key)
	} else {
		s.faulted[key] = n + 1
	}
	return kind
}

// reset closes the connection abruptly, with an RST where the OS allows.
func reset(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	conn.Close()
}
