package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/herdhq/herd"
)

// CreateUser implements herd.UserStore. A zero CreatedAt becomes now.
func (db *DB) CreateUser(ctx context.Context, u herd.User) error {
	if u.Roles == nil {
		u.Roles = []string{}
	}
	roles, err := json.Marshal(u.Roles)
	if err != nil {
		return err
	}
	if u.CreatedAt.IsZero() {
		u.CreatedAt = db.now()
	}
	_, err = db.write.ExecContext(ctx,
		`INSERT INTO users (id, email, password_hash, roles, created_at) VALUES (?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.PasswordHash, roles, millis(u.CreatedAt))
	if isUniqueViolation(err) {
		return &herd.Error{Code: herd.ECONFLICT, Message: "a user with this email exists already", Err: err}
	}
	return dbError(err)
}

// UserByEmail implements herd.UserStore.
func (db *DB) UserByEmail(ctx context.Context, email string) (herd.User, error) {
	return db.user(ctx, `SELECT id, email, password_hash, roles, created_at FROM users WHERE email = ?`, email)
}

// UserByID implements herd.UserStore.
func (db *DB) UserByID(ctx context.Context, id string) (herd.User, error) {
	return db.user(ctx, `SELECT id, email, password_hash, roles, created_at FROM users WHERE id = ?`, id)
}

func (db *DB) user(ctx context.Context, query string, arg string) (herd.User, error) {
	var (
		u         herd.User
		roles     []byte
		createdAt int64
	)
	err := db.read.QueryRowContext(ctx, query, arg).Scan(&u.ID, &u.Email, &u.PasswordHash, &roles, &createdAt)
	if errors.Is(err, sql.ErrNoRows) {
		return herd.User{}, herd.Errorf(herd.ENOTFOUND, "user not found")
	}
	if err != nil {
		return herd.User{}, dbError(err)
	}
	if err := json.Unmarshal(roles, &u.Roles); err != nil {
		return herd.User{}, err
	}
	u.CreatedAt = fromMillis(createdAt)
	return u, nil
}
