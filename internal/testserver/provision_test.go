package testserver_test

import (
	"fmt"
	"testing"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
)

// TestProvisionAtOnce: tests running at once provision the same staff members, as the attack
// suite's parallel subtests do; none fails, and each member is provisioned once. Then a
// member provisioned again with another mission is moved there.
func TestProvisionAtOnce(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{})
	const members = 100
	t.Run("at once", func(t *testing.T) {
		for caller := range 12 {
			t.Run(fmt.Sprint(caller), func(t *testing.T) {
				t.Parallel()
				for i := range members {
					env.Provision(t, fmt.Sprintf("cw-%02d", i), auth.RoleCaseworker, "NER")
				}
			})
		}
	})
	if n := env.QueryInt(t, `SELECT count(*) FROM intake.staff_member WHERE staff_id LIKE 'cw-%' AND version = 1`); n != members {
		t.Errorf("%d members provisioned once, want %d", n, members)
	}
	env.Provision(t, "cw-00", auth.RoleCaseworker, "DEU")
	if got := env.QueryText(t, `SELECT mission || ' ' || version FROM intake.staff_member WHERE staff_id = 'cw-00'`); got != "DEU 2" {
		t.Errorf("cw-00 provisioned again in DEU: %s, want DEU at version 2", got)
	}
}
