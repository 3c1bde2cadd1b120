package followup_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// openFollowUp makes one open follow-up in DEU (a VoT review, from an assistance record) and
// returns it.
func (b *bundle) openFollowUp(t *testing.T) *followupv1.FollowUp {
	t.Helper()
	caseID := uuid.NewString()
	b.publish(t, "trafficking", "DEU", caseID, &traffickingv1.AssistanceProvided{
		VictimCase: &traffickingv1.VictimCase{CaseId: caseID, Mission: "DEU"},
		Assistance: &traffickingv1.Assistance{AssistanceId: uuid.NewString(), StartDate: day(2025, 6, 1)},
	})
	fs := b.awaitCase(t, caseID, "the review", func(fs []*followupv1.FollowUp) bool { return len(fs) == 1 })
	return fs[0]
}

// TestCloseFollowUp: a caseworker closes a follow-up at the version read, as a normal
// mutation: one event, one audit record; the retry of the request answers alike and changes
// nothing; a stale version and a second close are refused.
func TestCloseFollowUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := b.openFollowUp(t)
	req := &followupv1.CloseFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: f.GetFollowUpId(), Version: 1,
		Outcome: followupv1.Outcome_OUTCOME_NOT_NEEDED, NotNeededReason: followupv1.NotNeededReason_NOT_NEEDED_REASON_PERSON_DECLINED}
	first, err := b.client.CloseFollowUp(b.worker, req)
	if err != nil {
		t.Fatalf("CloseFollowUp: %v", err)
	}
	got := first.GetFollowUp()
	if !isClosed(got, followupv1.Outcome_OUTCOME_NOT_NEEDED) || got.GetVersion() != 2 || got.GetClosedBy() != "staff-caseworker" ||
		got.GetNotNeededReason() != followupv1.NotNeededReason_NOT_NEEDED_REASON_PERSON_DECLINED || !sameDay(got.GetClosedDate(), 2025, 6, 1) {
		t.Errorf("closed: %v", got)
	}
	again, err := b.client.CloseFollowUp(b.worker, req)
	if err != nil {
		t.Fatalf("the retry: %v", err)
	}
	if diff := cmp.Diff(first, again, protocmp.Transform()); diff != "" {
		t.Errorf("the retry answers otherwise (-first +retry):\n%s", diff)
	}
	if ev := b.events(t, f.GetFollowUpId()); ev[closed] != 1 {
		t.Errorf("events %v, want one FollowUpClosed", ev)
	}
	if records := b.env.AuditRecords(t, followupv1.FollowUpService_CloseFollowUp_FullMethodName); len(records) != 1 ||
		records[0].AggregateID != f.GetFollowUpId() || records[0].Mission != "DEU" || records[0].ClientRequestID != req.GetRequestId() {
		t.Errorf("audit records %v, want one for the follow-up", records)
	}

	stale := &followupv1.CloseFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: f.GetFollowUpId(), Version: 1,
		Outcome: followupv1.Outcome_OUTCOME_DONE}
	_, err = b.client.CloseFollowUp(b.worker, stale)
	if st := testserver.WantCode(t, err, codes.FailedPrecondition); st.Message() != "the follow-up changed since it was read: it is at version 2" {
		t.Errorf("stale version: %v", st.Message())
	}
	stale.Version, stale.RequestId = 2, uuid.NewString()
	_, err = b.client.CloseFollowUp(b.worker, stale)
	testserver.WantCode(t, err, codes.FailedPrecondition)
	if ev := b.events(t, f.GetFollowUpId()); ev[closed] != 1 {
		t.Errorf("refused closes wrote events: %v", ev)
	}
}

// TestAssignFollowUp: supervisors assign; the assignee finds it under "mine"; the case's
// later follow-ups have no assignee of their own (they are the case's assignees' in intake:
// assignees_test.go); caseworkers may not assign nor list another's.
func TestAssignFollowUp(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := b.openFollowUp(t)
	b.env.Provision(t, "staff-amira", auth.RoleCaseworker, "DEU")
	req := &followupv1.AssignFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: f.GetFollowUpId(), Version: 1, Assignee: "staff-amira"}
	_, err := b.client.AssignFollowUp(b.worker, req)
	testserver.WantCode(t, err, codes.PermissionDenied)
	resp, err := b.client.AssignFollowUp(b.boss, req)
	if err != nil {
		t.Fatalf("AssignFollowUp: %v", err)
	}
	if resp.GetFollowUp().GetAssignee() != "staff-amira" || resp.GetFollowUp().GetVersion() != 2 {
		t.Errorf("assigned: %v", resp.GetFollowUp())
	}

	amira := b.env.AsStaff(t, "staff-amira", auth.RoleCaseworker, "DEU")
	mine, err := b.client.ListFollowUps(amira, &followupv1.ListFollowUpsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(mine.GetFollowUps()) != 1 || mine.GetFollowUps()[0].GetFollowUpId() != f.GetFollowUpId() {
		t.Errorf("amira's follow-ups: %v", mine.GetFollowUps())
	}
	if others, err := b.client.ListFollowUps(b.worker, &followupv1.ListFollowUpsRequest{}); err != nil || len(others.GetFollowUps()) != 0 {
		t.Errorf("another caseworker's own list: %v, %v", others.GetFollowUps(), err)
	}
	staff, err := b.client.ListFollowUps(b.boss, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_STAFF, StaffSubject: "staff-amira"})
	if err != nil || len(staff.GetFollowUps()) != 1 {
		t.Errorf("the supervisor lists amira's: %v, %v", staff.GetFollowUps(), err)
	}
	_, err = b.client.ListFollowUps(b.worker, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_STAFF, StaffSubject: "staff-amira"})
	testserver.WantCode(t, err, codes.PermissionDenied)

	// The case's next follow-up is not amira's: assigning one follow-up assigns that one only.
	b.publish(t, "trafficking", "DEU", f.GetCaseId(), &traffickingv1.AssistanceProvided{
		VictimCase: &traffickingv1.VictimCase{CaseId: f.GetCaseId(), Mission: "DEU"},
		Assistance: &traffickingv1.Assistance{AssistanceId: uuid.NewString(), StartDate: day(2025, 7, 1)},
	})
	fs := b.awaitCase(t, f.GetCaseId(), "the second review", func(fs []*followupv1.FollowUp) bool { return len(fs) == 2 })
	if fs[1].GetAssignee() != "" {
		t.Errorf("the case's next follow-up: assignee %q, want none of its own", fs[1].GetAssignee())
	}
	if mine, err := b.client.ListFollowUps(amira, &followupv1.ListFollowUpsRequest{}); err != nil || len(mine.GetFollowUps()) != 1 {
		t.Errorf("amira's follow-ups after the case's next: %v, %v; want the one assigned", mine.GetFollowUps(), err)
	}
	if ev := b.events(t, f.GetFollowUpId()); ev["passage.followup.v1.FollowUpAssigned"] != 1 {
		t.Errorf("events %v, want one FollowUpAssigned", ev)
	}
}

// TestMissionIsolation: another mission sees none of DEU's follow-ups, by list or by id, and
// cannot close or assign one: NOT_FOUND, as for one that does not exist.
func TestMissionIsolation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := b.openFollowUp(t)
	nerBoss := b.env.As(t, auth.RoleSupervisor, "NER")
	list, err := b.client.ListFollowUps(nerBoss, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION,
		State: followupv1.StateFilter_STATE_FILTER_ALL})
	if err != nil || len(list.GetFollowUps()) != 0 {
		t.Errorf("NER lists %v, %v", list.GetFollowUps(), err)
	}
	_, err = b.client.GetFollowUp(b.other, &followupv1.GetFollowUpRequest{FollowUpId: f.GetFollowUpId()})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.ListFollowUps(nerBoss, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION, CaseId: f.GetCaseId()})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.CloseFollowUp(b.other, &followupv1.CloseFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: f.GetFollowUpId(),
		Version: 1, Outcome: followupv1.Outcome_OUTCOME_DONE})
	testserver.WantCode(t, err, codes.NotFound)
	_, err = b.client.AssignFollowUp(nerBoss, &followupv1.AssignFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: f.GetFollowUpId(),
		Version: 1, Assignee: "staff-x"})
	testserver.WantCode(t, err, codes.NotFound)
	got, err := b.client.GetFollowUp(b.worker, &followupv1.GetFollowUpRequest{FollowUpId: f.GetFollowUpId()})
	if err != nil || got.GetFollowUp().GetVersion() != 1 || !isOpen(got.GetFollowUp()) {
		t.Errorf("DEU's follow-up after NER's attempts: %v, %v", got.GetFollowUp(), err)
	}
}

// TestVoTAndHASM: a VoT assistance record makes its review due 30 days after it starts, once
// (its end date's event adds none); the victim case closed closes it, not needed. A HASM
// departure makes the arrival confirmation due 14 days later; the arrival closes it, done.
func TestVoTAndHASM(t *testing.T) {
	t.Parallel()
	b := setup(t)
	victim := uuid.NewString()
	assistance := &traffickingv1.Assistance{AssistanceId: uuid.NewString(), StartDate: day(2025, 6, 1)}
	vc := &traffickingv1.VictimCase{CaseId: victim, Mission: "DEU"}
	b.publish(t, "trafficking", "DEU", victim, &traffickingv1.AssistanceProvided{VictimCase: vc, Assistance: assistance})
	ended := &traffickingv1.Assistance{AssistanceId: assistance.GetAssistanceId(), StartDate: day(2025, 6, 1), EndDate: day(2025, 6, 20)}
	b.publish(t, "trafficking", "DEU", victim, &traffickingv1.AssistanceProvided{VictimCase: vc, Assistance: ended})
	b.publish(t, "trafficking", "DEU", victim, &traffickingv1.VictimCaseClosed{VictimCase: vc})
	fs := b.awaitCase(t, victim, "the review closed", func(fs []*followupv1.FollowUp) bool {
		return len(fs) == 1 && isClosed(fs[0], followupv1.Outcome_OUTCOME_NOT_NEEDED)
	})
	if fs[0].GetKind() != followupv1.FollowUpKind_FOLLOW_UP_KIND_ASSISTANCE_REVIEW || !sameDay(fs[0].GetDueDate(), 2025, 7, 1) ||
		fs[0].GetProgramme() != commonv1.Programme_PROGRAMME_VOT {
		t.Errorf("the VoT review: %v", fs[0])
	}

	hasmCase := uuid.NewString()
	b.publish(t, "hasm", "DEU", hasmCase, &commonv1.DepartureRecorded{CaseId: hasmCase, Mission: "DEU",
		Programme: commonv1.Programme_PROGRAMME_HASM, DepartureDate: day(2025, 6, 10)})
	fs = b.awaitCase(t, hasmCase, "the HASM confirmation", func(fs []*followupv1.FollowUp) bool { return len(fs) == 1 })
	if !isOpen(fs[0]) || !sameDay(fs[0].GetDueDate(), 2025, 6, 24) || fs[0].GetProgramme() != commonv1.Programme_PROGRAMME_HASM {
		t.Errorf("the HASM arrival confirmation: %v", fs[0])
	}
	b.publish(t, "hasm", "DEU", hasmCase, &hasmv1.ArrivalRecorded{Request: &hasmv1.AssistanceRequest{CaseId: hasmCase, Mission: "DEU"}})
	b.awaitCase(t, hasmCase, "the HASM confirmation closed", func(fs []*followupv1.FollowUp) bool {
		return isClosed(fs[0], followupv1.Outcome_OUTCOME_DONE)
	})
}

// traffickingAssistance is an assistance record of a victim case in DEU starting on a day of
// June 2025.
type traffickingAssistance struct {
	caseID string
	day    int32
}

func (a traffickingAssistance) event() *traffickingv1.AssistanceProvided {
	return &traffickingv1.AssistanceProvided{
		VictimCase: &traffickingv1.VictimCase{CaseId: a.caseID, Mission: "DEU"},
		Assistance: &traffickingv1.Assistance{AssistanceId: uuid.NewString(), StartDate: day(2025, 6, a.day)},
	}
}
