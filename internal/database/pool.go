package database

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Querier is what a query needs: a pool, a connection or a transaction. Store methods take
// one so the same query runs alone or inside a transaction.
type Querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// PoolConfig says how a service connects.
type PoolConfig struct {
	// URL is the service's own connection string (its own role). When empty, RoleURL of
	// AdminURL and Role is used: fitting for development, where the local cluster trusts
	// loopback connections.
	URL string
	// AdminURL is DATABASE_URL: the owner's connection, used for migrations.
	AdminURL string
	// Role is the service's database role, e.g. "passage_intake".
	Role string
	// MaxConns bounds the pool; zero keeps pgx's default (the larger of 4 and the core count).
	MaxConns int32
	// ApplicationName, when set, is every connection's application_name, replacing the URL's:
	// what pg_stat_activity shows of them, and how internal/procshare counts live processes.
	ApplicationName string
}

// Open connects a pool for a service, traced with OpenTelemetry (query text only: queries
// are parameterised and parameters are never recorded).
func Open(ctx context.Context, c PoolConfig) (*pgxpool.Pool, error) {
	dsn := c.URL
	if dsn == "" {
		if c.AdminURL == "" {
			return nil, errors.New("database: no connection string (set DATABASE_URL)")
		}
		var err error
		if dsn, err = RoleURL(c.AdminURL, c.Role); err != nil {
			return nil, err
		}
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's parse errors can echo the connection string, password included.
		return nil, errors.New("database: cannot parse the connection string")
	}
	if c.MaxConns > 0 {
		cfg.MaxConns = c.MaxConns
	}
	// The services run short statements. Postgres JIT-compiles any plan whose estimated cost
	// passes jit_above_cost, and row-level security's subplans inflate the estimates of plain
	// reads past it: a 20 ms caseload page paid some 90 ms of compilation on every call
	// (docs/benchmarks/desk.md). Off for every service connection, unless the URL says otherwise.
	if _, set := cfg.ConnConfig.RuntimeParams["jit"]; !set {
		cfg.ConnConfig.RuntimeParams["jit"] = "off"
	}
	if c.ApplicationName != "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = c.ApplicationName
	}
	cfg.ConnConfig.Tracer = otelpgx.NewTracer(otelpgx.WithTrimSQLInSpanName())
	cfg.AfterConnect = registerUUID
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: open pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: connect as %s: %w", cfg.ConnConfig.User, err)
	}
	return pool, nil
}

// RoleURL returns the connection string admin with its user replaced by role and its password
// removed. Production deployments give each service its own URL with credentials instead.
func RoleURL(admin, role string) (string, error) {
	if role == "" {
		return admin, nil
	}
	if !strings.Contains(admin, "://") {
		return "", errors.New("database: DATABASE_URL must be a postgres:// URL to derive service roles")
	}
	u, err := url.Parse(admin)
	if err != nil {
		return "", errors.New("database: cannot parse DATABASE_URL")
	}
	u.User = url.User(role)
	return u.String(), nil
}
