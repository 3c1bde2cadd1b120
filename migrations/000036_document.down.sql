DROP TABLE intake.document_chunk;
DROP TABLE intake.document;
