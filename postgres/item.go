package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/herdhq/herd"
)

// PutItem stores data under id in one upsert; the row lock of ON CONFLICT
// DO UPDATE makes N concurrent writes return the versions 1..N, each once.
// The data is kept as bytea, so Item returns exactly these bytes.
func (db *DB) PutItem(ctx context.Context, id string, data json.RawMessage) (herd.Item, error) {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	it := herd.Item{ID: id, Data: append(json.RawMessage{}, data...)}
	err := db.pool.QueryRow(ctx, `
		INSERT INTO items AS i (id, data, version, updated_at) VALUES ($1, $2, 1, now())
		ON CONFLICT (id) DO UPDATE
		SET data = excluded.data, version = i.version + 1, updated_at = excluded.updated_at
		RETURNING version, updated_at`,
		id, []byte(it.Data)).Scan(&it.Version, &it.UpdatedAt)
	if err != nil {
		return herd.Item{}, db.fail("put item", err)
	}
	return it, nil
}

// Item returns ENOTFOUND when id was never written.
func (db *DB) Item(ctx context.Context, id string) (herd.Item, error) {
	ctx, cancel := db.ctx(ctx)
	defer cancel()
	var (
		data      []byte
		version   int64
		updatedAt time.Time
	)
	err := db.pool.QueryRow(ctx, "SELECT data, version, updated_at FROM items WHERE id = $1", id).
		Scan(&data, &version, &updatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return herd.Item{}, herd.Errorf(herd.ENOTFOUND, "item not found")
	}
	if err != nil {
		return herd.Item{}, db.fail("read item", err)
	}
	return herd.Item{ID: id, Data: data, Version: version, UpdatedAt: updatedAt}, nil
}
