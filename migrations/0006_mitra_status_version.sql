-- Orders the mirror writes of one mitra. Every committed change of its online or active state
-- bumps this counter under the mitra's row lock, so versions follow commit order; the mirror
-- applies a status write only if its version is not older than the last one it applied, so two
-- writes that reach Valkey out of order still leave it at the last committed state.
ALTER TABLE mitras ADD COLUMN status_version bigint NOT NULL DEFAULT 0;
