// Command envtable rewrites the table of environment variables in the markdown file it is
// given (docs/operators.md), between bootstrap's markers, from bootstrap.EnvVars.
// `go generate ./internal/bootstrap` runs it; a test in internal/bootstrap fails when the
// table is stale.
package main
