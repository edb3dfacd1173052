package load

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Transient reports whether a database error may pass if the same work is
// tried again: a deadlock or serialization failure between parallel
// windows, or the server going away and coming back (a restart, a failover,
// a dropped connection). Everything else (a constraint, a bad value) fails
// the same way again.
func Transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "40001", "40P01", // serialization failure, deadlock
			"57P01", "57P02", "57P03", // admin shutdown, crash shutdown, cannot connect now
			"53300": // too many connections
			return true
		}
		return pgErr.Code[:2] == "08" // connection exception
	}
	var netErr net.Error
	var connectErr *pgconn.ConnectError
	return pgconn.SafeToRetry(err) || errors.As(err, &connectErr) || errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

// TransientFor bounds how long work is retried while the database is away:
// long enough for a restart or a failover, short enough that a database
// that is gone for good fails the run within minutes.
var TransientFor = 2 * time.Minute

// retry runs fn again while it fails with a Transient error, backing off
// from 100ms to 5s, for at most TransientFor. Each try must be whole on its
// own (a transaction, or a read).
func retry(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(TransientFor)
	delay := 100 * time.Millisecond
	for {
		err := fn()
		if err == nil || !Transient(err) || time.Now().Add(delay).After(deadline) {
			return err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		delay = min(2*delay, 5*time.Second)
	}
}
