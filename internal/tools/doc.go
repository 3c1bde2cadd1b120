// Package tools pins the code generators and linters the Makefile runs with `go tool`.
// It is its own module, outside the workspace, so that partners who import the contracts
// and the server's own dependency graph never see buf and its dependencies.
package tools
