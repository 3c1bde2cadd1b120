package bootstrap

import (
	"os"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/envconfig"
	"github.com/passage-cm/passage/internal/privacy"
)

// TestOperatorsEnvTable: the table of variables in docs/operators.md is the one EnvVars
// renders. When it fails, run go generate ./internal/bootstrap (or make generate) and commit
// docs/operators.md.
func TestOperatorsEnvTable(t *testing.T) {
	old, err := os.ReadFile("../../docs/operators.md")
	if err != nil {
		t.Fatal(err)
	}
	want, err := UpdateEnvTable(string(old))
	if err != nil {
		t.Fatal(err)
	}
	if string(old) != want {
		t.Error("docs/operators.md's table of variables is stale: " +
			"run go generate ./internal/bootstrap and commit docs/operators.md")
	}
}

// TestEnvVars: every variable is listed once, with a meaning, and Config's tagged defaults
// agree with the constants code uses.
func TestEnvVars(t *testing.T) {
	seen := map[string]bool{}
	for _, v := range EnvVars() {
		if seen[v.Name] || v.Help == "" {
			t.Errorf("%s: listed twice or without help", v.Name)
		}
		seen[v.Name] = true
	}
	for _, name := range []string{"DATABASE_URL", "PASSAGE_GRPC_ADDR", "PASSAGE_LOG_LEVEL", "PASSAGE_QUOTA", "PASSAGE_QUOTA_READ", "PASSAGE_TLS_CERT", "PASSAGE_PARTNER_TLS_CLIENT_CA", "PASSAGE_RETENTION_YEARS_VOT"} {
		if !seen[name] {
			t.Errorf("%s is not listed", name)
		}
	}
	var c Config
	for _, name := range []string{"PASSAGE_KEK_RELOAD", "PASSAGE_TOKEN_AUDIENCE", "PASSAGE_DP_YEARLY_EPSILON", "PASSAGE_ANALYTICS_REPLICA_MAX_LAG"} {
		t.Setenv(name, "")
	}
	if err := envconfig.Parse(&c, os.LookupEnv); err != nil {
		t.Fatal(err)
	}
	if c.KEKReload != defaultKEKReload || c.TokenAudience != auth.Audience || c.PrivacyYearlyEpsilon != privacy.DefaultYearlyEpsilon ||
		c.AnalyticsReplicaMaxLag != defaultReplicaMaxLag {
		t.Errorf("tag defaults: KEK reload %v, audience %q, yearly ε %v, replica lag %v", c.KEKReload, c.TokenAudience, c.PrivacyYearlyEpsilon, c.AnalyticsReplicaMaxLag)
	}
	if help := EnvHelp(); !strings.Contains(help, "PASSAGE_DB_MAX_CONNS (default 16)") || strings.Contains(help, "{") {
		t.Errorf("EnvHelp:\n%s", help)
	}
}
