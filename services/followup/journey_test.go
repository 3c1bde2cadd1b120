package followup_test

import (
	"testing"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"

	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
)

const (
	created = "passage.followup.v1.FollowUpCreated"
	closed  = "passage.followup.v1.FollowUpClosed"
	due     = "passage.followup.v1.FollowUpDue"
	overdue = "passage.followup.v1.FollowUpOverdue"
)

// TestAVRRFollowUps tells an AVRR return's follow-ups through the public APIs: the departure
// makes the arrival confirmation due a week later; the arrival closes it and makes the
// reintegration plan and the three monitoring visits due; the plan closes its follow-up; the
// first visit is missed and shows overdue, then is recorded late and closed; closing the
// return closes the rest as not needed. Each reminder is written once.
func TestAVRRFollowUps(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.clock.set(day(2025, 6, 1))
	r := b.departed(t, day(2025, 6, 2))
	caseID := r.GetCaseId()

	fs := b.awaitCase(t, caseID, "the arrival confirmation", func(fs []*followupv1.FollowUp) bool { return len(fs) == 1 })
	confirm := fs[0]
	if confirm.GetKind() != followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION || !isOpen(confirm) ||
		!sameDay(confirm.GetDueDate(), 2025, 6, 9) || !sameDay(confirm.GetRemindDate(), 2025, 6, 7) ||
		confirm.GetMission() != "DEU" || confirm.GetAssignee() != "" || confirm.GetVersion() != 1 || confirm.GetOverdue() {
		t.Fatalf("after departure on 2 June: %v", confirm)
	}
	if n := b.remind(t); n != 0 {
		t.Errorf("on 1 June nothing is due, but the reminder job wrote %d events", n)
	}
	b.clock.set(day(2025, 6, 7))
	if n := b.remind(t); n != 1 {
		t.Errorf("on 7 June the arrival confirmation is due: %d events, want 1", n)
	}
	if n := b.remind(t); n != 0 {
		t.Errorf("a second run on 7 June wrote %d events, want none", n)
	}

	r = b.step(t, "RecordArrival", func(v int64) (*returnsv1.Return, error) {
		resp, err := b.returns.RecordArrival(b.worker, &returnsv1.RecordArrivalRequest{RequestId: uuid.NewString(), CaseId: caseID, Version: v,
			Arrival: &returnsv1.Arrival{ArrivalDate: day(2025, 6, 3)}})
		return resp.GetReturn(), err
	}, r)
	fs = b.awaitCase(t, caseID, "the arrival's follow-ups", func(fs []*followupv1.FollowUp) bool { return len(fs) == 5 })
	confirm = byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION, 1)
	if !isClosed(confirm, followupv1.Outcome_OUTCOME_DONE) || confirm.GetClosedBy() != "" || confirm.GetVersion() != 2 ||
		!sameDay(confirm.GetClosedDate(), 2025, 6, 7) {
		t.Errorf("the arrival closes its confirmation, done, by the service: %v", confirm)
	}
	plan := byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_REINTEGRATION_PLAN, 1)
	visits := []*followupv1.FollowUp{
		byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, 1),
		byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, 2),
		byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, 3),
	}
	if !isOpen(plan) || !sameDay(plan.GetDueDate(), 2025, 7, 1) {
		t.Errorf("the reintegration plan is due four weeks after arrival: %v", plan)
	}
	for i, want := range [][3]int32{{2025, 9, 3}, {2025, 12, 3}, {2026, 6, 3}} {
		if !isOpen(visits[i]) || !sameDay(visits[i].GetDueDate(), want[0], want[1], want[2]) {
			t.Errorf("monitoring visit %d is due %v: %v", i+1, want, visits[i])
		}
	}

	r = b.step(t, "SetReintegrationPlan", func(v int64) (*returnsv1.Return, error) {
		resp, err := b.returns.SetReintegrationPlan(b.worker, &returnsv1.SetReintegrationPlanRequest{RequestId: uuid.NewString(), CaseId: caseID,
			Version: v, Plan: &returnsv1.ReintegrationPlan{PlanDate: day(2025, 6, 20),
				Economic: []returnsv1.AssistanceType{returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP}}})
		return resp.GetReturn(), err
	}, r)
	b.awaitCase(t, caseID, "the plan's follow-up closed", func(fs []*followupv1.FollowUp) bool {
		return isClosed(byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_REINTEGRATION_PLAN, 1), followupv1.Outcome_OUTCOME_DONE)
	})

	// The first visit is missed: on 20 September it is overdue, and stays so.
	b.clock.set(day(2025, 9, 20))
	overdueList, err := b.client.ListFollowUps(b.boss, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION,
		State: followupv1.StateFilter_STATE_FILTER_OVERDUE, CaseId: caseID})
	if err != nil {
		t.Fatal(err)
	}
	if got := overdueList.GetFollowUps(); len(got) != 1 || got[0].GetFollowUpId() != visits[0].GetFollowUpId() || !got[0].GetOverdue() {
		t.Fatalf("overdue on 20 September: %v, want the first visit", got)
	}
	if n := b.remind(t); n != 2 {
		t.Errorf("on 20 September the first visit is due and overdue at once: %d events, want 2", n)
	}
	if n := b.remind(t); n != 0 {
		t.Errorf("a second run wrote %d events, want none", n)
	}
	b.clock.set(day(2025, 10, 20))
	if n := b.remind(t); n != 0 {
		t.Errorf("a month later the missed visit is still overdue, but its reminders were written: %d events", n)
	}
	if got := b.caseFollowUps(t, b.boss, caseID); !byKind(got, followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, 1).GetOverdue() {
		t.Errorf("a missed visit stays overdue until closed")
	}

	// Recorded late, the visit closes the earliest open one: the first.
	r = b.step(t, "RecordMonitoringVisit", func(v int64) (*returnsv1.Return, error) {
		resp, err := b.returns.RecordMonitoringVisit(b.worker, &returnsv1.RecordMonitoringVisitRequest{RequestId: uuid.NewString(), CaseId: caseID,
			Version: v, Visit: &returnsv1.MonitoringVisit{VisitDate: day(2025, 10, 15),
				EconomicScore: proto.Float64(0.4), SocialScore: proto.Float64(0.5), PsychosocialScore: proto.Float64(0.6)}})
		return resp.GetReturn(), err
	}, r)
	fs = b.awaitCase(t, caseID, "the first visit closed", func(fs []*followupv1.FollowUp) bool {
		return isClosed(byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, 1), followupv1.Outcome_OUTCOME_DONE)
	})
	if !isOpen(byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, 2)) {
		t.Errorf("the second visit stays open after the first is recorded: %v", fs)
	}

	b.step(t, "CloseReturn", func(v int64) (*returnsv1.Return, error) {
		resp, err := b.returns.CloseReturn(b.worker, &returnsv1.CloseReturnRequest{RequestId: uuid.NewString(), CaseId: caseID, Version: v,
			Reason: returnsv1.ClosureReason_CLOSURE_REASON_LOST_CONTACT})
		return resp.GetReturn(), err
	}, r)
	fs = b.awaitCase(t, caseID, "the rest closed", func(fs []*followupv1.FollowUp) bool {
		return isClosed(byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, 3), followupv1.Outcome_OUTCOME_NOT_NEEDED)
	})
	for _, f := range fs {
		if f.GetState() != followupv1.FollowUpState_FOLLOW_UP_STATE_CLOSED {
			t.Errorf("after the return is closed, a follow-up is open: %v", f)
		}
	}
	for _, occ := range []int32{2, 3} {
		v := byKind(fs, followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, occ)
		if v.GetNotNeededReason() != followupv1.NotNeededReason_NOT_NEEDED_REASON_CASE_CLOSED {
			t.Errorf("visit %d closed with %v, want CASE_CLOSED", occ, v.GetNotNeededReason())
		}
	}

	// Every follow-up was created once and closed once; only the confirmation and the
	// missed visit got reminders, once each.
	want := map[string]map[string]int{
		confirm.GetFollowUpId():   {created: 1, closed: 1, due: 1},
		plan.GetFollowUpId():      {created: 1, closed: 1},
		visits[0].GetFollowUpId(): {created: 1, closed: 1, due: 1, overdue: 1},
		visits[1].GetFollowUpId(): {created: 1, closed: 1},
		visits[2].GetFollowUpId(): {created: 1, closed: 1},
	}
	for id, w := range want {
		got := b.events(t, id)
		if len(got) != len(w) {
			t.Errorf("follow-up %s: events %v, want %v", id, got, w)
			continue
		}
		for typ, n := range w {
			if got[typ] != n {
				t.Errorf("follow-up %s: events %v, want %v", id, got, w)
			}
		}
	}
}
