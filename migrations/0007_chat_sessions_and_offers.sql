-- Chat sessions and the pairing blast (ARCHITECTURE.md section 4).

-- The one timed transition a session waits for, as an instant: the pairing timeout while
-- searching, the payment timeout while pending payment, the end of the session while active.
-- Timers and the due-deadline sweep both act on it (src/sessions/SessionTimers.ts), conditionally.
ALTER TABLE chat_sessions ADD COLUMN deadline_at timestamptz NULL;
CREATE INDEX chat_sessions_deadline_idx ON chat_sessions (deadline_at)
  WHERE status IN ('searching', 'pending_payment', 'active');

-- One open session per customer, enforced where two requests racing cannot both pass.
CREATE UNIQUE INDEX chat_sessions_one_open_per_customer_idx ON chat_sessions (customer_id)
  WHERE status IN ('searching', 'pending_payment', 'active');

-- A rerouted session's successor names it; the reverse link is read through this index.
CREATE INDEX chat_sessions_rerouted_from_idx ON chat_sessions (rerouted_from) WHERE rerouted_from IS NOT NULL;

-- Lists: a mitra's sessions newest first, and the control center's filters.
CREATE INDEX chat_sessions_mitra_requested_idx ON chat_sessions (mitra_id, requested_at) WHERE mitra_id IS NOT NULL;
CREATE INDEX chat_sessions_requested_idx ON chat_sessions (requested_at);

-- One offer per (session, mitra): a mitra that declined is never offered the session again.
CREATE TABLE session_offers (
  session_id   uuid NOT NULL REFERENCES chat_sessions (id) ON DELETE CASCADE,
  mitra_id     uuid NOT NULL REFERENCES mitras (id) ON DELETE CASCADE,
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'accepted', 'declined', 'expired', 'withdrawn')),
  offered_at   timestamptz NOT NULL DEFAULT now(),
  responded_at timestamptz NULL,
  reason       text NULL CHECK (reason IN ('taken', 'cancelled', 'mitra_unavailable', 'no_mitra_accepted', 'session_closed')),
  PRIMARY KEY (session_id, mitra_id)
);
-- A mitra's open offers (its catch-up read, and withdrawing them when it leaves).
CREATE INDEX session_offers_open_by_mitra_idx ON session_offers (mitra_id, offered_at) WHERE status = 'open';

-- The catalog gained sessions:read; roles that held the whole catalog before (super-admins)
-- keep holding all of it.
UPDATE roles SET permissions = permissions || '{"sessions": ["read"]}'::jsonb
WHERE permissions @> '{"mitra": ["create", "read", "update", "delete"], "config": ["read", "update"],
                       "roles": ["create", "read", "update", "delete"],
                       "control_center_users": ["create", "read", "update", "delete"]}'::jsonb
  AND NOT permissions ? 'sessions';

-- A mitra's audit history, newest first, paged by event id (GET /internal/mitras/{id}/status-events).
CREATE INDEX mitra_status_events_mitra_id_idx ON mitra_status_events (mitra_id, id DESC);
