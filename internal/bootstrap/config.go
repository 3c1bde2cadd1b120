package bootstrap

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/egress"
	"github.com/passage-cm/passage/internal/kms"
	"github.com/passage-cm/passage/internal/privacy"
	"github.com/passage-cm/passage/internal/retention"
	"github.com/passage-cm/passage/internal/server"
	"github.com/passage-cm/passage/internal/vault"
)

// Config is everything a Passage process reads from its environment. Defaults sit beside the
// fields; nothing else is read anywhere.
type Config struct {
	Server server.Config

	// DatabaseURL is the owner's connection (DATABASE_URL). Services connect with their own
	// roles: PASSAGE_<SERVICE>_DATABASE_URL when set, else this URL with the user replaced by
	// the service's role (fitting for the local cluster, which trusts loopback connections).
	DatabaseURL string
	// MaxConns bounds each service's pool (PASSAGE_DB_MAX_CONNS, default 16). Connections
	// open only as needed. A registration spends most of its time waiting for the commit to
	// reach the disk, so more connections than cores keep the cores busy: on 2 cores, 16
	// sustained the most registrations per second (see the README's benchmarks).
	MaxConns int32

	// Dev (--dev or PASSAGE_DEV=1) creates or reuses development keys under DevDir and
	// accepts development tokens. Never in production.
	Dev bool
	// DevDir holds the development keys (PASSAGE_DEV_DIR, default ".passage").
	DevDir string

	// KEKKeyset and BlindIndexKeyset are the keyset files outside development
	// (PASSAGE_KEK_KEYSET, PASSAGE_BLIND_INDEX_KEYSET), encrypted under the key manager key
	// KEKURI (PASSAGE_KEK_URI, e.g. hcvault://vault.example:8200/transit/keys/passage).
	// Cleartext keysets are for development only: without a KEKURI, outside --dev, the
	// process refuses to start.
	KEKKeyset, BlindIndexKeyset, KEKURI string
	// KEKReload is how often a running process re-reads the KEK keyset to pick up a rotation
	// (PASSAGE_KEK_RELOAD, default 1m); SIGHUP reloads at once.
	KEKReload time.Duration

	// Retention is the years each programme keeps identities after closure
	// (PASSAGE_RETENTION_YEARS_<PROGRAMME>), applied every RetentionInterval
	// (PASSAGE_RETENTION_INTERVAL, default 24h; "off" disables the job).
	Retention         retention.Policy
	RetentionInterval time.Duration
	// AuditKeyset is the audit chain's MAC keyset outside development (PASSAGE_AUDIT_KEYSET).
	// It must never be stored with the database: it is what makes the chain tamper-evident
	// against the database's owner.
	AuditKeyset string

	// PrivacyYearlyEpsilon is the ε each consumer of differentially private releases may
	// spend in a calendar year (PASSAGE_DP_YEARLY_EPSILON, default privacy.DefaultYearlyEpsilon):
	// the budget the privacy ledger enforces.
	PrivacyYearlyEpsilon float64

	// WebhookAllowNetworks are non-public networks partner webhooks may be delivered to, and
	// the only ones plain http may reach (PASSAGE_WEBHOOK_ALLOW_NETWORKS, comma-separated CIDR
	// prefixes or addresses, e.g. "127.0.0.0/8,::1" for a receiver on a developer's machine).
	// Empty by default, as it must be in production: webhooks then go over https to public
	// addresses only (see internal/egress).
	WebhookAllowNetworks []netip.Prefix

	// JWKSURL, TokenIssuer and TokenAudience verify production tokens (PASSAGE_JWKS_URL,
	// PASSAGE_TOKEN_ISSUER, PASSAGE_TOKEN_AUDIENCE default "passage").
	JWKSURL, TokenIssuer, TokenAudience string

	// LogLevel is PASSAGE_LOG_LEVEL: debug, info (default), warn or error.
	LogLevel slog.Level
}

// Defaults of the settings above.
const (
	defaultMaxConns          = 16
	defaultKEKReload         = time.Minute
	defaultRetentionInterval = 24 * time.Hour
)

// ConfigFromEnv reads the configuration; dev is the --dev flag.
func ConfigFromEnv(dev bool) (Config, error) {
	srv, err := server.ConfigFromEnv()
	if err != nil {
		return Config{}, err
	}
	c := keysFromEnv(dev)
	c.Server = srv
	if dev && os.Getenv("PASSAGE_QUOTA") == "" {
		// A developer's server is loaded by `passage demo seed`, thousands of calls a second
		// under one token per mission: quotas are off unless asked for (PASSAGE_QUOTA=on).
		c.Server.Quota.Enabled = false
	}
	c.KEKReload, c.RetentionInterval = defaultKEKReload, defaultRetentionInterval
	c.JWKSURL, c.TokenIssuer = os.Getenv("PASSAGE_JWKS_URL"), os.Getenv("PASSAGE_TOKEN_ISSUER")
	c.TokenAudience = envOr("PASSAGE_TOKEN_AUDIENCE", auth.Audience)
	c.MaxConns = defaultMaxConns
	if v := os.Getenv("PASSAGE_DB_MAX_CONNS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 32)
		if err != nil || n < 1 {
			return Config{}, errors.New("PASSAGE_DB_MAX_CONNS must be a positive whole number")
		}
		c.MaxConns = int32(n)
	}
	if v := os.Getenv("PASSAGE_KEK_RELOAD"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second {
			return Config{}, errors.New("PASSAGE_KEK_RELOAD must be a duration of at least 1s, e.g. 1m")
		}
		c.KEKReload = d
	}
	switch v := os.Getenv("PASSAGE_RETENTION_INTERVAL"); v {
	case "":
	case "off":
		c.RetentionInterval = 0
	default:
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute {
			return Config{}, errors.New(`PASSAGE_RETENTION_INTERVAL must be a duration of at least 1m, or "off"`)
		}
		c.RetentionInterval = d
	}
	if c.Retention, err = retention.PolicyFromEnv(); err != nil {
		return Config{}, err
	}
	if c.PrivacyYearlyEpsilon, err = privacy.YearlyBudgetFromEnv(); err != nil {
		return Config{}, err
	}
	if c.WebhookAllowNetworks, err = egress.ParseNetworks(os.Getenv("PASSAGE_WEBHOOK_ALLOW_NETWORKS")); err != nil {
		return Config{}, fmt.Errorf("PASSAGE_WEBHOOK_ALLOW_NETWORKS: %w", err)
	}
	if err := c.LogLevel.UnmarshalText([]byte(envOr("PASSAGE_LOG_LEVEL", "info"))); err != nil {
		return Config{}, errors.New("PASSAGE_LOG_LEVEL must be debug, info, warn or error")
	}
	if c.DatabaseURL == "" {
		return Config{}, errors.New("DATABASE_URL is not set (make run starts a private Postgres and sets it)")
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

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
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
	a, err := kms.AEAD(c.KEKURI)
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
	a, err := kms.AEAD(c.KEKURI)
	if err != nil {
		return vault.KeysetFile{}, err
	}
	return vault.KeysetFile{Path: c.AuditKeyset, KMS: a, Purpose: "audit"}, nil
}

// keysFromEnv reads what every command needs to reach the database and the keys: the
// database, development mode and folder, the keyset files and the key manager URI.
func keysFromEnv(dev bool) Config {
	return Config{
		DatabaseURL:      os.Getenv("DATABASE_URL"),
		Dev:              dev || os.Getenv("PASSAGE_DEV") == "1",
		DevDir:           envOr("PASSAGE_DEV_DIR", ".passage"),
		KEKKeyset:        os.Getenv("PASSAGE_KEK_KEYSET"),
		BlindIndexKeyset: os.Getenv("PASSAGE_BLIND_INDEX_KEYSET"),
		KEKURI:           os.Getenv("PASSAGE_KEK_URI"),
		AuditKeyset:      os.Getenv("PASSAGE_AUDIT_KEYSET"),
	}
}

// KeyConfigFromEnv reads only what the key and retention commands need (`passage keys`,
// `passage retention`): the database, the keyset files and key manager URI (or, with dev,
// the development keys) and the retention policy. Token settings are not required.
func KeyConfigFromEnv(dev bool) (Config, error) {
	c := keysFromEnv(dev)
	c.MaxConns = 4
	if c.DatabaseURL == "" {
		return Config{}, errors.New("DATABASE_URL is not set")
	}
	var err error
	if c.Retention, err = retention.PolicyFromEnv(); err != nil {
		return Config{}, err
	}
	if c.DevDir, err = filepath.Abs(c.DevDir); err != nil {
		return Config{}, err
	}
	return c, nil
}
