-- Times are unix milliseconds (UTC), written from Go's clock, never SQLite's.
-- Each table that can expire has an index on its expiry for Prune.

CREATE TABLE users (
	id            TEXT PRIMARY KEY,
	email         TEXT NOT NULL UNIQUE,
	password_hash TEXT NOT NULL,
	roles         TEXT NOT NULL, -- a JSON array of strings
	created_at    INTEGER NOT NULL
);

CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);

-- The value each identified increment returned, so a retry gets it again.
CREATE TABLE counter_ops (
	name       TEXT NOT NULL,
	op_id      TEXT NOT NULL,
	value      INTEGER NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (name, op_id)
);
CREATE INDEX counter_ops_created_at ON counter_ops (created_at);

CREATE TABLE items (
	id         TEXT PRIMARY KEY,
	data       BLOB NOT NULL, -- the JSON exactly as written
	version    INTEGER NOT NULL,
	updated_at INTEGER NOT NULL
);

CREATE TABLE refresh_tokens (
	hash       TEXT PRIMARY KEY,
	family_id  TEXT NOT NULL,
	user_id    TEXT NOT NULL,
	expires_at INTEGER NOT NULL,
	spent_at   INTEGER -- NULL until spent
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- A revoked family stays revoked for tokens created after the revocation
-- too (a rotation racing the reuse that revoked it), so it is a row of its
-- own rather than a flag on the tokens.
CREATE TABLE refresh_family_revocations (
	family_id  TEXT PRIMARY KEY,
	revoked_at INTEGER NOT NULL
);

CREATE TABLE revoked_access_tokens (
	jti       TEXT PRIMARY KEY,
	family_id TEXT NOT NULL,
	until     INTEGER NOT NULL
);
CREATE INDEX revoked_access_tokens_until ON revoked_access_tokens (until);

CREATE TABLE revoked_families (
	family_id TEXT PRIMARY KEY,
	until     INTEGER NOT NULL
);
CREATE INDEX revoked_families_until ON revoked_families (until);

CREATE TABLE sessions (
	id              TEXT PRIMARY KEY,
	user_id         TEXT NOT NULL,
	email           TEXT NOT NULL,
	views           INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	expires_at      INTEGER NOT NULL, -- absolute
	idle_expires_at INTEGER NOT NULL  -- never after expires_at
);
CREATE INDEX sessions_idle_expires_at ON sessions (idle_expires_at);

-- A claim while status is NULL, a completed answer once it is set.
-- expires_at is the claim's lock expiry, then the answer's retention.
CREATE TABLE idempotency_keys (
	key          TEXT PRIMARY KEY,
	fingerprint  TEXT NOT NULL,
	status       INTEGER,
	content_type TEXT,
	body         BLOB,
	expires_at   INTEGER NOT NULL
);
CREATE INDEX idempotency_keys_expires_at ON idempotency_keys (expires_at);

-- One row at most: every replica signs with the key stored first.
CREATE TABLE signing_key (
	singleton   INTEGER PRIMARY KEY CHECK (singleton = 1),
	kid         TEXT NOT NULL,
	algorithm   TEXT NOT NULL,
	private_pem BLOB NOT NULL,
	created_at  INTEGER NOT NULL
);
