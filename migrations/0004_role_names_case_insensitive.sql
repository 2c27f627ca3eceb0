-- Role names are unique however they are cased, like emails: "Super_Admin" beside "super_admin"
-- would pass one role off as another in the control center.
--
-- Existing data keeps working. Where names already collide, one role of each group keeps its
-- name (the bootstrap "super_admin" first, then the oldest) and the others are renamed to
-- "<name, cut to 27 characters>-<the role's id>" (64 characters at most, unique by construction).
-- Users keep their role_id, so nobody's permissions change.
UPDATE roles r
SET name = left(r.name, 27) || '-' || r.id::text
FROM (
  SELECT id, row_number() OVER (PARTITION BY lower(name) ORDER BY (name = 'super_admin') DESC, created_at, id) AS rank
  FROM roles
) ranked
WHERE ranked.id = r.id AND ranked.rank > 1;

CREATE UNIQUE INDEX roles_name_lower_idx ON roles (lower(name));

-- Implied by the index above.
ALTER TABLE roles DROP CONSTRAINT roles_name_key;
