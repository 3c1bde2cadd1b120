package followup_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

const moved = "passage.followup.v1.FollowUpMoved"

var (
	arrivalKind = followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION
	planKind    = followupv1.FollowUpKind_FOLLOW_UP_KIND_REINTEGRATION_PLAN
	visitKind   = followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT
)

// accept writes the hand-over service's acceptance of DEU's AVRR case caseID by IRQ, of
// RECEPTION and MONITORING, into the outbox as that service does (under the receiving
// mission), and returns it.
func (b *bundle) accept(t *testing.T, caseID string) *handoverv1.HandoverAccepted {
	t.Helper()
	e := &handoverv1.HandoverAccepted{HandoverId: uuid.NewString(), CaseId: caseID, FromMission: "DEU", ToMission: "IRQ",
		Programme: commonv1.Programme_PROGRAMME_AVRR, ProfileVersion: 1, Version: 2,
		Parts: []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION, handoverv1.HandoverPart_HANDOVER_PART_MONITORING}}
	b.republish(t, e)
	return e
}

// republish writes acceptance e into the outbox (again), filed under its case as the
// hand-over service files it, so that it falls in the case's partition.
func (b *bundle) republish(t *testing.T, e *handoverv1.HandoverAccepted) {
	t.Helper()
	b.publish(t, "handover", e.GetToMission(), e.GetCaseId(), e)
}

// arrived writes IRQ's record of the case's arrival on day 3 June, as the returns service
// writes it for the mission that holds the reception.
func (b *bundle) arrived(t *testing.T, caseID string) {
	t.Helper()
	b.publish(t, "returns", "IRQ", caseID, &returnsv1.ArrivalRecorded{CaseId: caseID, Mission: "IRQ", ReturnCountry: "IRQ",
		Arrival: &returnsv1.Arrival{ArrivalDate: day(2025, 6, 3)}})
}

// eventMissions returns the missions of followup's events of type typ about a follow-up.
func (b *bundle) eventMissions(t *testing.T, followUpID, typ string) []string {
	t.Helper()
	var out []string
	for _, e := range b.followUpEvents(t, followUpID) {
		if e.Type == typ {
			out = append(out, e.Mission)
		}
	}
	return out
}

// wantReminders runs the reminder job once on the day the clock is at, and fails the test
// unless it writes want events.
func (b *bundle) wantReminders(t *testing.T, want int, when string) {
	t.Helper()
	if n := b.remind(t); n != want {
		t.Errorf("%s: the reminder job wrote %d events, want %d", when, n, want)
	}
}

// list lists ctx's mission's follow-ups in state, soonest due first.
func (b *bundle) list(t *testing.T, ctx context.Context, state followupv1.StateFilter) []*followupv1.FollowUp {
	t.Helper()
	return b.listed(t, ctx, &followupv1.ListFollowUpsRequest{State: state})
}

// TestHandoverBeforeDeparture: DEU hands the reception and the monitoring of a return over to
// IRQ before it departs. DEU's departure creates the arrival confirmation as IRQ's; IRQ's
// arrival closes it and creates IRQ's monitoring visits and DEU's reintegration plan (DEU kept
// that part); IRQ's visit closes IRQ's first visit; DEU's closing of the return closes what is
// left on both sides, each under its own mission.
func TestHandoverBeforeDeparture(t *testing.T) {
	t.Parallel()
	b := setup(t)
	irq := b.env.As(t, auth.RoleSupervisor, "IRQ")
	r := b.readyToDepart(t)
	caseID := r.GetCaseId()
	b.accept(t, caseID)
	b.depart(t, r, day(2025, 6, 2))

	fs := b.awaitCaseAs(t, irq, caseID, "IRQ's arrival confirmation", func(fs []*followupv1.FollowUp) bool { return len(fs) == 1 })
	confirm := fs[0]
	if confirm.GetKind() != arrivalKind || !isOpen(confirm) || confirm.GetMission() != "IRQ" || confirm.GetVersion() != 1 ||
		!sameDay(confirm.GetDueDate(), 2025, 6, 9) {
		t.Fatalf("DEU's departure after the hand-over: %v, want IRQ's arrival confirmation", confirm)
	}
	if got := b.eventMissions(t, confirm.GetFollowUpId(), created); len(got) != 1 || got[0] != "IRQ" {
		t.Errorf("FollowUpCreated written under %v, want IRQ", got)
	}
	if got := b.caseFollowUps(t, b.boss, caseID); got != nil {
		t.Errorf("DEU sees %v, want none", got)
	}

	b.arrived(t, caseID)
	fs = b.awaitCaseAs(t, irq, caseID, "IRQ's visits", func(fs []*followupv1.FollowUp) bool { return len(fs) == 4 })
	if !isClosed(byKind(fs, arrivalKind, 1), followupv1.Outcome_OUTCOME_DONE) {
		t.Errorf("IRQ's arrival left its confirmation %v", byKind(fs, arrivalKind, 1))
	}
	for occ := int32(1); occ <= 3; occ++ {
		if v := byKind(fs, visitKind, occ); !isOpen(v) || v.GetMission() != "IRQ" {
			t.Errorf("visit %d: %v, want open, IRQ's", occ, v)
		}
	}
	deu := b.awaitCase(t, caseID, "DEU's reintegration plan", func(fs []*followupv1.FollowUp) bool { return len(fs) == 1 })
	plan := deu[0]
	if plan.GetKind() != planKind || !isOpen(plan) || plan.GetMission() != "DEU" || !sameDay(plan.GetDueDate(), 2025, 7, 1) {
		t.Errorf("DEU kept the reintegration: %v, want its plan's follow-up, open", plan)
	}

	b.publish(t, "returns", "IRQ", caseID, &returnsv1.MonitoringVisitRecorded{CaseId: caseID, Mission: "IRQ", VisitNumber: 1,
		Visit: &returnsv1.MonitoringVisit{VisitDate: day(2025, 9, 1)}})
	b.publish(t, "returns", "DEU", caseID, &returnsv1.ReturnClosed{CaseId: caseID, Mission: "DEU",
		Reason: returnsv1.ClosureReason_CLOSURE_REASON_LOST_CONTACT})
	fs = b.awaitCaseAs(t, irq, caseID, "IRQ's visits closed", func(fs []*followupv1.FollowUp) bool {
		return isClosed(byKind(fs, visitKind, 3), followupv1.Outcome_OUTCOME_NOT_NEEDED)
	})
	if !isClosed(byKind(fs, visitKind, 1), followupv1.Outcome_OUTCOME_DONE) ||
		!isClosed(byKind(fs, visitKind, 2), followupv1.Outcome_OUTCOME_NOT_NEEDED) {
		t.Errorf("after IRQ's visit and DEU's closing: %v", fs)
	}
	if got := b.eventMissions(t, byKind(fs, visitKind, 2).GetFollowUpId(), closed); len(got) != 1 || got[0] != "IRQ" {
		t.Errorf("IRQ's second visit closed by DEU's event: FollowUpClosed under %v, want IRQ", got)
	}
	if got := b.caseFollowUps(t, b.boss, caseID); len(got) != 1 || !isClosed(got[0], followupv1.Outcome_OUTCOME_NOT_NEEDED) {
		t.Errorf("DEU's plan after DEU's closing: %v, want closed, not needed", got)
	}
}

// TestHandoverMovesOpenFollowUps: DEU hands two departed returns over to IRQ (the reception and
// the monitoring). Their open arrival confirmations become IRQ's, unassigned, at their next
// version; DEU lists and reads them no more, IRQ lists them in due order a page at a time, a
// third mission sees nothing; their reminders are written once each, under the mission whose
// follow-up it is then. IRQ closes one (idempotent, versioned); the grant read again moves
// nothing; IRQ's missed monitoring visit is overdue in IRQ's list.
func TestHandoverMovesOpenFollowUps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	irq := b.env.As(t, auth.RoleSupervisor, "IRQ")
	b.clock.set(day(2025, 6, 1))
	first := b.departed(t, day(2025, 6, 2)).GetCaseId()
	second := b.departed(t, day(2025, 6, 1)).GetCaseId()
	confirm := b.awaitCase(t, first, "the first confirmation", func(fs []*followupv1.FollowUp) bool { return len(fs) == 1 })[0]
	b.awaitCase(t, second, "the second confirmation", func(fs []*followupv1.FollowUp) bool { return len(fs) == 1 })
	if _, err := b.client.AssignFollowUp(b.boss, &followupv1.AssignFollowUpRequest{RequestId: uuid.NewString(),
		FollowUpId: confirm.GetFollowUpId(), Version: 1, Assignee: "staff-caseworker"}); err != nil {
		t.Fatalf("AssignFollowUp: %v", err)
	}
	b.clock.set(day(2025, 6, 7))
	b.wantReminders(t, 2, "on 7 June, both confirmations due in DEU")

	grant := b.accept(t, first)
	b.accept(t, second)
	b.await(t, "IRQ's confirmations", func() bool { return len(b.list(t, irq, followupv1.StateFilter_STATE_FILTER_OPEN)) == 2 })

	// IRQ's list, a page at a time, soonest due first: the second case's (due 8 June), then
	// the first's (due 9 June).
	req := &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION, PageSize: 1}
	var pages []*followupv1.FollowUp
	for {
		resp, err := b.client.ListFollowUps(irq, req)
		if err != nil {
			t.Fatalf("ListFollowUps: %v", err)
		}
		pages = append(pages, resp.GetFollowUps()...)
		if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
			break
		}
	}
	if len(pages) != 2 || pages[0].GetCaseId() != second || pages[1].GetFollowUpId() != confirm.GetFollowUpId() {
		t.Fatalf("IRQ's pages: %v, want the second case's confirmation then the first's", pages)
	}
	got := pages[1]
	if got.GetMission() != "IRQ" || got.GetAssignee() != "" || got.GetVersion() != 3 || !isOpen(got) ||
		!sameDay(got.GetDueDate(), 2025, 6, 9) || !got.GetCreateTime().AsTime().Equal(confirm.GetCreateTime().AsTime()) {
		t.Errorf("moved: %v; want IRQ's, unassigned, at version 3 (created, assigned, moved), due 9 June as before", got)
	}
	if ev := b.events(t, got.GetFollowUpId()); ev[created] != 1 || ev[due] != 1 || ev[moved] != 1 {
		t.Errorf("events %v, want its history and one FollowUpMoved", ev)
	}
	for _, e := range b.followUpEvents(t, got.GetFollowUpId()) {
		if m, ok := e.Payload.(*followupv1.FollowUpMoved); ok &&
			(e.Mission != "IRQ" || m.GetFromMission() != "DEU" || m.GetHandoverId() != grant.GetHandoverId()) {
			t.Errorf("FollowUpMoved under %s: %v", e.Mission, m)
		}
	}

	// DEU lists and reads them no more; nor does a third mission.
	if l := b.list(t, b.boss, followupv1.StateFilter_STATE_FILTER_ALL); len(l) != 0 {
		t.Errorf("DEU's list: %v, want none", l)
	}
	mine, err := b.client.ListFollowUps(b.worker, &followupv1.ListFollowUpsRequest{})
	if err != nil || len(mine.GetFollowUps()) != 0 {
		t.Errorf("the DEU caseworker's own: %v, %v; want none", mine.GetFollowUps(), err)
	}
	for _, ctx := range []context.Context{b.boss, b.other} {
		_, err := b.client.GetFollowUp(ctx, &followupv1.GetFollowUpRequest{FollowUpId: got.GetFollowUpId()})
		testserver.WantCode(t, err, codes.NotFound)
		_, err = b.client.ListFollowUps(ctx, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION, CaseId: first})
		testserver.WantCode(t, err, codes.NotFound)
	}
	if l := b.list(t, b.other, followupv1.StateFilter_STATE_FILTER_ALL); len(l) != 0 {
		t.Errorf("NER's list: %v, want none", l)
	}

	// Their due reminders were written in DEU; the overdue ones come in IRQ, once.
	b.wantReminders(t, 0, "on 7 June again, after the move")
	b.clock.set(day(2025, 6, 10))
	b.wantReminders(t, 2, "on 10 June, both overdue")
	b.wantReminders(t, 0, "a second run on 10 June")
	if d, o := b.eventMissions(t, got.GetFollowUpId(), due), b.eventMissions(t, got.GetFollowUpId(), overdue); len(d) != 1 || d[0] != "DEU" ||
		len(o) != 1 || o[0] != "IRQ" {
		t.Errorf("reminders under %v (due) and %v (overdue), want DEU's before the move and IRQ's after", d, o)
	}

	// IRQ closes the first: a retry answers alike, a stale version and DEU are refused.
	closeReq := &followupv1.CloseFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: got.GetFollowUpId(), Version: 2,
		Outcome: followupv1.Outcome_OUTCOME_DONE}
	_, err = b.client.CloseFollowUp(irq, closeReq)
	testserver.WantCode(t, err, codes.FailedPrecondition)
	closeReq.RequestId, closeReq.Version = uuid.NewString(), 3
	_, err = b.client.CloseFollowUp(b.boss, closeReq)
	testserver.WantCode(t, err, codes.NotFound)
	closeReq.RequestId = uuid.NewString()
	done, err := b.client.CloseFollowUp(irq, closeReq)
	if err != nil {
		t.Fatalf("IRQ closes: %v", err)
	}
	if f := done.GetFollowUp(); !isClosed(f, followupv1.Outcome_OUTCOME_DONE) || f.GetVersion() != 4 || f.GetMission() != "IRQ" ||
		f.GetClosedBy() != "staff-supervisor" {
		t.Errorf("closed by IRQ: %v", f)
	}
	again, err := b.client.CloseFollowUp(irq, closeReq)
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if diff := cmp.Diff(done, again, protocmp.Transform()); diff != "" {
		t.Errorf("the retry answers otherwise (-first +retry):\n%s", diff)
	}

	// The grant read again, then IRQ's arrival of the second case: once the arrival's
	// follow-ups show, the consumer has read the grant again, and it moved nothing.
	b.republish(t, grant)
	b.arrived(t, second)
	fs := b.awaitCaseAs(t, irq, second, "IRQ's visits", func(fs []*followupv1.FollowUp) bool { return len(fs) == 4 })
	if ev := b.events(t, got.GetFollowUpId()); ev[moved] != 1 || ev[closed] != 1 {
		t.Errorf("after the grant read again: events %v, want one move and one close", ev)
	}
	if f, err := b.client.GetFollowUp(irq, &followupv1.GetFollowUpRequest{FollowUpId: got.GetFollowUpId()}); err != nil ||
		f.GetFollowUp().GetVersion() != 4 || !isClosed(f.GetFollowUp(), followupv1.Outcome_OUTCOME_DONE) {
		t.Errorf("after the grant read again: %v, %v; want it as IRQ closed it", f.GetFollowUp(), err)
	}

	// The first visit is missed: on 20 September it is overdue in IRQ's list, and DEU's
	// reintegration plan (DEU kept that part) in DEU's.
	b.clock.set(day(2025, 9, 20))
	irqOverdue := b.list(t, irq, followupv1.StateFilter_STATE_FILTER_OVERDUE)
	visit := byKind(fs, visitKind, 1)
	if len(irqOverdue) != 1 || irqOverdue[0].GetFollowUpId() != visit.GetFollowUpId() || !irqOverdue[0].GetOverdue() {
		t.Errorf("IRQ's overdue on 20 September: %v, want the second case's first visit", irqOverdue)
	}
	if deuOverdue := b.list(t, b.boss, followupv1.StateFilter_STATE_FILTER_OVERDUE); len(deuOverdue) != 1 ||
		deuOverdue[0].GetKind() != planKind || deuOverdue[0].GetCaseId() != second {
		t.Errorf("DEU's overdue on 20 September: %v, want the second case's reintegration plan", deuOverdue)
	}
	if l := b.list(t, b.other, followupv1.StateFilter_STATE_FILTER_ALL); len(l) != 0 {
		t.Errorf("NER's list: %v, want none", l)
	}
}
