-- The person search (passage.search.v1.PersonSearchService) looks people up by blind indexes
-- of new kinds, computed by the application (internal/vault/searchindex.go) at registration
-- and on every correction of a principal's identity, beside the duplicate check's two kinds:
--   name_dob               normalised name (tokens sorted) + full date of birth
--   folded_name_dob        transliteration-folded name + full date of birth
--   folded_name_year_month folded name + year and month of birth
--   folded_name_year       folded name + year of birth
--   name_token_dob         one folded name token + full date of birth (one row per token)
--   phone                  the phone number's last eight digits
-- Like the others they are keyed HMACs: no identifier is stored in clear. People registered
-- before this migration have none until `passage search reindex --mission M --by STAFF` (or a
-- correction of their identity) computes them: that needs the decrypted identity, so it is an
-- application job, not SQL.
-- The table, its row-level security (FORCE) and its grants are unchanged; the primary key
-- (digest, mission, subject_id) serves the search's look-ups by digest.
ALTER TABLE vault.blind_index DROP CONSTRAINT blind_index_kind_check;
ALTER TABLE vault.blind_index ADD CONSTRAINT blind_index_kind_check CHECK (kind IN (
  'document', 'name_dob_nationality',
  'name_dob', 'folded_name_dob', 'folded_name_year_month', 'folded_name_year', 'name_token_dob', 'phone'));
