package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/passage-cm/passage/internal/audit"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
)

const auditUsage = `usage: passage audit verify [--mission CODE] [--dev]

Recomputes each mission's audit chain with the audit key and names the first broken link
(mission, position, record id): a record altered, removed or reordered, or a link missing or
forged. Also reports records the chainer has not linked yet. Exits non-zero on any break.

Connects as the auditor: PASSAGE_AUDITOR_DATABASE_URL, or DATABASE_URL with its user replaced.
The key: PASSAGE_AUDIT_KEYSET, encrypted under PASSAGE_KEK_URI (see passage keys init), or
with --dev the development keyset under PASSAGE_DEV_DIR (default .passage).
`

func runAudit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, auditUsage)
		return errUsage
	case isHelp(args[0]):
		fmt.Fprint(stdout, auditUsage)
		return nil
	case args[0] != "verify":
		return &usageError{command: "audit", err: fmt.Errorf("unknown command %q", args[0])}
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), auditUsage) }
	mission := fs.String("mission", "", "verify this mission's chain only (default: every mission)")
	dev := fs.Bool("dev", os.Getenv("PASSAGE_DEV") == "1", "use the development audit key")
	pos, _, err := parseFlags(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 {
		return &usageError{command: "audit verify", err: fmt.Errorf("unexpected argument %q", pos[0])}
	}
	cfg, err := bootstrap.KeyConfigFromEnv(*dev)
	if err != nil {
		return err
	}
	key, err := bootstrap.LoadAuditKey(cfg)
	if err != nil {
		return err
	}
	pool, err := database.Open(ctx, database.PoolConfig{
		URL: os.Getenv("PASSAGE_AUDITOR_DATABASE_URL"), AdminURL: os.Getenv("DATABASE_URL"), Role: audit.Role, MaxConns: 1,
	})
	if err != nil {
		return err
	}
	defer pool.Close()
	chains, err := audit.Verify(ctx, pool, key, *mission)
	if err != nil {
		return err
	}
	return reportChains(stdout, chains)
}

// reportChains prints one line per mission and returns the first break as the error.
func reportChains(w io.Writer, chains []audit.Chain) error {
	var first error
	for _, c := range chains {
		if c.Broken != nil {
			fmt.Fprintf(w, "%s: BROKEN at position %d (record %d): %s; %d links verified before it, %d records not yet chained\n",
				c.Mission, c.Broken.Position, c.Broken.RecordID, c.Broken.Problem, c.Links, c.Unchained)
			if first == nil {
				first = c.Broken
			}
			continue
		}
		fmt.Fprintf(w, "%s: ok, %d links verified, %d records not yet chained, head %s\n",
			c.Mission, c.Links, c.Unchained, hex.EncodeToString(c.Head))
	}
	if len(chains) == 0 {
		fmt.Fprintln(w, "no audit records")
	}
	return first
}
