package bootstrap

import (
	"strings"
	"testing"

	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/pgtest"
)

// TestOpenReplica: a replica URL that connects as the service's role opens; one left with
// another user (the owner's, here) is refused, naming the role, never the URL.
func TestOpenReplica(t *testing.T) {
	t.Parallel()
	const role = "passage_analytics"
	owner := pgtest.New(t)
	asRole, err := database.RoleURL(owner, role)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, url, refusal string
	}{
		{"the role", asRole, ""},
		{"the owner", owner, "not the service's role " + role},
	} {
		p, err := openReplica(t.Context(), tt.url, role, 2)
		switch {
		case tt.refusal == "" && err != nil:
			t.Errorf("%s: %v", tt.name, err)
		case tt.refusal == "":
			p.Close()
		case err == nil || !strings.Contains(err.Error(), tt.refusal) || strings.Contains(err.Error(), "postgres://"):
			t.Errorf("%s: %v, want a refusal naming the role", tt.name, err)
		}
	}
}
