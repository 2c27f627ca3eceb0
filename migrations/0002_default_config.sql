-- The defaults of ARCHITECTURE.md section 2. Existing values (set by operators) are kept.
INSERT INTO app_config (key, value, updated_by) VALUES
  ('max_sessions_per_mitra',  '1'::jsonb,     'migration'),
  ('heartbeat_stale_seconds', '60'::jsonb,    'migration'),
  ('session_duration_minutes','30'::jsonb,    'migration'),
  ('extension_minutes',       '15'::jsonb,    'migration'),
  ('max_extensions',          '3'::jsonb,     'migration'),
  ('pairing_timeout_seconds', '60'::jsonb,    'migration'),
  ('payment_required',        'false'::jsonb, 'migration'),
  ('payment_timeout_seconds', '300'::jsonb,   'migration')
ON CONFLICT (key) DO NOTHING;
