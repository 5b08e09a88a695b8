-- herd's first schema. Times are timestamptz (microseconds); byte strings
-- that must come back exactly as given (item data, response bodies, keys)
-- are bytea, never jsonb, which would re-format them.

CREATE TABLE users (
	id            text PRIMARY KEY,
	email         text NOT NULL CONSTRAINT users_email_key UNIQUE,
	password_hash text NOT NULL,
	roles         text[], -- NULL for a nil slice, '{}' for an empty one
	created_at    timestamptz NOT NULL
);

CREATE TABLE counters (
	name  text PRIMARY KEY,
	value bigint NOT NULL
);

-- The value each operation id got, so a retried increment returns it
-- instead of incrementing again. Rows older than a day are pruned.
CREATE TABLE counter_ops (
	name       text NOT NULL,
	op_id      text NOT NULL,
	value      bigint NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT counter_ops_pkey PRIMARY KEY (name, op_id)
);
CREATE INDEX counter_ops_created_at ON counter_ops (created_at);

CREATE TABLE items (
	id         text PRIMARY KEY,
	data       bytea NOT NULL,
	version    bigint NOT NULL,
	updated_at timestamptz NOT NULL
);

CREATE TABLE refresh_tokens (
	hash       text PRIMARY KEY,
	family_id  text NOT NULL,
	user_id    text NOT NULL,
	expires_at timestamptz NOT NULL,
	spent_at   timestamptz
);
CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_expires_at ON refresh_tokens (expires_at);

-- A row per revoked login family; its tokens can no longer be spent.
CREATE TABLE refresh_families (
	family_id  text PRIMARY KEY,
	revoked_at timestamptz NOT NULL DEFAULT now()
);

-- Revoked access tokens, kept until the token would have expired anyway.
CREATE TABLE revoked_access_tokens (
	jti       text PRIMARY KEY,
	family_id text NOT NULL,
	until     timestamptz NOT NULL
);
CREATE TABLE revoked_access_families (
	family_id text PRIMARY KEY,
	until     timestamptz NOT NULL
);

-- A claimed key has locked_until set and completed false; a completed one
-- holds the response until expires_at.
CREATE TABLE idempotency_keys (
	key          text PRIMARY KEY,
	fingerprint  text NOT NULL,
	locked_until timestamptz,
	completed    boolean NOT NULL DEFAULT false,
	status       integer,
	content_type text,
	body         bytea,
	expires_at   timestamptz
);

-- At most one row: the key every replica signs with.
CREATE TABLE signing_key (
	singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
	id          text NOT NULL,
	algorithm   text NOT NULL,
	private_pem bytea NOT NULL,
	created_at  timestamptz NOT NULL
);
