package bootstrap

import (
	"github.com/passage-cm/passage/internal/envconfig"
)

//go:generate go run ./envtable ../../docs/operators.md

// The markers around the table of variables in docs/operators.md, which [UpdateEnvTable]
// rewrites.
const (
	EnvTableBegin = "<!-- env:begin: generated from the env tags of internal/bootstrap.Config (go generate ./internal/bootstrap) -->"
	EnvTableEnd   = "<!-- env:end -->"
)

// untaggedVars are the variables Config's tags cannot hold, documented here beside the
// tagged ones: names made at run time from the services started (ServiceDatabaseURL reads
// them), and other libraries' own variables, which those libraries read.
var untaggedVars = []envconfig.Var{
	{Name: "PASSAGE_<SERVICE>_DATABASE_URL", Default: "derived", Help: "a service's own connection (its role and credentials) in production; {<SERVICE>} is {INTAKE}, {RETURNS}, {TRAFFICKING}, {HASM}, {REFERRAL}, {FOLLOWUP} or {ANALYTICS} (the query role, {passage_analytics})"},
	{Name: "PASSAGE_ANALYTICS_WORKER_DATABASE_URL", Default: "derived", Help: "the analytics projector's connection (role {passage_analytics_projector}, which reads the outbox)"},
	{Name: "PASSAGE_ANALYTICS_REPLICA_DATABASE_URL", Default: "none", Help: "a Postgres hot standby analytics reads from (the rollup and the victim records, role {passage_analytics}, which the URL must name); unset, it reads from the primary; the privacy ledger and its audit records are always written to the primary"},
	{Name: "PASSAGE_AUDITOR_DATABASE_URL", Default: "derived", Help: "the audit chainer's and {passage audit verify}'s connection (role {passage_auditor})"},
	{Name: "OTEL_TRACES_EXPORTER, OTEL_METRICS_EXPORTER, OTEL_EXPORTER_OTLP_*", Default: "none", Help: "standard OpenTelemetry exporters; nothing is exported unless set"},
	{Name: "GOGC, GOMEMLIMIT", Default: "tuned", Help: "Go's own; unset, the collector runs at five times the live heap while that leaves at most 256 MiB of garbage, down to twice it ({internal/gctune}); set, {GOGC} is used as given"},
}

// EnvVars lists every variable a Passage server reads: Config's env tags (the server's
// first), then the variables read by code, documented in this package.
func EnvVars() []envconfig.Var {
	return append(envconfig.Vars(Config{}), untaggedVars...)
}

// EnvHelp is the list of variables for a server command's -h.
func EnvHelp() string {
	return "Environment variables:\n" + envconfig.Help(EnvVars())
}

// UpdateEnvTable returns doc with the table between [EnvTableBegin] and [EnvTableEnd]
// regenerated from [EnvVars].
func UpdateEnvTable(doc string) (string, error) {
	return envconfig.ReplaceBetween(doc, EnvTableBegin, EnvTableEnd, envconfig.Markdown(EnvVars()))
}
