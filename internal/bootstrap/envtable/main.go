// Command envtable rewrites the table of environment variables in the README it is given,
// between bootstrap's markers, from bootstrap.EnvVars. `go generate ./internal/bootstrap`
// runs it; a test in internal/bootstrap fails when the README's table is stale.
package main

import (
	"fmt"
	"os"

	"github.com/passage-cm/passage/internal/bootstrap"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: envtable README.md")
		os.Exit(2)
	}
	if err := rewrite(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "envtable:", err)
		os.Exit(1)
	}
}

func rewrite(path string) error {
	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	doc, err := bootstrap.UpdateEnvTable(string(old))
	if err != nil {
		return err
	}
	if doc == string(old) {
		return nil
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}
