package bootstrap

import (
	"context"
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// TestOpenReplica: a replica URL that connects as the service's role opens; one left with
// another user (the owner's, here) is refused, naming the role, not the URL.
func TestOpenReplica(t *testing.T) {
	t.Parallel()
	owner := pgtest.New(t)
	ctx := context.Background()
	const role = "passage_analytics"
	roleURL, err := database.RoleURL(owner, role)
	if err != nil {
		t.Fatal(err)
	}
	p, err := openReplica(ctx, roleURL, role, 2)
	if err != nil {
		t.Fatalf("the role's URL: %v", err)
	}
	p.Close()
	_, err = openReplica(ctx, owner, role, 2)
	if err == nil || !strings.Contains(err.Error(), "not the service's role "+role) || strings.Contains(err.Error(), "postgres://") {
		t.Errorf("the owner's URL: %v, want a refusal naming the role", err)
	}
}
