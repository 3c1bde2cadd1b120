package bootstrap

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/passage-cm/passage/internal/database"
)

// openReplica opens a service's pool on its read replica (url, from
// PASSAGE_<SHORT>_REPLICA_DATABASE_URL) and refuses one that does not connect as role: on a
// replica as on the primary, the service's role is what keeps it to the tables it may read,
// and a URL left with the owner's user would read everything.
func openReplica(ctx context.Context, url, role string, maxConns int32) (*pgxpool.Pool, error) {
	p, err := database.Open(ctx, database.PoolConfig{URL: url, Role: role, MaxConns: maxConns})
	if err != nil {
		return nil, err
	}
	var user string
	if err := p.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil {
		p.Close()
		return nil, fmt.Errorf("database: replica: %w", err)
	}
	if user != role {
		p.Close()
		return nil, fmt.Errorf("database: the replica's connection is user %s, not the service's role %s", user, role)
	}
	return p, nil
}
