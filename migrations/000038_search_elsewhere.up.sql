-- "Is this person known in another mission?" (passage.search.v1.PersonSearchService/
-- FindElsewhere): a supervisor of one mission learns which other missions hold a person whose
-- exact identifiers they already have, and each such mission's chain records that it was asked.
--
-- Under mission_isolation (000007) intake's role sees its declared mission's rows only. These
-- policies open, to intake's role alone, exactly what the answer needs, and only in a
-- transaction that declared the look-up with
--   set_config('passage.search_elsewhere', '<hex digest>,<hex digest>,...', true)
-- (internal/database: DeclareSearchElsewhere), transaction-local like every declaration:
--   * vault.blind_index: the rows of the two exact kinds ('document', 'name_dob') whose digest is
--     one of the declared digests. The policy itself is the digest equality: a transaction that
--     declared digests cannot read any other row, so it cannot list a mission's register, and
--     a folded, partial-date or one-name row is never visible, whatever the query asks.
--   * intake.case_member: the members whose subject holds such a visible row, in its mission.
--   * intake."case": the cases of such members (the server reads their mission, programme,
--     status and registration year; it returns no id and no identity).
--   * audit.record: an INSERT, in another mission's chain, of this method's record only, by the
--     declared (asking) mission, about no aggregate, and only into a mission that holds one of the
--     declared digests: the asking mission can tell a mission it was asked, nothing more.
-- Why not a SECURITY DEFINER function: it would need an owner, and no passage role owns
-- anything (internal/stories: TestRowSecurityCoversEveryTable); a declaration keeps intake's
-- role bound by policies that name what they allow, as the outbox consumers' and webhook
-- worker's do. Nothing here lets intake's role read vault.identity of another mission: the
-- answer never needs an identity.
-- Why the exact kinds only: across missions the asker cannot see the identity behind a hit to
-- rule it out, so every loose hit (a folded name with a year of birth, one name token) would
-- tell them that someone like the person is in that mission, and probing with loose criteria
-- would map who is where. An exact document, or the name as recorded with the full date of
-- birth, answers only for the person whose identifiers the asker already holds.
-- The declared digests are decoded into an array once per statement (an initplan), so that the
-- audit policy's look-up is an index condition on blind_index's primary key (digest first)
-- rather than a scan of the answering mission's rows.
CREATE POLICY search_elsewhere_reads_declared_digests ON vault.blind_index FOR SELECT TO passage_intake
  USING (kind IN ('document', 'name_dob')
         AND digest = ANY (ARRAY(SELECT decode(d, 'hex') FROM unnest(string_to_array(nullif(current_setting('passage.search_elsewhere', true), ''), ',')) d)));

CREATE POLICY search_elsewhere_reads_matched_members ON intake.case_member FOR SELECT TO passage_intake
  USING (nullif(current_setting('passage.search_elsewhere', true), '') IS NOT NULL
         AND EXISTS (SELECT FROM vault.blind_index b
                     WHERE b.subject_id = case_member.subject_id AND b.mission = case_member.mission));

CREATE POLICY search_elsewhere_reads_matched_cases ON intake."case" FOR SELECT TO passage_intake
  USING (nullif(current_setting('passage.search_elsewhere', true), '') IS NOT NULL
         AND EXISTS (SELECT FROM intake.case_member m WHERE m.case_id = "case".case_id AND m.mission = "case".mission));

CREATE POLICY search_elsewhere_tells_answering_missions ON audit.record FOR INSERT TO passage_intake
  WITH CHECK (nullif(current_setting('passage.search_elsewhere', true), '') IS NOT NULL
              AND method = '/passage.search.v1.PersonSearchService/FindElsewhere'
              AND aggregate_id IS NULL
              AND caller_mission = nullif(current_setting('passage.mission', true), '')
              AND mission <> caller_mission
              AND EXISTS (SELECT FROM vault.blind_index b
                          WHERE b.digest = ANY (ARRAY(SELECT decode(d, 'hex') FROM unnest(string_to_array(nullif(current_setting('passage.search_elsewhere', true), ''), ',')) d))
                            AND b.mission = record.mission));
