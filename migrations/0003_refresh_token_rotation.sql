-- Refresh-token rotation with reuse detection. Each refresh replaces auth_sessions.refresh_token_hash;
-- the hash it replaces is remembered here, so a replayed (already rotated) token is recognised as
-- reuse — a sign the token was stolen — and revokes its whole session instead of merely failing.
CREATE TABLE auth_session_rotated_tokens (
  refresh_token_hash text PRIMARY KEY,
  session_id         uuid NOT NULL REFERENCES auth_sessions (id) ON DELETE CASCADE,
  rotated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_session_rotated_tokens_session_idx ON auth_session_rotated_tokens (session_id);
