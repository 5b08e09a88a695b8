package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/herdhq/herd"
)

// CreateSession implements herd.SessionStore. A zero CreatedAt becomes now.
func (db *DB) CreateSession(ctx context.Context, s herd.Session, idle time.Duration) error {
	now := db.now()
	if s.CreatedAt.IsZero() {
		s.CreatedAt = now
	}
	_, err := db.write.ExecContext(ctx,
		`INSERT INTO sessions (id, user_id, email, views, created_at, expires_at, idle_expires_at)
		VALUES (?1, ?2, ?3, 0, ?4, ?5, min(?6, ?5))`,
		s.ID, s.UserID, s.Email, millis(s.CreatedAt), millis(s.ExpiresAt), millis(now.Add(idle)))
	if isUniqueViolation(err) {
		return &herd.Error{Code: herd.ECONFLICT, Message: "session exists already", Err: err}
	}
	return dbError(err)
}

// TouchSession implements herd.SessionStore. The touch is one UPDATE that
// checks liveness and counts the view together, which is what keeps
// concurrent touches exact.
func (db *DB) TouchSession(ctx context.Context, id string, idle time.Duration) (herd.Session, error) {
	now := db.now()
	s := herd.Session{ID: id}
	var createdAt, expiresAt int64
	err := db.write.QueryRowContext(ctx,
		`UPDATE sessions SET views = views + 1, idle_expires_at = min(?1, expires_at)
		WHERE id = ?2 AND idle_expires_at > ?3 AND expires_at > ?3
		RETURNING user_id, email, views, created_at, expires_at`,
		millis(now.Add(idle)), id, millis(now)).Scan(&s.UserID, &s.Email, &s.Views, &createdAt, &expiresAt)
	if errors.Is(err, sql.ErrNoRows) {
		return herd.Session{}, herd.Errorf(herd.ENOTFOUND, "session not found")
	}
	if err != nil {
		return herd.Session{}, dbError(err)
	}
	s.CreatedAt, s.ExpiresAt = fromMillis(createdAt), fromMillis(expiresAt)
	return s, nil
}

// DeleteSession implements herd.SessionStore.
func (db *DB) DeleteSession(ctx context.Context, id string) error {
	_, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE id = ?`, id)
	return dbError(err)
}
