package trafficking_test

import (
	"maps"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/testserver"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/trafficking"
)

// TestDatabaseRefusesAnotherMission: with the server's own mission check switched off, a
// caseworker of DEU who names a victim case of THA by its id still gets NOT_FOUND, for reading
// it and for every fact they try to record on it, because the database shows a transaction
// declared for DEU no row of THA. The control takes row-level security off the table and sees
// the same read leak the case: what refused it before was the database.
func TestDatabaseRefusesAnotherMission(t *testing.T) {
	t.Parallel()
	b := setupWith(t, true, trafficking.WithoutServerMissionCheck())
	c := b.newVictim(t, presumed)
	before := b.stored(t)

	_, err := b.vot.GetVictimCase(b.other, &traffickingv1.GetVictimCaseRequest{CaseId: c.GetCaseId()})
	testserver.WantCode(t, err, codes.NotFound)
	for _, f := range append(facts, screening(identified), closing(traffickingv1.ClosureReason_CLOSURE_REASON_OTHER)) {
		_, err := f.call(b, b.other, c)
		testserver.WantCode(t, err, codes.NotFound)
	}
	if after := b.stored(t); !maps.Equal(before, after) {
		t.Errorf("refused calls wrote: before %v, after %v", before, after)
	}
	// The caller's own mission still works without the server's check.
	if got := b.get(t, c.GetCaseId()); got.GetMission() != "THA" {
		t.Errorf("THA reads its own case as %v", got)
	}

	b.env.ExecAsOwner(t, `ALTER TABLE trafficking.victim_case NO FORCE ROW LEVEL SECURITY, DISABLE ROW LEVEL SECURITY`)
	leaked, err := b.vot.GetVictimCase(b.other, &traffickingv1.GetVictimCaseRequest{CaseId: c.GetCaseId()})
	if err != nil || leaked.GetVictimCase().GetMission() != "THA" {
		t.Fatalf("control: GetVictimCase without row-level security = %v, %v; want THA's case (the seam must really switch the server's check off)", leaked, err)
	}
}
