package consent_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/consent"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	"github.com/passage-cm/passage/services/returns"
)

// BenchmarkCatchUp measures what "at once" costs a programme mutation: consent.CatchUp for a
// case with no consent change pending (the common case: one indexed query), and a whole
// returns step, which includes it.
func BenchmarkCatchUp(b *testing.B) {
	bb := setup(b)
	worker := bb.env.As(b, auth.RoleCaseworker, "DEU")
	ctx := context.Background()
	var caseID string
	for range 200 {
		resp, err := bb.intake.RegisterCase(worker, registrationFor("DEU", commonv1.Programme_PROGRAMME_AVRR))
		if err != nil {
			b.Fatal(err)
		}
		caseID = resp.GetCase().GetCaseId()
	}
	c := outbox.NewConsumer(bb.env.Pool(b, returns.Role), outbox.ConsumerConfig{Name: "bench", CursorTable: "returns.outbox_cursor",
		Types: consent.Events, Handle: func(context.Context, pgx.Tx, outbox.Record) error { return nil }})
	if _, err := c.Drain(ctx); err != nil {
		b.Fatal(err)
	}
	id := uuid.MustParse(caseID)
	b.Run("nothing pending", func(b *testing.B) {
		for b.Loop() {
			if err := consent.CatchUp(ctx, c, id, time.Second); err != nil {
				b.Fatal(err)
			}
		}
	})
	got, err := bb.returns.GetReturn(worker, &returnsv1.GetReturnRequest{CaseId: caseID})
	if err != nil {
		b.Fatal(err)
	}
	elig, err := bb.returns.RecordEligibility(worker, &returnsv1.RecordEligibilityRequest{RequestId: uuid.NewString(), CaseId: caseID,
		Version: got.GetReturn().GetVersion(), Decision: &returnsv1.EligibilityDecision{Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE,
			CounsellingDate: day(2026, 3, 2), DecisionDate: day(2026, 3, 3)}})
	if err != nil {
		b.Fatal(err)
	}
	version := elig.GetReturn().GetVersion()
	b.Run("returns step", func(b *testing.B) {
		for b.Loop() {
			resp, err := bb.returns.RecordPreDepartureStep(worker, &returnsv1.RecordPreDepartureStepRequest{RequestId: uuid.NewString(),
				CaseId: caseID, Version: version, Step: &returnsv1.PreDepartureStep{Date: day(2026, 3, 10),
					Step: &returnsv1.PreDepartureStep_Booking{Booking: returnsv1.TravelMode_TRAVEL_MODE_AIR}}})
			if err != nil {
				b.Fatal(err)
			}
			version = resp.GetReturn().GetVersion()
		}
	})
}
