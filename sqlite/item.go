package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"

	"github.com/herdhq/herd"
)

// PutItem implements herd.ItemStore. The data is stored and returned byte
// for byte.
func (db *DB) PutItem(ctx context.Context, id string, data json.RawMessage) (herd.Item, error) {
	it := herd.Item{ID: id, Data: data}
	var updatedAt int64
	err := db.write.QueryRowContext(ctx,
		`INSERT INTO items (id, data, version, updated_at) VALUES (?, ?, 1, ?)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, version = items.version + 1, updated_at = excluded.updated_at
		RETURNING version, updated_at`,
		id, []byte(data), millis(db.now())).Scan(&it.Version, &updatedAt)
	if err != nil {
		return herd.Item{}, dbError(err)
	}
	it.UpdatedAt = fromMillis(updatedAt)
	return it, nil
}

// Item implements herd.ItemStore.
func (db *DB) Item(ctx context.Context, id string) (herd.Item, error) {
	it := herd.Item{ID: id}
	var (
		data      []byte
		updatedAt int64
	)
	err := db.read.QueryRowContext(ctx, `SELECT data, version, updated_at FROM items WHERE id = ?`, id).
		Scan(&data, &it.Version, &updatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return herd.Item{}, herd.Errorf(herd.ENOTFOUND, "item not found")
	}
	if err != nil {
		return herd.Item{}, dbError(err)
	}
	it.Data, it.UpdatedAt = data, fromMillis(updatedAt)
	return it, nil
}
