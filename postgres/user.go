package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herdhq/herd"
)

// CreateUser stores u. A zero CreatedAt is set to the database's clock. The
// unique constraint on email makes it atomic: of concurrent calls with one
// email, the others fail with ECONFLICT.
func (db *DB) CreateUser(ctx context.Context, u herd.User) error {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	_, err := db.pool.Exec(ctx, `
		INSERT INTO users (id, email, password_hash, roles, created_at)
		VALUES ($1, $2, $3, $4, coalesce($5, now()))`,
		u.ID, u.Email, u.PasswordHash, u.Roles, nullTime(u.CreatedAt))
	switch {
	case isUniqueViolation(err, "users_email_key"):
		return herd.Errorf(herd.ECONFLICT, "a user with this email exists already")
	case isUniqueViolation(err, "users_pkey"):
		return herd.Errorf(herd.ECONFLICT, "a user with this id exists already")
	}
	return db.fail("create user", err)
}

// UserByEmail returns ENOTFOUND when no user has that email.
func (db *DB) UserByEmail(ctx context.Context, email string) (herd.User, error) {
	return db.user(ctx, "email", email)
}

// UserByID returns ENOTFOUND when no user has that id.
func (db *DB) UserByID(ctx context.Context, id string) (herd.User, error) {
	return db.user(ctx, "id", id)
}

// user finds the user whose column (a constant, never input) equals value.
func (db *DB) user(ctx context.Context, column, value string) (herd.User, error) {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	var u herd.User
	err := db.pool.QueryRow(ctx, `
		SELECT id, email, password_hash, roles, created_at
		FROM users WHERE `+column+` = $1`, value).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &u.Roles, &u.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return herd.User{}, herd.Errorf(herd.ENOTFOUND, "user not found")
	}
	if err != nil {
		return herd.User{}, db.fail("read user", err)
	}
	return u, nil
}

// nullTime is NULL for the zero time, so that SQL can default it.
func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}
