package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/google/uuid"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/subjectaccess"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/intake/document"
)

// runExport runs `passage export`: the operator's subject access export of one person by
// subject id, for a data protection request (docs/operators/subject-access.md). It prints
// counts and the file's name, never what the file holds.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mission := fs.String("mission", "", "the person's mission (required)")
	subject := fs.String("subject", "", "the person's subject `ID` (required)")
	by := fs.String("by", "", "staff `ID` of who runs the export, for the record (required)")
	request := fs.String("request", "", "the data protection request's `REFERENCE`, e.g. DPR-2026-014: never a name (required)")
	out := fs.String("out", "", "the bundle's `FILE`: created with mode 0600; an existing file is refused (required)")
	dev := fs.Bool("dev", false, "use the cleartext development keys under PASSAGE_DEV_DIR")
	if _, _, err := parseFlags(fs, args); err != nil {
		return err
	}
	id, err := uuid.Parse(*subject)
	if err != nil {
		return errors.New("--subject must be a subject id (a UUID)")
	}
	if *mission == "" || *by == "" || *request == "" || *out == "" {
		return errors.New("--mission, --by, --request and --out are required")
	}
	cfg, err := bootstrap.KeyConfigFromEnv(*dev)
	if err != nil {
		return err
	}
	x, done, err := operatorExporter(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	res, err := x.Export(ctx, subjectaccess.Request{Mission: *mission, Subject: id, By: *by, Reference: *request}, *out)
	if errors.Is(err, intake.ErrUnknownSubject) {
		return fmt.Errorf("subject %s: %w", id, err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "subject %s of %s exported to %s: %d case(s) in %d mission(s), %d note(s), %d document(s); %d entries, %d bytes\n",
		id, *mission, *out, res.Cases, res.Missions, res.Notes, res.Documents, res.Entries, res.Bytes)
	if res.Erased {
		fmt.Fprintln(stdout, "the person was erased: the bundle holds what remains (coded rows, the erasure), no identity, note text or document bytes")
	}
	return nil
}

// operatorExporter opens the vault's keys and, for each source, a small pool with the role of
// the service that keeps its tables, as `passage erase` works with intake's; and the function
// that closes them.
func operatorExporter(ctx context.Context, cfg bootstrap.Config) (*subjectaccess.Exporter, func(), error) {
	pool, keys, err := operatorIntakePool(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	store, err := documentStore(ctx, cfg)
	if err != nil {
		pool.Close()
		return nil, nil, err
	}
	x := &subjectaccess.Exporter{DB: map[subjectaccess.Source]*database.DB{subjectaccess.Intake: database.NewDB(pool)},
		Keys: keys, Documents: store}
	closers := []func(){pool.Close}
	done := func() {
		for _, c := range closers {
			c()
		}
	}
	for _, s := range subjectaccess.Sources() {
		if s == subjectaccess.Intake {
			continue
		}
		p, err := database.Open(ctx, database.PoolConfig{URL: bootstrap.ServiceDatabaseURL(string(s)), AdminURL: cfg.DatabaseURL,
			Role: s.Role(), MaxConns: 2})
		if err != nil {
			done()
			return nil, nil, err
		}
		closers = append(closers, p.Close)
		x.DB[s] = database.NewDB(p)
	}
	return x, done, nil
}

// documentStore is where the server keeps the documents' chunks: the bucket PASSAGE_S3_*
// names when PASSAGE_DOCUMENT_STORE is s3, Postgres otherwise.
func documentStore(ctx context.Context, cfg bootstrap.Config) (document.Store, error) {
	bucket, err := bootstrap.OpenDocumentBucket(ctx, cfg)
	if err != nil || bucket == nil {
		return document.PostgresStore{}, err
	}
	return document.NewObjectStore(bucket), nil
}
