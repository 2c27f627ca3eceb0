-- The event streams' catch-up (docs/events.md): a client reconnecting with Last-Event-ID is sent
-- what changed since. Sessions carry the time of their last change; a trigger keeps it, so no
-- statement can forget to.
ALTER TABLE chat_sessions ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
UPDATE chat_sessions SET updated_at = COALESCE(ended_at, started_at, accepted_at, requested_at);

CREATE FUNCTION chat_sessions_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END
$$;
CREATE TRIGGER chat_sessions_touch BEFORE UPDATE ON chat_sessions
  FOR EACH ROW EXECUTE FUNCTION chat_sessions_touch();

-- A mitra's sessions changed since a time, and its offers closed since a time.
CREATE INDEX chat_sessions_mitra_updated_idx ON chat_sessions (mitra_id, updated_at) WHERE mitra_id IS NOT NULL;
CREATE INDEX session_offers_closed_by_mitra_idx ON session_offers (mitra_id, responded_at)
  WHERE status IN ('withdrawn', 'expired');
