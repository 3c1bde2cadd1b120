-- Blind indexes are looked up by digest. With the mission first in the key, a plan built on
-- stale statistics (a new mission's tables grow from nothing) could scan every index row of
-- the mission and filter the digests afterwards; with the digest first, every plan that uses
-- the key starts from the digests.
ALTER TABLE vault.blind_index DROP CONSTRAINT blind_index_pkey;
ALTER TABLE vault.blind_index ADD CONSTRAINT blind_index_pkey PRIMARY KEY (digest, mission, subject_id);
