package followup

import (
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/protobuf/proto"

	"github.com/passage-cm/passage/internal/civildate"
	"github.com/passage-cm/passage/internal/database"
	"github.com/passage-cm/passage/internal/enumcode"
	"github.com/passage-cm/passage/internal/handoverpart"
	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	staffv1 "github.com/passage-cm/passage/proto/gen/passage/staff/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// programmeEvents are the events that create and close follow-ups; every other is passed over.
var programmeEvents = []string{
	name(&commonv1.DepartureRecorded{}),
	name(&returnsv1.ArrivalRecorded{}),
	name(&returnsv1.ReintegrationPlanSet{}),
	name(&returnsv1.MonitoringVisitRecorded{}),
	name(&returnsv1.ReturnClosed{}),
	name(&traffickingv1.AssistanceProvided{}),
	name(&traffickingv1.VictimCaseClosed{}),
	name(&hasmv1.ArrivalRecorded{}),
	name(&hasmv1.RequestClosed{}),
}

func name(m proto.Message) string { return string(proto.MessageName(m)) }

// plan is what one event does to its case's follow-ups: close some, then create some.
type plan struct {
	caseID    string
	programme commonv1.Programme

	// close: the case's open follow-ups of these kinds (only the earliest due with
	// earliestOnly), with this outcome.
	close        []followupv1.FollowUpKind
	earliestOnly bool
	outcome      followupv1.Outcome
	reason       followupv1.NotNeededReason

	// create: every follow-up of these kinds the programme's schedule has, due after anchor;
	// source tells apart several of one kind on the case (a VoT review per assistance record).
	create []followupv1.FollowUpKind
	anchor *date.Date
	source string
}

var (
	done       = followupv1.Outcome_OUTCOME_DONE
	notNeeded  = followupv1.Outcome_OUTCOME_NOT_NEEDED
	caseClosed = followupv1.NotNeededReason_NOT_NEEDED_REASON_CASE_CLOSED
	every      = []followupv1.FollowUpKind{arrivalConfirmation, reintegrationPlan, monitoringVisit, assistanceReview}
)

// planFor reads what event m does, or nil for nothing.
//
//   - A departure (AVRR or HASM) creates the arrival confirmation.
//   - An AVRR arrival closes it, done, and creates the reintegration plan and the monitoring
//     visits; a HASM arrival closes it, done.
//   - A reintegration plan closes its follow-up, done; a monitoring visit the earliest open
//     visit, done, so that a visit recorded late settles the one it makes up for.
//   - A VoT assistance record creates its review (once: the record's second event, its end
//     date, finds it made).
//   - A closed return, victim case or HASM request closes what is left, not needed.
func planFor(m proto.Message) *plan {
	switch e := m.(type) {
	case *commonv1.DepartureRecorded:
		if e.GetProgramme() != commonv1.Programme_PROGRAMME_AVRR && e.GetProgramme() != commonv1.Programme_PROGRAMME_HASM {
			return nil
		}
		return &plan{caseID: e.GetCaseId(), programme: e.GetProgramme(),
			create: []followupv1.FollowUpKind{arrivalConfirmation}, anchor: e.GetDepartureDate()}
	case *returnsv1.ArrivalRecorded:
		return &plan{caseID: e.GetCaseId(), programme: commonv1.Programme_PROGRAMME_AVRR,
			close: []followupv1.FollowUpKind{arrivalConfirmation}, outcome: done,
			create: []followupv1.FollowUpKind{reintegrationPlan, monitoringVisit}, anchor: e.GetArrival().GetArrivalDate()}
	case *returnsv1.ReintegrationPlanSet:
		return &plan{caseID: e.GetCaseId(), programme: commonv1.Programme_PROGRAMME_AVRR,
			close: []followupv1.FollowUpKind{reintegrationPlan}, outcome: done}
	case *returnsv1.MonitoringVisitRecorded:
		return &plan{caseID: e.GetCaseId(), programme: commonv1.Programme_PROGRAMME_AVRR,
			close: []followupv1.FollowUpKind{monitoringVisit}, earliestOnly: true, outcome: done}
	case *returnsv1.ReturnClosed:
		return &plan{caseID: e.GetCaseId(), programme: commonv1.Programme_PROGRAMME_AVRR,
			close: every, outcome: notNeeded, reason: caseClosed}
	case *traffickingv1.AssistanceProvided:
		return &plan{caseID: e.GetVictimCase().GetCaseId(), programme: commonv1.Programme_PROGRAMME_VOT,
			create: []followupv1.FollowUpKind{assistanceReview}, anchor: e.GetAssistance().GetStartDate(),
			source: e.GetAssistance().GetAssistanceId()}
	case *traffickingv1.VictimCaseClosed:
		return &plan{caseID: e.GetVictimCase().GetCaseId(), programme: commonv1.Programme_PROGRAMME_VOT,
			close: every, outcome: notNeeded, reason: caseClosed}
	case *hasmv1.ArrivalRecorded:
		return &plan{caseID: e.GetRequest().GetCaseId(), programme: commonv1.Programme_PROGRAMME_HASM,
			close: []followupv1.FollowUpKind{arrivalConfirmation}, outcome: done}
	case *hasmv1.RequestClosed:
		return &plan{caseID: e.GetRequest().GetCaseId(), programme: commonv1.Programme_PROGRAMME_HASM,
			close: every, outcome: notNeeded, reason: caseClosed}
	}
	return nil
}

// consumed are the events the consumer reads: the programmes', intake's case assignments and
// staff directory changes (a leaver's follow-ups), and the hand-over service's acceptances.
var consumed = slices.Concat(programmeEvents, []string{assignmentEvent, leaverEvent}, handoverpart.Events)

// apply applies one event of consumed inside the consumer's transaction.
func (s *Service) apply(ctx context.Context, tx pgx.Tx, r outbox.Record) error {
	m, err := r.Decode()
	if err != nil {
		return err
	}
	if e, ok := m.(*intakev1.CaseAssignmentChanged); ok {
		return applyAssignment(ctx, tx, r, e)
	}
	if e, ok := m.(*staffv1.StaffMemberChanged); ok {
		return s.releaseLeaver(ctx, tx, e)
	}
	if g, ok, err := handoverpart.Of(m, r.OccurredAt); ok || err != nil {
		if err != nil {
			return err
		}
		return s.applyGrant(ctx, tx, r, g)
	}
	return s.applyProgrammeEvent(ctx, tx, r, m)
}

// applyProgrammeEvent applies one programme event m, recorded as r: it closes and creates the
// case's follow-ups as planFor says, each kind's under the mission whose follow-ups of that
// kind are (missionsOf: the holder of the kind's part), and writes a FollowUpClosed or
// FollowUpCreated event for each under that mission. A follow-up is closed where it is, so
// that one created by a mission and moved by a hand-over is closed by an event of either. The
// follow-ups created are unique per case, programme, kind, occurrence and source, so an event
// seen again creates nothing twice.
func (s *Service) applyProgrammeEvent(ctx context.Context, tx pgx.Tx, r outbox.Record, m proto.Message) error {
	p := planFor(m)
	if p == nil {
		return nil
	}
	if err := database.DeclareMission(ctx, tx, r.Mission); err != nil {
		return err
	}
	missions, err := missionsOf(ctx, tx, r, p)
	if err != nil {
		return err
	}
	declared := r.Mission
	for _, mp := range splitByMission(p, missions) {
		if mp.mission != declared {
			if err := database.DeclareMission(ctx, tx, mp.mission); err != nil {
				return err
			}
			declared = mp.mission
		}
		if err := s.applyPlan(ctx, tx, mp.mission, mp.plan); err != nil {
			return err
		}
	}
	return nil
}

// missionPlan is the part of a plan that one mission's follow-ups take.
type missionPlan struct {
	mission string
	plan    *plan
}

// splitByMission splits p by the mission of each kind, in the order of the plan's kinds.
func splitByMission(p *plan, missions map[followupv1.FollowUpKind]string) []missionPlan {
	var out []missionPlan
	of := func(k followupv1.FollowUpKind) *plan {
		for _, mp := range out {
			if mp.mission == missions[k] {
				return mp.plan
			}
		}
		part := *p
		part.close, part.create = nil, nil
		out = append(out, missionPlan{mission: missions[k], plan: &part})
		return &part
	}
	for _, k := range p.close {
		q := of(k)
		q.close = append(q.close, k)
	}
	for _, k := range p.create {
		q := of(k)
		q.create = append(q.create, k)
	}
	return out
}

// applyPlan closes and creates mission's follow-ups as p says, mission declared in tx, and
// writes the events.
func (s *Service) applyPlan(ctx context.Context, tx pgx.Tx, mission string, p *plan) error {
	now, today := s.clock(), s.today()
	var events []outbox.Event
	add := func(fs []*followupv1.FollowUp, event func(*followupv1.FollowUp) proto.Message) {
		for _, f := range fs {
			events = append(events, outbox.Event{Producer: producer, AggregateID: caseOf(f), Mission: mission, Payload: event(f)})
		}
	}
	if len(p.close) > 0 {
		closed, err := closeOpen(ctx, tx, p, now, today)
		if err != nil {
			return err
		}
		add(closed, func(f *followupv1.FollowUp) proto.Message { return &followupv1.FollowUpClosed{FollowUp: f} })
	}
	if len(p.create) > 0 && p.anchor != nil {
		created, err := create(ctx, tx, mission, p, now, today)
		if err != nil {
			return err
		}
		add(created, func(f *followupv1.FollowUp) proto.Message { return &followupv1.FollowUpCreated{FollowUp: f} })
	}
	return writeEvents(ctx, tx, events)
}

// writeEvents writes events to the outbox in tx, in one statement; none is nothing.
func writeEvents(ctx context.Context, tx pgx.Tx, events []outbox.Event) error {
	if len(events) == 0 {
		return nil
	}
	var st database.Statement
	if err := outbox.Add(&st, events); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, st.SQL(), st.Args()...)
	return err
}

// closeOpen closes the case's open follow-ups p names, as the service (closed_by empty), and
// returns them.
func closeOpen(ctx context.Context, tx pgx.Tx, p *plan, now, today time.Time) ([]*followupv1.FollowUp, error) {
	var limit *int
	if p.earliestOnly {
		limit = new(1)
	}
	var reason *string
	if p.reason != followupv1.NotNeededReason_NOT_NEEDED_REASON_UNSPECIFIED {
		reason = new(enumcode.Code(p.reason))
	}
	// The rows are chosen once, in a materialised CTE: a LIMIT ... FOR UPDATE subquery that
	// the plan rescans skips the rows the UPDATE has just changed and picks the next ones.
	return queryFollowUps(ctx, tx, today, "close follow-ups", `WITH target AS MATERIALIZED (SELECT follow_up_id FROM followup.follow_up
  WHERE case_id = $1 AND programme = $2 AND kind = ANY($3) AND state = 'OPEN'
  ORDER BY due_on, occurrence LIMIT $8 FOR UPDATE)
UPDATE followup.follow_up f SET state = 'CLOSED', outcome = $4, not_needed_reason = $5,
closed_on = $6, closed_by = '', version = version + 1, updated_at = $7
FROM target WHERE f.follow_up_id = target.follow_up_id
RETURNING `+qualified("f."),
		p.caseID, programmeCode(p.programme), kindCodes(p.close), enumcode.Code(p.outcome), reason, today, now, limit)
}

// create makes the follow-ups p names, due at the mission's schedule's delay after p.anchor,
// and returns those it made (none that the case had already). A new follow-up has no
// assignee of its own: it is its case's assignees' (store.go, listFollowUps) until a
// supervisor assigns it.
func create(ctx context.Context, tx pgx.Tx, mission string, p *plan, now, today time.Time) ([]*followupv1.FollowUp, error) {
	return queryFollowUps(ctx, tx, today, "create follow-ups", `WITH due AS (
  SELECT d.programme, d.kind, d.occurrence,
    ($5::date + make_interval(months => coalesce(o.due_after_months, d.due_after_months)::int,
                              days => coalesce(o.due_after_days, d.due_after_days)::int))::date AS due_on,
    coalesce(o.remind_days_before, d.remind_days_before) AS lead
  FROM followup.schedule_default d
  LEFT JOIN followup.schedule_override o ON o.mission = $1
    AND (o.programme, o.kind, o.occurrence) = (d.programme, d.kind, d.occurrence)
  WHERE d.programme = $3 AND d.kind = ANY($4)
)
INSERT INTO followup.follow_up AS f (follow_up_id, mission, case_id, programme, kind, occurrence, source, due_on, remind_on,
  state, assignee, version, created_at, updated_at)
SELECT gen_random_uuid(), $1, $2, programme, kind, occurrence, $6, due_on, due_on - lead, 'OPEN', '', 1, $7, $7
FROM due
ON CONFLICT (case_id, programme, kind, occurrence, source) DO NOTHING
RETURNING `+columns,
		mission, p.caseID, programmeCode(p.programme), kindCodes(p.create), civildate.ToTime(p.anchor), p.source, now)
}

func kindCodes(kinds []followupv1.FollowUpKind) []string { return enumcode.Codes(kinds) }
