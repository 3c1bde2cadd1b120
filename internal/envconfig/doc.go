// Package envconfig reads a configuration struct from environment variables named in its
// fields' tags, and documents those variables from the same tags, so that the parser, the
// command's help and the documentation's table cannot drift apart.
//
// A field takes part when it has an env tag:
//
//	Addr  string        `env:"PASSAGE_GRPC_ADDR" default:"127.0.0.1:7070" help:"gRPC"`
//	Grace time.Duration `env:"PASSAGE_SHUTDOWN_GRACE" default:"10s" help:"..."`
//
// A variable that is unset or empty takes the default tag's value; with no default either,
// the field keeps the value it had. A struct tag cannot hold a backquote, so help text marks
// code with braces, {off}, which the markdown table shows as code. Supported types are string, bool, int, int32, int64,
// float64, time.Duration and any type whose pointer implements [encoding.TextUnmarshaler].
// Struct fields without an env tag are walked into. A struct field tagged envprefix names its
// fields' variables with that prefix before their own env tags, and its help tag leads theirs,
// so one type can be read twice under two names (the gRPC and partner TLS files):
//
//	TLS mtls.ServerFiles `envprefix:"PASSAGE_TLS_" help:"gRPC over TLS 1.3"`
//
// where mtls.ServerFiles tags Cert `env:"CERT"` and so on; "{*KEY}" in a field's help
// names the sibling variable KEY under the same prefix. A TextUnmarshaler says what it
// wants with a [Reason], shown after the variable's name. Checks beyond the type (ranges, pairs of
// variables that go together) are the caller's, after [Parse]; errors name the variable and
// never repeat its value, which may be a secret such as a database URL with its password.
package envconfig
