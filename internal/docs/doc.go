// Package docs is about Passage's documentation, README.md and the pages under docs/: its
// tests keep the documents true as the code moves.
//
// Links: every relative link leads to a file that exists and, with a #fragment, to a heading
// there, and every page under docs/ can be reached by links from the README, so that a
// newcomer who reads only the README finds every other document (links_test.go).
//
// Commands: every command the documents show is run or checked, so that they cannot describe
// a command or a flag that does not exist. The package finds the fenced shell blocks (sh,
// bash, shell, console) and the passage commands of inline code, splits their lines as a
// shell would, says what each runs, and runs them in order (Session; cmd/passage's
// TestDocumentedCommands runs them against a server with every service). What a document
// writes, and what the test does with it:
//   - `passage …` or `bin/passage …`: run through the CLI's entry point; it must exit 0,
//     unless its comment begins "fails" or "refused" (`# refused: the version is stale`).
//   - CASE_ID, SUBJECT_ID, CONSENT_ID, REFERRAL_ID, PARTNER_ID, HANDOVER_ID, VERSION: the id
//     (or version) an earlier command printed, to the same caller but for the partner and
//     hand-over ids (Bindings); `ID=...  # the case id it printed` sets $ID to it
//     (Assigned); $(date -u +%F) and $(uuidgen) are today and a random id (Substitutions).
//   - [optional parts], a|b, an ellipsis, or a metavariable such as N or KEY_ID
//     (Metavariables): a synopsis, not run; the command must exist and take the flags shown.
//     So is a passage command in the prose's inline code.
//   - grpcurl: called through the server when the Session has GRPC; its method and request
//     are checked against the contracts in any case (commands_test.go).
//   - make, curl: not run (Unrun says why); the make target, or the gateway's route, verb
//     and body, must exist.
package docs
