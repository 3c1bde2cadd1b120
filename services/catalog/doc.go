// Package catalog lists every Passage service, in start order: what `passage serve` runs, and
// what the exhaustive authorization tests hold against the roles, RPC by RPC, with
// the RPCs enumerated from the generated service descriptors so that none can be forgotten.
package catalog
