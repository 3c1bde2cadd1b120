package main

import (
	"io"
	"maps"
	"path/filepath"
	"slices"
	"testing"

	"github.com/passage-cm/passage/internal/docs"
	"github.com/passage-cm/passage/internal/testserver"
)

// notRun are the documented passage commands the test checks as synopses (the command
// exists and takes the flags shown) instead of running them, and why.
var notRun = []docs.NotRun{
	{Args: []string{"serve"}, Reason: "the test's server is the one it would start"},
	{Args: []string{"demo", "seed"}, Unless: []string{"--plan"}, Reason: "loads thousands of persons, minutes under -race; internal/demo's TestLoadThroughTheServices runs the seed"},
	{Args: []string{"keys"}, Unless: []string{"--dev"}, Reason: "the production keysets, under a KMS (PASSAGE_KEK_URI); TestKeysCommands runs them with --dev"},
	{Args: []string{"retention", "run"}, Unless: []string{"--dev"}, Reason: "erases under the production keysets, under a KMS (PASSAGE_KEK_URI); TestKeysCommands runs retention with --dev"},
	{Args: []string{"audit", "verify"}, Unless: []string{"--dev"}, Reason: "the production audit keyset, under a KMS (PASSAGE_AUDIT_KEYSET)"},
}

// knownFailures are commands the docs show wrongly today, by their text, with what is wrong
// and the right command. Temporary: each goes when its doc is mended.
var knownFailures = map[string]string{}

// TestDocumentedCommands runs every passage command that README.md and docs/ show, block by
// block in document order, through the CLI's entry point against a server running every
// service as `passage serve` does; grpcurl calls are made through the same server. The ids
// the docs write as placeholders (CASE_ID, …) are read from what the earlier commands
// printed (docs.Bindings). A command that fails fails the test with its file and line.
func TestDocumentedCommands(t *testing.T) {
	env := testserver.Start(t, testserver.Options{Services: services(), TCP: true})
	fixed := map[string]string{"PASSAGE_ADDR": env.Addr, "PASSAGE_DEV_DIR": filepath.Dir(env.KeyFiles.KEK.Path), "DATABASE_URL": env.AdminURL}
	for name, value := range fixed {
		t.Setenv(name, value)
	}
	for _, name := range []string{"PASSAGE_TOKEN", "PASSAGE_KEK_URI", "PASSAGE_AUDIT_KEYSET"} {
		t.Setenv(name, "")
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	t.Chdir(t.TempDir()) // where the commands write their files (--out returns.csv)
	blocks, err := docs.Read(root)
	if err != nil {
		t.Fatal(err)
	}
	s := &docs.Session{
		Passage: func(args []string, stdout, stderr io.Writer) int { return run(t.Context(), args, stdout, stderr) },
		Setenv:  t.Setenv,
		GRPC:    docs.Invoker(env.Conn),
		Fixed:   slices.Collect(maps.Keys(fixed)),
		NotRun:  notRun, KnownFailures: knownFailures,
	}
	s.Run(t, blocks)
	inline, err := docs.Inline(root)
	if err != nil {
		t.Fatal(err)
	}
	s.Check(t, inline)
	s.Done(t)
}
