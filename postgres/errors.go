package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"
)

// unavailable reports whether err means the database could not serve the
// call now — it is down, unreachable, restarting, overloaded or too slow —
// rather than that the call itself is wrong. A retry later may succeed.
func unavailable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || pgconn.Timeout(err) {
		return true
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableCode(pgErr.Code)
	}
	if connectionLost(err) {
		return true
	}
	var connectErr *pgconn.ConnectError
	if errors.As(err, &connectErr) {
		return true
	}
	// Any other network failure: refused, unreachable, DNS.
	var netErr net.Error
	return errors.As(err, &netErr)
}

// unavailableCode reports whether a SQLSTATE says the server cannot serve
// now, as opposed to refusing this statement.
func unavailableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"): // connection exception
		return true
	case strings.HasPrefix(code, "53"): // insufficient resources, incl. too_many_connections
		return true
	case strings.HasPrefix(code, "58"): // system error: I/O on the server
		return true
	}
	switch code {
	case "57P01", // admin_shutdown: pg_terminate_backend, smart/fast shutdown
		"57P02", // crash_shutdown
		"57P03", // cannot_connect_now: starting up, recovering
		"57014", // query_canceled: statement_timeout or a cancel request
		"55P03", // lock_not_available: lock_timeout
		"40P01": // deadlock_detected: the other party wins, a retry may succeed
		return true
	}
	return false
}

// connectionLost reports whether err says the connection under a call was
// closed by the server or the network, so the pool's other connections are
// suspect too.
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || pgErr.Code == "57P01" || pgErr.Code == "57P02"
	}
	return errors.Is(err, io.EOF) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) ||
		errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.EPIPE)
}

// isUniqueViolation reports whether err is a unique_violation (23505) of
// the named constraint, or of any constraint when constraint is empty.
func isUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" &&
		(constraint == "" || pgErr.ConstraintName == constraint)
}
