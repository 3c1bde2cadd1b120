-- The version of intake's case each VoT case was last projected from, as hasm.assistance_case
-- and returns keep theirs: an event older than the row (delivered again after a rewound cursor,
-- or applied late) changes nothing, where before the last event applied stood whatever its
-- version. Rows projected before this migration start at 0, so intake's next event applies.
ALTER TABLE trafficking.victim_case ADD COLUMN intake_version bigint NOT NULL DEFAULT 0;
ALTER TABLE trafficking.victim_case ALTER COLUMN intake_version DROP DEFAULT;
