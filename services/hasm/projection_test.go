package hasm_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// The projection holds HASM cases only, follows their updates, and takes no identity.
func TestProjectionFollowsIntake(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.hasmCase(t, brother())
	b.registerCase(t, b.worker, "YEM", commonv1.Programme_PROGRAMME_AVRR)
	b.registerCase(t, b.worker, "YEM", commonv1.Programme_PROGRAMME_VOT)
	if _, err := b.intake.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: uuid.NewString(), CaseId: c.GetCaseId(), Version: 1,
		UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status", "host_country"}},
		Status:     intakev1.CaseStatus_CASE_STATUS_ACTIVE, HostCountry: "DJI"}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := b.svc.CatchUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.svc.CatchUp(ctx); err != nil { // a second catch-up applies nothing twice
		t.Fatal(err)
	}
	type row struct {
		CaseID      string
		Status      string
		Version     int64
		HostCountry string
		Members     int
	}
	rows := b.query(t, `SELECT c.case_id::text, c.intake_status, c.intake_version, c.host_country,
(SELECT count(*)::int FROM hasm.case_member m WHERE m.case_id = c.case_id) FROM hasm."case" c`)
	got, err := pgx.CollectRows(rows, pgx.RowToStructByPos[row])
	if err != nil {
		t.Fatal(err)
	}
	want := []row{{CaseID: c.GetCaseId(), Status: "ACTIVE", Version: 2, HostCountry: "DJI", Members: 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("projection (-want +got):\n%s", diff)
	}
}
