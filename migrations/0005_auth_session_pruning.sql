-- The auth-session pruning sweep (src/sweeps/AuthSessionPruneSweep.ts) finds ended sessions by
-- when they ended (revoked or expired, whichever came first; LEAST ignores a NULL revoked_at)
-- and old rotated-token rows by age, each in bounded batches, without scanning the tables.
CREATE INDEX auth_sessions_ended_idx ON auth_sessions (LEAST(revoked_at, expires_at));
CREATE INDEX auth_session_rotated_tokens_rotated_at_idx ON auth_session_rotated_tokens (rotated_at);
