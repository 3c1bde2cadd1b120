package bootstrap

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/passage-cm/passage/internal/egress"
	"github.com/passage-cm/passage/internal/envconfig"
	"github.com/passage-cm/passage/internal/kms"
	"github.com/passage-cm/passage/internal/kms/hcvaultlogin"
	"github.com/passage-cm/passage/internal/privacy"
	"github.com/passage-cm/passage/internal/retention"
	"github.com/passage-cm/passage/internal/server"
	"github.com/passage-cm/passage/internal/staffdir"
	"github.com/passage-cm/passage/internal/vault"
)

// Config is everything a Passage process reads from its environment. Defaults sit beside the
// fields; nothing else is read anywhere. The fields tagged env are read by internal/envconfig,
// whose tags are also the table of variables in docs/operators.md and `passage serve -h` (see
// [EnvVars]).
type Config struct {
	Server server.Config

	// DatabaseURL is the owner's connection (DATABASE_URL). Services connect with their own
	// roles: PASSAGE_<SERVICE>_DATABASE_URL when set, else this URL with the user replaced by
	// the service's role (fitting for the local cluster, which trusts loopback connections).
	DatabaseURL string `env:"DATABASE_URL" help:"the owner's connection, for migrations; service roles are derived from it. Not needed when every service has its own {PASSAGE_<SERVICE>_DATABASE_URL}"`
	// MaxConns bounds each service's pool (PASSAGE_DB_MAX_CONNS, default 16). Connections
	// open only as needed. A registration spends most of its time waiting for the commit to
	// reach the disk, so more connections than cores keep the cores busy: on 2 cores, 16
	// sustained the most registrations per second (see docs/benchmarks/registercase.md).
	MaxConns int32 `env:"PASSAGE_DB_MAX_CONNS" default:"16" help:"pool size per service (opened as needed)"`

	// Dev (--dev or PASSAGE_DEV=1) creates or reuses development keys under DevDir and
	// accepts development tokens. Never in production.
	Dev bool `env:"PASSAGE_DEV" help:"development mode, as {--dev}: development keys and tokens. Never in production"`
	// DevDir holds the development keys (PASSAGE_DEV_DIR, default ".passage").
	DevDir string `env:"PASSAGE_DEV_DIR" default:".passage" help:"development keys ({--dev} only)"`

	// KEKKeyset and BlindIndexKeyset are the keyset files outside development
	// (PASSAGE_KEK_KEYSET, PASSAGE_BLIND_INDEX_KEYSET), encrypted under the key manager key
	// KEKURI (PASSAGE_KEK_URI, e.g. hcvault://vault.example:8200/transit/keys/passage).
	// Cleartext keysets are for development only: without a KEKURI, outside --dev, the
	// process refuses to start.
	KEKKeyset        string `env:"PASSAGE_KEK_KEYSET" help:"the KEK keyset file, encrypted under {PASSAGE_KEK_URI}; required outside {--dev} ({passage keys init} creates it)"`
	BlindIndexKeyset string `env:"PASSAGE_BLIND_INDEX_KEYSET" help:"the blind-index keyset file, encrypted under {PASSAGE_KEK_URI}; required outside {--dev} ({passage keys init} creates it)"`
	KEKURI           string `env:"PASSAGE_KEK_URI" help:"the key manager key that encrypts the keyset files, required outside {--dev}: {hcvault://HOST:PORT/transit/keys/NAME} (HashiCorp Vault transit; {VAULT_ADDR}, {VAULT_CACERT} as usual; the login: {PASSAGE_VAULT_AUTH})"`
	// VaultLogin is how the client of an hcvault:// KEKURI logs in to Vault
	// (PASSAGE_VAULT_AUTH and the other PASSAGE_VAULT_* variables; default: VAULT_TOKEN).
	VaultLogin hcvaultlogin.Settings
	// KEKReload is how often a running process re-reads the KEK keyset to pick up a rotation
	// (PASSAGE_KEK_RELOAD, default 1m); SIGHUP reloads at once.
	KEKReload time.Duration `env:"PASSAGE_KEK_RELOAD" default:"1m" help:"how often a running process re-reads the KEK keyset (SIGHUP: at once); at least {1s}"`

	// Retention is the years each programme keeps identities after closure and how often
	// the retention job applies them (PASSAGE_RETENTION_*).
	Retention retention.Settings
	// AuditKeyset is the audit chain's MAC keyset outside development (PASSAGE_AUDIT_KEYSET).
	// It must never be stored with the database: it is what makes the chain tamper-evident
	// against the database's owner.
	AuditKeyset string `env:"PASSAGE_AUDIT_KEYSET" help:"the audit chain's MAC keyset file, encrypted under {PASSAGE_KEK_URI} ({passage keys init} creates it); required outside {--dev}; keep it apart from database backups"`

	// PrivacyYearlyEpsilon is the ε each consumer of differentially private releases may
	// spend in a calendar year: the budget the privacy ledger enforces. Its default equals
	// privacy.DefaultYearlyEpsilon, which a test checks.
	PrivacyYearlyEpsilon privacy.YearlyBudget `env:"PASSAGE_DP_YEARLY_EPSILON" default:"10" help:"the privacy budget (ε) each consumer of differentially private releases may spend per calendar year; a number above 0, at most 100"`

	// WebhookAllowNetworks are non-public networks partner webhooks may be delivered to, and
	// the only ones plain http may reach (e.g. "127.0.0.0/8,::1" for a receiver on a
	// developer's machine). Empty by default, as it must be in production: webhooks then go
	// over https to public addresses only (see internal/egress).
	WebhookAllowNetworks egress.Networks `env:"PASSAGE_WEBHOOK_ALLOW_NETWORKS" help:"development only: non-public networks webhooks may reach, and the only ones plain {http://} may, e.g. {127.0.0.0/8,::1} for a receiver on your machine; empty in production (public addresses over https only)"`

	// JWKSURL, TokenIssuer and TokenAudience verify production tokens (PASSAGE_JWKS_URL,
	// PASSAGE_TOKEN_ISSUER, PASSAGE_TOKEN_AUDIENCE default "passage").
	JWKSURL       string `env:"PASSAGE_JWKS_URL" help:"where production tokens' keys are (JWKS); required outside {--dev}"`
	TokenIssuer   string `env:"PASSAGE_TOKEN_ISSUER" help:"the {iss} production tokens must carry; required outside {--dev}"`
	TokenAudience string `env:"PASSAGE_TOKEN_AUDIENCE" default:"passage" help:"the {aud} tokens must carry"`

	// StaffDirectory is how the staff directory learns of staff (PASSAGE_STAFF_DIRECTORY):
	// from tokens' claims at a member's first call (claims, the default), or only from
	// administrators (managed). Either way every process refuses an inactive member's calls.
	StaffDirectory staffdir.Mode `env:"PASSAGE_STAFF_DIRECTORY" default:"claims" help:"{claims}: a staff member unknown to the staff directory is added at their first call, as their token says; {managed}: only members an administrator provisioned are admitted. Inactive members are refused either way"`
	// Documents say where documents' bytes are kept and how large a file may be
	// (PASSAGE_DOCUMENT_*, PASSAGE_S3_*).
	Documents Documents
	// RegisterBatchesInFlight is how many batches of registrations (the group commit) the
	// processes that run intake on one database write at once, all together
	// (PASSAGE_REGISTER_BATCHES_IN_FLIGHT, default 2). Each live process takes
	// max(1, budget / processes), re-derived every few seconds as processes come and go
	// (internal/procshare): two processes take 1 each, and keep the batches as large as one
	// process makes them (docs/benchmarks/replicas.md).
	RegisterBatchesInFlight int `env:"PASSAGE_REGISTER_BATCHES_IN_FLIGHT" default:"2" help:"registration batches written at once on the database by all the processes that run intake on it, together (the group commit); each live process takes max(1, this / processes), recounted every few seconds"`

	// AnalyticsReplicaMaxLag is how far analytics' hot standby
	// (PASSAGE_ANALYTICS_REPLICA_DATABASE_URL) may fall behind the primary in replay before
	// analytics' readiness says NOT_SERVING ("replica lagging"); default 5s, within which
	// answers stay close to the 2 s freshness target (docs/operators/readiness.md).
	AnalyticsReplicaMaxLag time.Duration `env:"PASSAGE_ANALYTICS_REPLICA_MAX_LAG" default:"5s" help:"how far analytics' standby may lag behind the primary in replay before analytics reports NOT_SERVING ({replica lagging}); at least {1s}"`

	// LogLevel is PASSAGE_LOG_LEVEL: debug, info (default), warn or error.
	LogLevel slog.Level `env:"PASSAGE_LOG_LEVEL" default:"info" help:"{debug}, {info}, {warn} or {error}; one JSON line per RPC at info"`
}

// defaultKEKReload is the KEK reload interval of a Config built in code (equal to
// PASSAGE_KEK_RELOAD's tag, which a test checks).
const defaultKEKReload = time.Minute

// ConfigFromEnv reads the configuration; dev is the --dev flag. DATABASE_URL is required
// unless every one of services, and the auditor, has its own PASSAGE_<SERVICE>_DATABASE_URL
// (see [ServiceDatabaseURL]).
func ConfigFromEnv(dev bool, services ...Service) (Config, error) {
	// One pass over the tags, the server's included; then the server's own checks.
	c := Config{Server: server.DefaultConfig()}
	if err := envconfig.Parse(&c, os.LookupEnv); err != nil {
		return Config{}, err
	}
	var err error
	if c.Server, err = server.Complete(c.Server); err != nil {
		return Config{}, err
	}
	c.Dev = c.Dev || dev
	if c.Dev && os.Getenv("PASSAGE_QUOTA") == "" {
		// A developer's server is loaded by `passage demo seed`, thousands of calls a second
		// under one token per mission: quotas are off unless asked for (PASSAGE_QUOTA=on).
		c.Server.Quota.Enabled = false
	}
	if c.Dev && os.Getenv("PASSAGE_GRPC_REFLECTION") == "" {
		// grpcurl against `make run`, as the docs show it.
		c.Server.Reflection = true
	}
	if c.MaxConns < 1 {
		return Config{}, errors.New("PASSAGE_DB_MAX_CONNS must be a positive whole number")
	}
	if c.RegisterBatchesInFlight < 1 || c.RegisterBatchesInFlight > 16 {
		return Config{}, errors.New("PASSAGE_REGISTER_BATCHES_IN_FLIGHT must be a whole number from 1 to 16")
	}
	if c.AnalyticsReplicaMaxLag < time.Second {
		return Config{}, errors.New("PASSAGE_ANALYTICS_REPLICA_MAX_LAG must be a duration of at least 1s, e.g. 5s")
	}
	if c.KEKReload < time.Second {
		return Config{}, errors.New("PASSAGE_KEK_RELOAD must be a duration of at least 1s, e.g. 1m")
	}
	if err := c.Documents.check(c.Dev); err != nil {
		return Config{}, err
	}
	if c.DatabaseURL == "" {
		if missing := missingServiceURLs(services); len(missing) > 0 {
			return Config{}, fmt.Errorf("DATABASE_URL is not set, nor %s (make run starts a private Postgres and sets DATABASE_URL)",
				strings.Join(missing, ", "))
		}
	}
	if !c.Dev {
		var missing []string
		for name, v := range map[string]string{"PASSAGE_KEK_KEYSET": c.KEKKeyset, "PASSAGE_BLIND_INDEX_KEYSET": c.BlindIndexKeyset,
			"PASSAGE_KEK_URI": c.KEKURI, "PASSAGE_AUDIT_KEYSET": c.AuditKeyset,
			"PASSAGE_JWKS_URL": c.JWKSURL, "PASSAGE_TOKEN_ISSUER": c.TokenIssuer} {
			if v == "" {
				missing = append(missing, name)
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			return Config{}, fmt.Errorf("outside --dev, set %s", strings.Join(missing, ", "))
		}
	}
	if c.Dev {
		abs, err := filepath.Abs(c.DevDir)
		if err != nil {
			return Config{}, err
		}
		c.DevDir = abs
	}
	return c, nil
}

// ServiceDatabaseURL returns the service role's own URL when configured
// (PASSAGE_<SERVICE>_DATABASE_URL), or "" to derive it from DATABASE_URL.
func ServiceDatabaseURL(service string) string {
	return os.Getenv("PASSAGE_" + strings.ToUpper(service) + "_DATABASE_URL")
}

// missingServiceURLs names the PASSAGE_<SERVICE>_DATABASE_URL variables that the auditor and
// services (their workers included) would need without DATABASE_URL and that are not set.
// Without services, DATABASE_URL is always needed: PASSAGE_<SERVICE>_DATABASE_URL is named.
func missingServiceURLs(services []Service) []string {
	if len(services) == 0 {
		return []string{"PASSAGE_<SERVICE>_DATABASE_URL"}
	}
	shorts := []string{"auditor"}
	for _, s := range services {
		shorts = append(shorts, s.Short)
		if s.WorkerRole != "" {
			shorts = append(shorts, s.Short+"_worker")
		}
	}
	var missing []string
	for _, short := range shorts {
		if ServiceDatabaseURL(short) == "" {
			missing = append(missing, "PASSAGE_"+strings.ToUpper(short)+"_DATABASE_URL")
		}
	}
	return missing
}

// KeyringFiles returns where the vault's keysets are: the configured files, encrypted under
// the key manager key KEKURI when it is set; else, in development only, the cleartext
// development keysets under DevDir.
func KeyringFiles(c Config) (vault.KeyringFiles, error) {
	if c.KEKURI == "" {
		if !c.Dev {
			return vault.KeyringFiles{}, errors.New("PASSAGE_KEK_URI is not set: cleartext keysets are for --dev only")
		}
		return vault.DevKeyringFiles(c.DevDir), nil
	}
	if c.KEKKeyset == "" || c.BlindIndexKeyset == "" {
		return vault.KeyringFiles{}, errors.New("with PASSAGE_KEK_URI, set PASSAGE_KEK_KEYSET and PASSAGE_BLIND_INDEX_KEYSET")
	}
	a, err := kms.AEAD(c.KEKURI, c.VaultLogin)
	if err != nil {
		return vault.KeyringFiles{}, err
	}
	return vault.KeyringFiles{
		KEK:        vault.KeysetFile{Path: c.KEKKeyset, KMS: a, Purpose: "kek"},
		BlindIndex: vault.KeysetFile{Path: c.BlindIndexKeyset, KMS: a, Purpose: "blind-index"},
	}, nil
}

// AuditKeysetFile is where the audit chain's MAC keyset lives outside development: the file
// PASSAGE_AUDIT_KEYSET, encrypted under the key manager's key like the vault's keysets.
func AuditKeysetFile(c Config) (vault.KeysetFile, error) {
	if c.KEKURI == "" || c.AuditKeyset == "" {
		return vault.KeysetFile{}, errors.New("the audit keyset needs PASSAGE_KEK_URI and PASSAGE_AUDIT_KEYSET (or --dev)")
	}
	a, err := kms.AEAD(c.KEKURI, c.VaultLogin)
	if err != nil {
		return vault.KeysetFile{}, err
	}
	return vault.KeysetFile{Path: c.AuditKeyset, KMS: a, Purpose: "audit"}, nil
}

// KeyConfigFromEnv reads only what the key and retention commands need (`passage keys`,
// `passage retention`): the database, the keyset files and key manager URI (or, with dev,
// the development keys) and the retention policy. Token settings are not required.
func KeyConfigFromEnv(dev bool) (Config, error) {
	var c Config
	if err := envconfig.Parse(&c, os.LookupEnv); err != nil {
		return Config{}, err
	}
	c.Dev = c.Dev || dev
	c.MaxConns = 4
	if c.DatabaseURL == "" {
		return Config{}, errors.New("DATABASE_URL is not set")
	}
	var err error
	if c.DevDir, err = filepath.Abs(c.DevDir); err != nil {
		return Config{}, err
	}
	return c, nil
}
