ALTER TABLE vault.blind_index DROP CONSTRAINT blind_index_pkey;
ALTER TABLE vault.blind_index ADD CONSTRAINT blind_index_pkey PRIMARY KEY (mission, digest, subject_id);
