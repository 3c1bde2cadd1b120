ALTER TABLE intake."case" DROP COLUMN opened_from_case_id;
