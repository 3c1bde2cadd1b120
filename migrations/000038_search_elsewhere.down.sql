DROP POLICY search_elsewhere_tells_answering_missions ON audit.record;
DROP POLICY search_elsewhere_reads_matched_cases ON intake."case";
DROP POLICY search_elsewhere_reads_matched_members ON intake.case_member;
DROP POLICY search_elsewhere_reads_declared_digests ON vault.blind_index;
