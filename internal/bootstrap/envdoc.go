package bootstrap

import (
	"github.com/passage-cm/passage/internal/envconfig"
)

//go:generate go run ./envtable ../../README.md

// The markers around the README's table of variables, which [UpdateEnvTable] rewrites.
const (
	EnvTableBegin = "<!-- env:begin: generated from the env tags of internal/bootstrap.Config (go generate ./internal/bootstrap) -->"
	EnvTableEnd   = "<!-- env:end -->"
)

// untaggedVars are the variables read by code rather than through Config's env tags: names
// made at run time (per service, per programme, per quota class), values that need parsing of
// their own, and other libraries' variables. They are documented here, beside the tagged ones.
var untaggedVars = []envconfig.Var{
	{Name: "PASSAGE_<SERVICE>_DATABASE_URL", Default: "derived", Help: "a service's own connection (its role and credentials) in production; {<SERVICE>} is {INTAKE}, {RETURNS}, {TRAFFICKING}, {HASM}, {REFERRAL} or {ANALYTICS} (the query role, {passage_analytics})"},
	{Name: "PASSAGE_ANALYTICS_WORKER_DATABASE_URL", Default: "derived", Help: "the analytics projector's connection (role {passage_analytics_projector}, which reads the outbox)"},
	{Name: "PASSAGE_AUDITOR_DATABASE_URL", Default: "derived", Help: "the audit chainer's and {passage audit verify}'s connection (role {passage_auditor})"},
	{Name: "PASSAGE_TLS_CERT", Help: "gRPC over TLS 1.3 with this certificate, with {PASSAGE_TLS_KEY} (both or neither)"},
	{Name: "PASSAGE_TLS_KEY", Help: "the private key of {PASSAGE_TLS_CERT}"},
	{Name: "PASSAGE_TLS_CLIENT_CA", Help: "with TLS, require client certificates signed by this CA (mTLS)"},
	{Name: "PASSAGE_PARTNER_TLS_CERT", Help: "the partner gateway over TLS 1.3 with this certificate, with {PASSAGE_PARTNER_TLS_KEY} (both or neither); required when gRPC has TLS, never borrowed from it"},
	{Name: "PASSAGE_PARTNER_TLS_KEY", Help: "the private key of {PASSAGE_PARTNER_TLS_CERT}"},
	{Name: "PASSAGE_PARTNER_TLS_CLIENT_CA", Help: "with the gateway's TLS, require partner client certificates signed by this CA (not gRPC's {PASSAGE_TLS_CLIENT_CA})"},
	{Name: "PASSAGE_WEBHOOK_ALLOW_NETWORKS", Help: "development only: non-public networks webhooks may reach, and the only ones plain {http://} may, e.g. {127.0.0.0/8,::1} for a receiver on your machine; empty in production (public addresses over https only)"},
	{Name: "PASSAGE_QUOTA", Default: "on", Help: "per-caller and per-address rate limits ({internal/quota}); {off} for a load test that measures the server rather than one caller; with {--dev} they are off unless set to {on}, since {passage demo seed} sends thousands of calls a second under one token per mission"},
	{Name: "PASSAGE_QUOTA_<CLASS>", Default: "see meaning", Help: "a class's token bucket, {RATE:BURST}, calls a second and calls at once per token subject; {<CLASS>} and default: {READ} {20:40}, {WRITE} {50:100}, {SEARCH} {10:20}, {ANALYTICS} {60:240} (cost units, a table of n dimensions costing 1 + 2ⁿ), {PARTNER} {20:40} (every call of a partner's token), {UNAUTHENTICATED} {20:40} (per source address: health, reflection and refused tokens)"},
	{Name: "PASSAGE_RETENTION_YEARS_<PROGRAMME>", Default: "see meaning", Help: "years after closure before identities are erased: {AVRR} 5, {VOT} 10, {HASM} 5"},
	{Name: "PASSAGE_RETENTION_INTERVAL", Default: "24h", Help: "how often the retention job runs ({off} disables it); at least {1m}"},
	{Name: "PASSAGE_DP_YEARLY_EPSILON", Default: "10", Help: "the privacy budget (ε) each consumer of differentially private releases may spend per calendar year; a number above 0, at most 100"},
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

// UpdateEnvTable returns readme with the table between [EnvTableBegin] and [EnvTableEnd]
// regenerated from [EnvVars].
func UpdateEnvTable(readme string) (string, error) {
	return envconfig.ReplaceBetween(readme, EnvTableBegin, EnvTableEnd, envconfig.Markdown(EnvVars()))
}
