-- The durable truth (ARCHITECTURE.md section 2). Valkey mirrors parts of it; everything there is
-- derivable from these tables.

CREATE TABLE mitras (
  id                      uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  display_name            text NOT NULL,
  phone                   text NOT NULL UNIQUE CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  password_hash           text NOT NULL,
  is_active               boolean NOT NULL DEFAULT true,
  -- NULL: the global default, app_config.max_sessions_per_mitra
  max_concurrent_sessions integer NULL CHECK (max_concurrent_sessions >= 1),
  created_at              timestamptz NOT NULL DEFAULT now(),
  updated_at              timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  display_name text NULL,
  phone        text NULL,
  is_anonymous boolean NOT NULL DEFAULT true,
  created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE mitra_online_status (
  mitra_id          uuid PRIMARY KEY REFERENCES mitras (id) ON DELETE CASCADE,
  is_online         boolean NOT NULL DEFAULT false,
  last_online_at    timestamptz NULL,
  last_heartbeat_at timestamptz NULL,
  updated_at        timestamptz NOT NULL DEFAULT now()
);
-- The Postgres fallback of every availability read starts from the online mitras.
CREATE INDEX mitra_online_status_online_idx ON mitra_online_status (mitra_id) WHERE is_online;

CREATE TABLE mitra_status_events (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  mitra_id uuid NOT NULL REFERENCES mitras (id) ON DELETE CASCADE,
  event    text NOT NULL CHECK (event IN ('online', 'offline', 'deactivated', 'reactivated')),
  reason   text NOT NULL CHECK (reason IN ('manual', 'heartbeat_stale', 'deactivated', 'admin')),
  actor    text NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mitra_status_events_mitra_idx ON mitra_status_events (mitra_id, at);

CREATE TABLE chat_sessions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  customer_id     uuid NOT NULL REFERENCES customers (id),
  mitra_id        uuid NULL REFERENCES mitras (id),
  status          text NOT NULL CHECK (status IN (
                    'searching', 'pending_payment', 'active', 'ended', 'expired',
                    'cancelled', 'unmatched', 'rerouted')),
  requested_at    timestamptz NOT NULL DEFAULT now(),
  accepted_at     timestamptz NULL,
  paid_at         timestamptz NULL,
  started_at      timestamptz NULL,
  expires_at      timestamptz NULL,
  ended_at        timestamptz NULL,
  end_reason      text NULL,
  extension_count integer NOT NULL DEFAULT 0 CHECK (extension_count >= 0),
  rerouted_from   uuid NULL REFERENCES chat_sessions (id)
);
-- Capacity counts live sessions per mitra on every transition and in every fallback read.
CREATE INDEX chat_sessions_live_by_mitra_idx ON chat_sessions (mitra_id)
  WHERE status IN ('active', 'pending_payment');
CREATE INDEX chat_sessions_customer_idx ON chat_sessions (customer_id, requested_at);
CREATE INDEX chat_sessions_open_idx ON chat_sessions (status)
  WHERE status IN ('searching', 'pending_payment', 'active');

CREATE TABLE auth_sessions (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  subject_kind       text NOT NULL CHECK (subject_kind IN ('mitra', 'customer', 'cc_user')),
  subject_id         uuid NOT NULL,
  refresh_token_hash text NOT NULL UNIQUE,
  created_at         timestamptz NOT NULL DEFAULT now(),
  expires_at         timestamptz NOT NULL,
  revoked_at         timestamptz NULL,
  revoked_reason     text NULL
);
CREATE INDEX auth_sessions_subject_idx ON auth_sessions (subject_kind, subject_id) WHERE revoked_at IS NULL;

CREATE TABLE app_config (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text NULL
);

CREATE TABLE roles (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  name        text NOT NULL UNIQUE,
  permissions jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE control_center_users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email         text NOT NULL,
  display_name  text NOT NULL,
  role_id       uuid NOT NULL REFERENCES roles (id),
  password_hash text NOT NULL,
  is_active     boolean NOT NULL DEFAULT true,
  created_at    timestamptz NOT NULL DEFAULT now()
);
-- Emails compare case-insensitively: one account per address however it is typed.
CREATE UNIQUE INDEX control_center_users_email_idx ON control_center_users (lower(email));
