package herd

import (
	"context"
	"time"
)

// User is a registered account.
type User struct {
	ID           string
	Email        string // lower-cased, unique
	PasswordHash string // a PHC string, e.g. "$argon2id$v=19$m=…"
	Roles        []string
	CreatedAt    time.Time
}

// UserStore keeps accounts.
type UserStore interface {
	// CreateUser stores u, whose ID, Email and PasswordHash are set by the
	// caller. It returns ECONFLICT when the email is taken, atomically: of
	// two concurrent calls with one email exactly one succeeds.
	CreateUser(ctx context.Context, u User) error
	// UserByEmail returns ENOTFOUND when no user has that email.
	UserByEmail(ctx context.Context, email string) (User, error)
	// UserByID returns ENOTFOUND when no user has that id.
	UserByID(ctx context.Context, id string) (User, error)
}
