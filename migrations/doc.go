// Package migrations holds Passage's one ordered history of SQL migrations for the one
// database, embedded in the binary so `passage migrate up` needs no files beside it.
//
// Each service owns a schema and a role; a migration that adds a service creates both and
// grants the role only what the service needs. Roles are cluster-wide, so migrations create
// them only when missing and never drop them.
package migrations

import "embed"

// FS holds the golang-migrate files (NNNNNN_name.up.sql / .down.sql).
//
//go:embed *.sql
var FS embed.FS
