package intake_test

import (
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

// TestRacingRetries: calls that race for one request id and lose it (testserver.Race) answer
// with the first result when they are retries of it, and are refused on request_id when they
// are another request; either way one change is written.
func TestRacingRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)

	t.Run("OpenCase retried", func(t *testing.T) {
		reg := registration(amina())
		reg.Programme = commonv1.Programme_PROGRAMME_VOT
		vot := b.register(t, reg).GetCase()
		req := &intakev1.OpenCaseRequest{RequestId: uuid.NewString(), FromCaseId: vot.GetCaseId(),
			Programme: commonv1.Programme_PROGRAMME_AVRR, SubjectIds: []string{vot.GetSubjectId()}, Consents: assistanceConsent()}
		call := func() (*intakev1.OpenCaseResponse, error) { return b.client.OpenCase(b.worker, proto.CloneOf(req)) }
		before := b.stored(t)
		got, errs := testserver.Race(t, b.env, "intake.idempotency", call, call)
		testserver.WantAlike(t, got, errs)
		if after := b.stored(t); after[`intake."case"`] != before[`intake."case"`]+1 || after["intake.idempotency"] != before["intake.idempotency"]+1 {
			t.Errorf("rows %v -> %v, want one case and one first result more", before, after)
		}
	})

	t.Run("UpdateCase of another case under the same request id", func(t *testing.T) {
		first, second := b.register(t, registration(child("Chidi", 2001))).GetCase(), b.register(t, registration(child("Ngozi", 2003))).GetCase()
		id := uuid.NewString()
		activate := func(c *intakev1.Case) func() (*intakev1.UpdateCaseResponse, error) {
			return func() (*intakev1.UpdateCaseResponse, error) {
				return b.client.UpdateCase(b.worker, &intakev1.UpdateCaseRequest{RequestId: id, CaseId: c.GetCaseId(), Version: c.GetVersion(),
					UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"status"}}, Status: intakev1.CaseStatus_CASE_STATUS_ACTIVE})
			}
		}
		before := b.stored(t)
		_, errs := testserver.Race(t, b.env, "intake.idempotency", activate(first), activate(second))
		testserver.WantOneThrough(t, errs)
		if after := b.stored(t); after["outbox.event"] != before["outbox.event"]+1 || after["intake.idempotency"] != before["intake.idempotency"]+1 {
			t.Errorf("rows %v -> %v, want one change and one first result more", before, after)
		}
	})
}
