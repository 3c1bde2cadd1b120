// Package document is the documents service (passage.document.v1.DocumentService): the files
// attached to a case, each about one of its people (scans, photos, certificates, signed
// forms), registered from intake's Spec and run with intake's role, pool and vault keyring.
//
// A file is identity-grade. It is streamed in and out in chunks of at most 256 KiB, and each
// chunk is sealed on its own with the data key of the person the document is about
// (vault.Keyring.SealRecord, bound to the document and the chunk's index), so that memory
// holds one chunk at a time, never the file, and erasing the person (intake's ErasePerson)
// leaves every document about them unreadable; a download then returns the erasure. Its
// SHA-256 is sealed the same way; its name is not kept. The chunks are kept behind Store
// (store.go): in Postgres (PostgresStore, intake.document_chunk, the default, so running
// Passage needs nothing more), or in a bucket of an S3-compatible object store (ObjectStore,
// objects.go, over internal/objectstore) when PASSAGE_DOCUMENT_STORE is s3: one object per
// sealed chunk under MISSION/DOCUMENT-ID/INDEX, so the bucket holds ciphertext under names that
// say nothing of a person or a case. Either way memory holds a few chunks, not the file.
//
// In the bucket, a chunk is put before the upload's transaction commits. An upload that fails
// deletes what it put once the database confirms no document names it; the Sweeper (sweep.go),
// run in intake's background every PASSAGE_DOCUMENT_SWEEP_INTERVAL, deletes what is left by a
// process that died (objects of no document, a day old) and the objects of documents whose
// person was erased. Erasure never waits for the bucket: the person's key is gone, so the
// objects are unreadable at once, and deleting them is extra, retried at every sweep until
// done. In Postgres the chunks of an erased person stay, unreadable, like every sealed row.
//
// An upload is checked as it arrives and stores nothing unless it passes whole: a media type
// of the allow-list (media.go) that the bytes' signature bears out, and a size within the
// limit (WithMaxBytes: PASSAGE_DOCUMENT_MAX_BYTES, 20 MiB by default) and equal to the
// declared one. It runs in one transaction with its audit record, its event (ids and codes)
// and its first result, so a retry with the same request id returns that result and stores
// nothing twice.
//
// Who uploads and reads is intake's to decide (casenote.Cases, services/intake/notes.go): the
// staff who may read the case's identity, for the mission's own case or one handed over to it
// under a profile that allows identity. Uploading needs the caller to work on the case;
// every read (list, metadata, download) states a purpose and is audited in the reading
// transaction. Both need the case's ASSISTANCE consent in force. A document is its uploader's
// mission's (row-level security by that mission): across a hand-over, each mission sees only
// its own staff's documents. Nothing deletes a document: it goes with its person.
package document
