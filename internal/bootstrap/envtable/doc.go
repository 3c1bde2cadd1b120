// Command envtable rewrites the table of environment variables in the README it is given,
// between bootstrap's markers, from bootstrap.EnvVars. `go generate ./internal/bootstrap`
// runs it; a test in internal/bootstrap fails when the README's table is stale.
package main
