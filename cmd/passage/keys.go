package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"

	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/retention"
	"github.com/passage-cm/passage/internal/vault"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	"github.com/passage-cm/passage/services/intake"
)

const keysUsage = `usage: passage keys <command> [--dev]

The vault's key-encryption key (KEK) wraps every person's data key. Rotating it and retiring
the old key is what makes an erasure reach backups: see docs/operators.md, "Keys and erasure".

commands:
  init                 create the KEK and blind-index keysets, encrypted under PASSAGE_KEK_URI
  status               the KEK's keys, which is primary, and how many people each one wraps
  rotate               add a new primary KEK key; running servers pick it up within
                       PASSAGE_KEK_RELOAD (default 1m) or at once on SIGHUP
  rewrap [--batch N]   move every data key to the primary KEK key, in batches, online
  retire KEY_ID        destroy a KEK key; refused while any person's data key uses it

They read DATABASE_URL (the owner's connection) and the keysets: PASSAGE_KEK_KEYSET and
PASSAGE_BLIND_INDEX_KEYSET encrypted under PASSAGE_KEK_URI, or with --dev the cleartext
development keys under PASSAGE_DEV_DIR (default .passage).
`

// runKeys runs `passage keys <command>`, the operator's key management.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	if isHelp(cmd) {
		fmt.Fprint(stdout, keysUsage)
		return nil
	}
	switch cmd {
	case "init", "status", "rotate", "rewrap", "retire":
	default:
		return &usageError{command: "keys", err: fmt.Errorf("unknown command %q", cmd)}
	}
	fs := flag.NewFlagSet("keys "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "use the cleartext development keys under PASSAGE_DEV_DIR")
	batch := fs.Int("batch", 500, "rewrap: rows per transaction")
	pos, _, err := parseFlags(fs, rest)
	if err != nil {
		return err
	}
	cfg, err := bootstrap.KeyConfigFromEnv(*dev)
	if err != nil {
		return err
	}
	files, err := bootstrap.KeyringFiles(cfg)
	if err != nil {
		return err
	}
	if cmd == "init" {
		if err := keysInit(files, stdout); err != nil {
			return err
		}
		return auditKeyInit(cfg, stdout)
	}
	pool, err := database.Open(ctx, database.PoolConfig{URL: cfg.DatabaseURL, MaxConns: 4})
	if err != nil {
		return err
	}
	defer pool.Close()
	switch cmd {
	case "status":
		return keysStatus(ctx, pool, files, stdout)
	case "rotate":
		return keysRotate(files, stdout)
	case "rewrap":
		if *batch < 1 {
			return errors.New("--batch must be at least 1")
		}
		return keysRewrap(ctx, pool, files, *batch, stdout, stderr)
	case "retire":
		if len(pos) != 1 {
			return errors.New("usage: passage keys retire KEY_ID")
		}
		id, err := strconv.ParseUint(pos[0], 10, 32)
		if err != nil {
			return errors.New("KEY_ID must be a key id as `passage keys status` prints it")
		}
		return keysRetire(ctx, pool, files, uint32(id), stdout)
	default:
		return &usageError{command: "keys", err: fmt.Errorf("unknown command %q", cmd)}
	}
}

func keysInit(files vault.KeyringFiles, stdout io.Writer) error {
	if files.KEK.KMS == nil {
		return errors.New("keys init writes keysets encrypted under PASSAGE_KEK_URI; development keys are created by passage serve --dev")
	}
	if _, err := files.KEK.Read(); err == nil {
		return errors.New("the KEK keyset already exists; rotate it instead")
	}
	if _, err := files.BlindIndex.Read(); err == nil {
		return errors.New("the blind-index keyset already exists")
	}
	kek, err := vault.NewKEKKeyset()
	if err != nil {
		return err
	}
	bi, err := vault.NewBlindIndexKeyset()
	if err != nil {
		return err
	}
	if err := files.KEK.Write(kek); err != nil {
		return err
	}
	if err := files.BlindIndex.Write(bi); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "KEK keyset written, primary key %d; blind-index keyset written\n", kek.KeysetInfo().GetPrimaryKeyId())
	return nil
}

// auditKeyInit writes the audit chain's MAC keyset, encrypted under the key manager's key,
// when PASSAGE_AUDIT_KEYSET names a file that does not exist yet.
func auditKeyInit(cfg bootstrap.Config, stdout io.Writer) error {
	if cfg.AuditKeyset == "" {
		fmt.Fprintln(stdout, "PASSAGE_AUDIT_KEYSET is not set: no audit keyset written")
		return nil
	}
	f, err := bootstrap.AuditKeysetFile(cfg)
	if err != nil {
		return err
	}
	if _, err := f.Read(); err == nil {
		return errors.New("the audit keyset already exists")
	}
	h, err := keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
	if err != nil {
		return err
	}
	if err := f.Write(h); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "audit keyset written")
	return nil
}

func keysStatus(ctx context.Context, pool *pgxpool.Pool, files vault.KeyringFiles, stdout io.Writer) error {
	h, err := files.KEK.Read()
	if err != nil {
		return err
	}
	usage, err := vault.CountKEKUsage(ctx, pool)
	if err != nil {
		return err
	}
	info := h.KeysetInfo()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KEY ID\tSTATUS\tPEOPLE")
	inKeyset := map[uint32]bool{}
	for _, k := range info.GetKeyInfo() {
		inKeyset[k.GetKeyId()] = true
		st := "old: rewrap, then retire"
		if k.GetKeyId() == info.GetPrimaryKeyId() {
			st = "primary"
		}
		fmt.Fprintf(tw, "%d\t%s\t%d\n", k.GetKeyId(), st, usage.ByKey[k.GetKeyId()])
	}
	for id, n := range usage.ByKey {
		if !inKeyset[id] {
			// Data keys wrapped by a key the keyset no longer has: these people cannot be
			// read; it happens only if a key was removed from the keyset by hand.
			fmt.Fprintf(tw, "%d\tNOT IN KEYSET: unreadable\t%d\n", id, n)
		}
	}
	if usage.Unknown > 0 {
		fmt.Fprintf(tw, "-\tnot recorded (before migration 9): rewrap\t%d\n", usage.Unknown)
	}
	return tw.Flush()
}

func keysRotate(files vault.KeyringFiles, stdout io.Writer) error {
	h, err := files.KEK.Read()
	if err != nil {
		return err
	}
	rotated, id, err := vault.RotateKEK(h)
	if err != nil {
		return err
	}
	if err := files.KEK.Write(rotated); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "new primary KEK key %d; servers use it after their next reload (PASSAGE_KEK_RELOAD, or SIGHUP); then run passage keys rewrap\n", id)
	return nil
}

func keysRewrap(ctx context.Context, pool *pgxpool.Pool, files vault.KeyringFiles, batch int, stdout, stderr io.Writer) error {
	keys, err := files.Load()
	if err != nil {
		return err
	}
	start := time.Now()
	last := time.Time{}
	p, err := vault.Rewrap(ctx, pool, keys, batch, func(p vault.RewrapProgress) {
		if time.Since(last) >= time.Second || p.Remaining == 0 {
			fmt.Fprintf(stderr, "rewrapped %d, remaining %d\n", p.Rewrapped, p.Remaining)
			last = time.Now()
		}
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "every data key is wrapped by KEK key %d (%d re-wrapped in %s); the other keys can be retired\n",
		keys.KEKPrimary(), p.Rewrapped, time.Since(start).Round(time.Millisecond))
	return nil
}

func keysRetire(ctx context.Context, pool *pgxpool.Pool, files vault.KeyringFiles, id uint32, stdout io.Writer) error {
	h, err := files.KEK.Read()
	if err != nil {
		return err
	}
	n, err := vault.CountWrappedBy(ctx, pool, id)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("KEK key %d may still wrap %d people's data keys: run passage keys rewrap first", id, n)
	}
	retired, err := vault.RetireKEK(h, id)
	if err != nil {
		return err
	}
	if err := files.KEK.Write(retired); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "KEK key %d destroyed: backups taken before the last rewrap can no longer be decrypted, so erasures made before now are complete in them too\n", id)
	return nil
}

const retentionUsage = `usage: passage retention report|run [--at YYYY-MM-DD] [--dev]

  report   dry run: how many people are due for erasure, by mission and programme (counts only)
  run      erase them now, as the server's scheduled job does

The policy is years after closure per programme: PASSAGE_RETENTION_YEARS_AVRR (default 5),
PASSAGE_RETENTION_YEARS_VOT (10) and PASSAGE_RETENTION_YEARS_HASM (5). A person is due once
every case they belong to has been closed for longer than its programme's period.
`

// runRetention runs `passage retention <command>`.
func runRetention(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	switch {
	case len(args) == 0:
		fmt.Fprint(stderr, retentionUsage)
		return errUsage
	case isHelp(args[0]):
		fmt.Fprint(stdout, retentionUsage)
		return nil
	case args[0] != "report" && args[0] != "run":
		return &usageError{command: "retention", err: fmt.Errorf("unknown command %q", args[0])}
	}
	fs := flag.NewFlagSet("retention "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	dev := fs.Bool("dev", false, "use the cleartext development keys under PASSAGE_DEV_DIR (run)")
	at := fs.String("at", "", "report as of this `DATE` instead of today (report)")
	if _, _, err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	cfg, err := bootstrap.KeyConfigFromEnv(*dev)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if *at != "" {
		d, err := parseFullDate(*at)
		if err != nil {
			return fmt.Errorf("--at: %w", err)
		}
		now = civildate.ToTime(d)
	}
	if args[0] == "report" {
		pool, err := database.Open(ctx, database.PoolConfig{URL: cfg.DatabaseURL, MaxConns: 2})
		if err != nil {
			return err
		}
		defer pool.Close()
		counts, err := retention.Report(ctx, pool, cfg.Retention.Policy(), now)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "MISSION\tPROGRAMME\tPEOPLE DUE")
		var total int64
		for _, c := range counts {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", c.Mission, c.Programme, c.Persons)
			total += c.Persons
		}
		fmt.Fprintf(tw, "total\t\t%d\n", total)
		return tw.Flush()
	}
	// The job erases as intake does, with intake's role.
	svc, done, err := operatorIntake(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	n, err := svc.EraseDue(ctx, cfg.Retention.Policy(), now)
	fmt.Fprintf(stdout, "erased %d\n", n)
	return err
}

// operatorIntake returns the intake service for an operator's command, with the vault's keys
// and intake's own database role, and the function that closes its pool.
func operatorIntake(ctx context.Context, cfg bootstrap.Config) (*intake.Service, func(), error) {
	pool, keys, err := operatorIntakePool(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	return intake.New(pool, keys), pool.Close, nil
}

// operatorIntakePool opens the vault's keys and a small pool with intake's own database role,
// for an operator's job that works as intake does.
func operatorIntakePool(ctx context.Context, cfg bootstrap.Config) (*pgxpool.Pool, *vault.Keyring, error) {
	files, err := bootstrap.KeyringFiles(cfg)
	if err != nil {
		return nil, nil, err
	}
	keys, err := files.Load()
	if err != nil {
		return nil, nil, err
	}
	pool, err := database.Open(ctx, database.PoolConfig{URL: bootstrap.ServiceDatabaseURL("intake"), AdminURL: cfg.DatabaseURL, Role: intake.Role, MaxConns: 2})
	if err != nil {
		return nil, nil, err
	}
	return pool, keys, nil
}

// runErase runs `passage erase`: the operator's erasure of one person by subject id, for a
// request that reached the data protection officer rather than the mission (supervisors use
// passage case erase). It names no one: subject id, mission, coded reason, who asked.
func runErase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("erase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	mission := fs.String("mission", "", "the person's mission (required)")
	subject := fs.String("subject", "", "the person's subject `ID` (required)")
	reason := fs.String("reason", "", "erasure `REASON`: "+erasureReasons.list())
	by := fs.String("by", "", "staff `ID` of who asked for the erasure, for the record (required)")
	dev := fs.Bool("dev", false, "use the cleartext development keys under PASSAGE_DEV_DIR")
	if _, _, err := parseFlags(fs, args); err != nil {
		return err
	}
	id, err := uuid.Parse(*subject)
	if err != nil {
		return errors.New("--subject must be a subject id (a UUID)")
	}
	if *mission == "" || *by == "" {
		return errors.New("--mission and --by are required")
	}
	r, err := parseEnum[intakev1.ErasureReason](erasureReasons, *reason)
	if err != nil {
		return fmt.Errorf("--reason %w", err)
	}
	cfg, err := bootstrap.KeyConfigFromEnv(*dev)
	if err != nil {
		return err
	}
	svc, done, err := operatorIntake(ctx, cfg)
	if err != nil {
		return err
	}
	defer done()
	e, err := svc.EraseSubject(ctx, *mission, id, r, *by)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "subject %s erased (%s) at %s\n", e.GetSubjectId(), enumName(e.GetReason()),
		e.GetEraseTime().AsTime().Format(time.RFC3339))
	return nil
}
