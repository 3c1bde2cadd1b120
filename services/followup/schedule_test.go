package followup_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
)

// hasmDeparture publishes a HASM departure of a new case in DEU on 10 June 2025 and returns
// its follow-up.
func (b *bundle) hasmDeparture(t *testing.T) *followupv1.FollowUp {
	t.Helper()
	caseID := uuid.NewString()
	b.publish(t, "hasm", "DEU", caseID, &commonv1.DepartureRecorded{CaseId: caseID, Mission: "DEU",
		Programme: commonv1.Programme_PROGRAMME_HASM, DepartureDate: day(2025, 6, 10)})
	return b.awaitCase(t, caseID, "the HASM confirmation", func(fs []*followupv1.FollowUp) bool { return len(fs) == 1 })[0]
}

// TestSchedule: a mission reads the documented defaults at version 1; a supervisor overrides
// one; follow-ups created afterwards follow the override, those created before keep their
// dates; other missions keep the defaults; a stale version, a caseworker and an override of
// no default are refused.
func TestSchedule(t *testing.T) {
	t.Parallel()
	b := setup(t)
	got, err := b.client.GetSchedule(b.worker, &followupv1.GetScheduleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var defaults []string
	for _, e := range got.GetSchedule().GetEntries() {
		defaults = append(defaults, e.String())
	}
	want := []*followupv1.ScheduleEntry{
		{Programme: commonv1.Programme_PROGRAMME_AVRR, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION, Occurrence: 1, DueAfterDays: 7, RemindDaysBefore: 2},
		{Programme: commonv1.Programme_PROGRAMME_AVRR, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, Occurrence: 1, DueAfterMonths: 3, RemindDaysBefore: 14},
		{Programme: commonv1.Programme_PROGRAMME_AVRR, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, Occurrence: 2, DueAfterMonths: 6, RemindDaysBefore: 14},
		{Programme: commonv1.Programme_PROGRAMME_AVRR, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, Occurrence: 3, DueAfterMonths: 12, RemindDaysBefore: 14},
		{Programme: commonv1.Programme_PROGRAMME_AVRR, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_REINTEGRATION_PLAN, Occurrence: 1, DueAfterDays: 28, RemindDaysBefore: 7},
		{Programme: commonv1.Programme_PROGRAMME_HASM, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION, Occurrence: 1, DueAfterDays: 14, RemindDaysBefore: 3},
		{Programme: commonv1.Programme_PROGRAMME_VOT, Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_ASSISTANCE_REVIEW, Occurrence: 1, DueAfterDays: 30, RemindDaysBefore: 7},
	}
	var wantText []string
	for _, e := range want {
		wantText = append(wantText, e.String())
	}
	if diff := cmp.Diff(wantText, defaults); diff != "" || got.GetSchedule().GetVersion() != 1 {
		t.Errorf("the defaults at version %d (-want +got):\n%s", got.GetSchedule().GetVersion(), diff)
	}

	before := b.hasmDeparture(t)
	override := &followupv1.ScheduleEntry{Programme: commonv1.Programme_PROGRAMME_HASM,
		Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_ARRIVAL_CONFIRMATION, Occurrence: 1, DueAfterDays: 5, RemindDaysBefore: 1}
	set := &followupv1.SetScheduleRequest{RequestId: uuid.NewString(), Version: 1, Overrides: []*followupv1.ScheduleEntry{override}}
	_, err = b.client.SetSchedule(b.worker, set)
	testserver.WantCode(t, err, codes.PermissionDenied)
	resp, err := b.client.SetSchedule(b.boss, set)
	if err != nil {
		t.Fatalf("SetSchedule: %v", err)
	}
	if s := resp.GetSchedule(); s.GetVersion() != 2 || len(s.GetEntries()) != 7 || !s.GetEntries()[5].GetOverridden() || s.GetEntries()[5].GetDueAfterDays() != 5 {
		t.Errorf("after SetSchedule: %v", s)
	}
	reread, err := b.client.GetSchedule(b.worker, &followupv1.GetScheduleRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if reread.GetSchedule().String() != resp.GetSchedule().String() {
		t.Errorf("GetSchedule %v, SetSchedule answered %v", reread.GetSchedule(), resp.GetSchedule())
	}

	after := b.hasmDeparture(t)
	if !sameDay(after.GetDueDate(), 2025, 6, 15) || !sameDay(after.GetRemindDate(), 2025, 6, 14) {
		t.Errorf("created after the override: due %v remind %v, want 15 and 14 June", after.GetDueDate(), after.GetRemindDate())
	}
	if kept, err := b.client.GetFollowUp(b.worker, &followupv1.GetFollowUpRequest{FollowUpId: before.GetFollowUpId()}); err != nil ||
		!sameDay(kept.GetFollowUp().GetDueDate(), 2025, 6, 24) {
		t.Errorf("created before the override: %v, %v, want due on 24 June still", kept.GetFollowUp(), err)
	}
	ner, err := b.client.GetSchedule(b.other, &followupv1.GetScheduleRequest{})
	if err != nil || ner.GetSchedule().GetVersion() != 1 || ner.GetSchedule().GetEntries()[5].GetOverridden() {
		t.Errorf("NER's schedule: %v, %v", ner.GetSchedule(), err)
	}

	set.RequestId = uuid.NewString()
	_, err = b.client.SetSchedule(b.boss, set)
	testserver.WantCode(t, err, codes.FailedPrecondition)

	// Back to the defaults.
	if back, err := b.client.SetSchedule(b.boss, &followupv1.SetScheduleRequest{RequestId: uuid.NewString(), Version: 2}); err != nil ||
		back.GetSchedule().GetEntries()[5].GetOverridden() || back.GetSchedule().GetEntries()[5].GetDueAfterDays() != 14 {
		t.Errorf("an empty override list returns to the defaults: %v, %v", back.GetSchedule(), err)
	}
}

// TestInvalidArgument: every malformed request is refused INVALID_ARGUMENT naming its field,
// before anything is read or written.
func TestInvalidArgument(t *testing.T) {
	t.Parallel()
	b := setup(t)
	f := b.openFollowUp(t)
	id := f.GetFollowUpId()
	notAVisit := &followupv1.ScheduleEntry{Programme: commonv1.Programme_PROGRAMME_VOT,
		Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT, Occurrence: 1, DueAfterDays: 3}
	cases := []struct {
		name  string
		call  func() error
		field string
	}{
		{"list: staff scope without staff", func() error {
			_, err := b.client.ListFollowUps(b.boss, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_STAFF})
			return err
		}, "staff_subject"},
		{"list: staff without staff scope", func() error {
			_, err := b.client.ListFollowUps(b.boss, &followupv1.ListFollowUpsRequest{StaffSubject: "staff-amira"})
			return err
		}, "staff_subject"},
		{"list: page size", func() error {
			_, err := b.client.ListFollowUps(b.worker, &followupv1.ListFollowUpsRequest{PageSize: 1000})
			return err
		}, "page_size"},
		{"list: page token", func() error {
			_, err := b.client.ListFollowUps(b.worker, &followupv1.ListFollowUpsRequest{PageToken: "not-a-token"})
			return err
		}, "page_token"},
		{"list: due before", func() error {
			_, err := b.client.ListFollowUps(b.worker, &followupv1.ListFollowUpsRequest{DueBefore: day(2025, 13, 1)})
			return err
		}, "due_before"},
		{"list: case id", func() error {
			_, err := b.client.ListFollowUps(b.worker, &followupv1.ListFollowUpsRequest{CaseId: "case-1"})
			return err
		}, "case_id"},
		{"get: id", func() error {
			_, err := b.client.GetFollowUp(b.worker, &followupv1.GetFollowUpRequest{FollowUpId: "x"})
			return err
		}, "follow_up_id"},
		{"close: not needed without reason", func() error {
			_, err := b.client.CloseFollowUp(b.worker, &followupv1.CloseFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: id, Version: 1,
				Outcome: followupv1.Outcome_OUTCOME_NOT_NEEDED})
			return err
		}, "not_needed_reason"},
		{"close: done with a reason", func() error {
			_, err := b.client.CloseFollowUp(b.worker, &followupv1.CloseFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: id, Version: 1,
				Outcome: followupv1.Outcome_OUTCOME_DONE, NotNeededReason: followupv1.NotNeededReason_NOT_NEEDED_REASON_PERSON_UNREACHABLE})
			return err
		}, "not_needed_reason"},
		{"close: the service's own reason", func() error {
			_, err := b.client.CloseFollowUp(b.worker, &followupv1.CloseFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: id, Version: 1,
				Outcome: followupv1.Outcome_OUTCOME_NOT_NEEDED, NotNeededReason: followupv1.NotNeededReason_NOT_NEEDED_REASON_CASE_CLOSED})
			return err
		}, "not_needed_reason"},
		{"close: no outcome", func() error {
			_, err := b.client.CloseFollowUp(b.worker, &followupv1.CloseFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: id, Version: 1})
			return err
		}, "outcome"},
		{"close: version", func() error {
			_, err := b.client.CloseFollowUp(b.worker, &followupv1.CloseFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: id,
				Outcome: followupv1.Outcome_OUTCOME_DONE})
			return err
		}, "version"},
		{"close: request id", func() error {
			_, err := b.client.CloseFollowUp(b.worker, &followupv1.CloseFollowUpRequest{RequestId: "r", FollowUpId: id, Version: 1,
				Outcome: followupv1.Outcome_OUTCOME_DONE})
			return err
		}, "request_id"},
		{"assign: nobody", func() error {
			_, err := b.client.AssignFollowUp(b.boss, &followupv1.AssignFollowUpRequest{RequestId: uuid.NewString(), FollowUpId: id, Version: 1})
			return err
		}, "assignee"},
		{"schedule: occurrence", func() error {
			_, err := b.client.SetSchedule(b.boss, &followupv1.SetScheduleRequest{RequestId: uuid.NewString(), Version: 1,
				Overrides: []*followupv1.ScheduleEntry{{Programme: commonv1.Programme_PROGRAMME_AVRR,
					Kind: followupv1.FollowUpKind_FOLLOW_UP_KIND_MONITORING_VISIT}}})
			return err
		}, "overrides[0].occurrence"},
		{"schedule: no such default", func() error {
			_, err := b.client.SetSchedule(b.boss, &followupv1.SetScheduleRequest{RequestId: uuid.NewString(), Version: 1,
				Overrides: []*followupv1.ScheduleEntry{notAVisit}})
			return err
		}, "overrides[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := testserver.WantCode(t, c.call(), codes.InvalidArgument)
			if fields := testserver.FieldViolations(st); len(fields) != 1 || fields[0] != c.field {
				t.Errorf("fields %v, want [%s]", fields, c.field)
			}
		})
	}
	if got, err := b.client.GetFollowUp(b.worker, &followupv1.GetFollowUpRequest{FollowUpId: id}); err != nil || got.GetFollowUp().GetVersion() != 1 {
		t.Errorf("after the refusals: %v, %v", got.GetFollowUp(), err)
	}
}

// TestListPages: a mission's follow-ups page by due date then id, each once, and a token is
// bound to its filters.
func TestListPages(t *testing.T) {
	t.Parallel()
	b := setup(t)
	caseID := uuid.NewString()
	for i := range 5 {
		b.publish(t, "trafficking", "DEU", caseID, traffickingAssistance{caseID, int32(5 - i)}.event())
	}
	b.awaitCase(t, caseID, "five reviews", func(fs []*followupv1.FollowUp) bool { return len(fs) == 5 })
	var seen []string
	var last *followupv1.FollowUp
	req := &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_UNASSIGNED, PageSize: 2}
	for page := 0; ; page++ {
		resp, err := b.client.ListFollowUps(b.worker, req)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range resp.GetFollowUps() {
			if last != nil && !sameOrLater(f, last) {
				t.Errorf("%v listed after %v", f.GetDueDate(), last.GetDueDate())
			}
			seen, last = append(seen, f.GetFollowUpId()), f
		}
		if resp.GetNextPageToken() == "" {
			break
		}
		if page > 5 {
			t.Fatal("the pages do not end")
		}
		req.PageToken = resp.GetNextPageToken()
		if page == 0 {
			_, err := b.client.ListFollowUps(b.worker, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION, PageSize: 2,
				PageToken: req.GetPageToken()})
			testserver.WantCode(t, err, codes.InvalidArgument)
		}
	}
	if len(seen) != 5 {
		t.Errorf("listed %d follow-ups over the pages, want 5", len(seen))
	}
	before, err := b.client.ListFollowUps(b.worker, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_UNASSIGNED,
		DueBefore: day(2025, 7, 3)})
	if err != nil || len(before.GetFollowUps()) != 2 {
		t.Errorf("due before 3 July: %v, %v, want the reviews due on 1 and 2 July", before.GetFollowUps(), err)
	}
}

func sameOrLater(f, g *followupv1.FollowUp) bool {
	a, b := f.GetDueDate(), g.GetDueDate()
	return a.GetYear()*10000+a.GetMonth()*100+a.GetDay() >= b.GetYear()*10000+b.GetMonth()*100+b.GetDay()
}
