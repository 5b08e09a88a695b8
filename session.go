package herd

import (
	"context"
	"time"
)

// Session is a server-side login session, found by an id in a cookie.
type Session struct {
	ID        string
	UserID    string
	Email     string
	Views     int64
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the session, however active it is.
	ExpiresAt time.Time
}

// SessionStore keeps sessions, each alive until the earlier of its absolute
// expiry and its idle deadline, which every touch slides forward.
type SessionStore interface {
	// CreateSession stores s with Views 0; it expires after idle without a
	// touch, or at s.ExpiresAt.
	CreateSession(ctx context.Context, s Session, idle time.Duration) error
	// TouchSession adds one to the session's views, slides its idle
	// deadline to now+idle (never past ExpiresAt) and returns the session
	// after the change, atomically per session: N concurrent touches from
	// any processes raise Views by exactly N. It returns ENOTFOUND for an
	// unknown, deleted or expired session.
	TouchSession(ctx context.Context, id string, idle time.Duration) (Session, error)
	// DeleteSession removes the session; it succeeds for an unknown id.
	DeleteSession(ctx context.Context, id string) error
}
