package projector_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/passage-cm/passage/internal/outbox"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
	"github.com/passage-cm/passage/services/analytics/projector"
)

const (
	avrr = commonv1.Programme_PROGRAMME_AVRR
	vot  = commonv1.Programme_PROGRAMME_VOT
	hasm = commonv1.Programme_PROGRAMME_HASM
)

// journeyCase is a case of programme p registered by mission in host, its principal (a woman)
// and, with household, a child of the same nationality, both counted in statistics.
func journeyCase(id, mission string, p commonv1.Programme, host, nationality string, household bool) *intakev1.Case {
	c := &intakev1.Case{
		CaseId: id, Mission: mission, Programme: p, Version: 1, Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED,
		HostCountry: host, RegistrationDate: day(2026, 1, 10), SubjectId: principal(id),
		Principal: &intakev1.CaseMember{SubjectId: principal(id), Sex: commonv1.Sex_SEX_FEMALE,
			AgeBand: commonv1.AgeBand_AGE_BAND_30_38, Nationality: nationality, InStatistics: true},
	}
	if household {
		c.HouseholdMembers = []*intakev1.CaseMember{{SubjectId: child(id), Sex: commonv1.Sex_SEX_MALE,
			AgeBand: commonv1.AgeBand_AGE_BAND_9_17, Nationality: nationality, InStatistics: true}}
	}
	return c
}

// accepted is the hand-over service's HandoverAccepted of parts of caseID from one mission to
// another, which it records under the receiving mission.
func accepted(caseID, from, to string, p commonv1.Programme, parts ...handoverv1.HandoverPart) event {
	return event{to, &handoverv1.HandoverAccepted{HandoverId: uuid.NewString(), CaseId: caseID, FromMission: from,
		ToMission: to, Programme: p, Parts: parts, ProfileVersion: 1, Version: 2}}
}

// departure is c's departure from host to ret, every member of the case travelling, recorded
// under mission.
func departure(c *intakev1.Case, mission, host, ret string) event {
	e := &commonv1.DepartureRecorded{CaseId: c.GetCaseId(), Mission: mission, Programme: c.GetProgramme(),
		DepartureDate: day(2026, 3, 2), HostCountry: host, ReturnCountry: ret}
	for i, m := range append([]*intakev1.CaseMember{c.GetPrincipal()}, c.GetHouseholdMembers()...) {
		e.Travellers = append(e.Travellers, &commonv1.TravellingPerson{SubjectId: m.GetSubjectId(), Sex: m.GetSex(),
			AgeBand: m.GetAgeBand(), Nationality: m.GetNationality(), Principal: i == 0})
	}
	return event{mission, e}
}

func avrrAssistance(caseID, mission, subject string, t returnsv1.AssistanceType) event {
	return event{mission, &returnsv1.AssistanceDelivered{CaseId: caseID, Mission: mission, ReturnCountry: "IRQ",
		Assistance: &returnsv1.Assistance{SubjectId: subject, Type: t, DeliveryDate: day(2026, 4, 1)}}}
}

func votAssistance(caseID, mission string) event {
	return event{mission, &traffickingv1.AssistanceProvided{VictimCase: &traffickingv1.VictimCase{CaseId: caseID, Mission: "THA"},
		Assistance: &traffickingv1.Assistance{Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION, StartDate: day(2026, 4, 1)}}}
}

func decided(caseID, mission, host string) event {
	return event{mission, &hasmv1.RequestDecided{Decision: hasmv1.Decision_DECISION_APPROVE,
		Request: &hasmv1.AssistanceRequest{CaseId: caseID, Mission: mission, HostCountry: host,
			DecideTime: timestamppb.New(time.Date(2026, 2, 1, 9, 0, 0, 0, time.UTC))}}}
}

func referral(id, caseID, mission string, version int64, s referralv1.ReferralStatus) event {
	return event{mission, &referralv1.ReferralChanged{PartnerCategory: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO,
		Referral: &referralv1.Referral{ReferralId: id, Mission: mission, Direction: referralv1.Direction_DIRECTION_OUTBOUND,
			CaseId: caseID, SubjectId: principal(caseID), Status: s, Version: version,
			CreateTime: timestamppb.New(time.Date(2026, 4, 2, 9, 0, 0, 0, time.UTC))}}}
}

// handedOverJourneys are four journeys whose later steps a receiving mission records under
// its own mission after a hand-over, as the programme services write them:
//
//   - AVRR, a mother and her son registered by IOM Germany (host DEU), departed by Germany to
//     Iraq; arrival, plan, assistance (the mother's cash in two instalments, the son's once),
//     two monitoring visits, a referral and the closure recorded by IOM Iraq. IOM Niger, to
//     which nothing was handed over, records an assistance too.
//   - VoT, a woman identified in Thailand, her continuing assistance (twice) and the
//     exploitation's details recorded in Myanmar.
//   - HASM, a stranded woman in Libya (host LBY) approved and departed by Libya to Niger, whose
//     reception Niger records.
//   - HASM, a transfer: a woman registered in Libya whose whole case goes to Niger, which has
//     her request approved and her departure (from NER to MLI) recorded.
func handedOverJourneys() []event {
	k, v, h, tr := uuid.NewString(), uuid.NewString(), uuid.NewString(), uuid.NewString()
	kc, hc, trc := journeyCase(k, "DEU", avrr, "DEU", "IRQ", true), journeyCase(h, "LBY", hasm, "LBY", "NER", false),
		journeyCase(tr, "LBY", hasm, "LBY", "MLI", false)
	ref := uuid.NewString()
	cash := returnsv1.AssistanceType_ASSISTANCE_TYPE_CASH
	return []event{
		{"DEU", &intakev1.CaseRegistered{Case: kc}},
		{"THA", &intakev1.CaseRegistered{Case: journeyCase(v, "THA", vot, "THA", "MMR", false)}},
		{"LBY", &intakev1.CaseRegistered{Case: hc}},
		{"LBY", &intakev1.CaseRegistered{Case: trc}},

		accepted(k, "DEU", "IRQ", avrr, handoverv1.HandoverPart_HANDOVER_PART_RECEPTION, handoverv1.HandoverPart_HANDOVER_PART_REINTEGRATION,
			handoverv1.HandoverPart_HANDOVER_PART_MONITORING, handoverv1.HandoverPart_HANDOVER_PART_CLOSURE),
		departure(kc, "DEU", "DEU", "IRQ"),
		{"IRQ", &returnsv1.ArrivalRecorded{CaseId: k, Mission: "IRQ", ReturnCountry: "IRQ", TravellingSubjectIds: []string{principal(k), child(k)}}},
		{"IRQ", &returnsv1.ReintegrationPlanSet{CaseId: k, Mission: "IRQ", ReturnCountry: "IRQ"}},
		avrrAssistance(k, "IRQ", principal(k), cash),
		avrrAssistance(k, "IRQ", child(k), cash),
		avrrAssistance(k, "IRQ", principal(k), cash),
		avrrAssistance(k, "NER", principal(k), returnsv1.AssistanceType_ASSISTANCE_TYPE_HOUSING),
		{"IRQ", &returnsv1.MonitoringVisitRecorded{CaseId: k, Mission: "IRQ", ReturnCountry: "IRQ", VisitNumber: 1}},
		referral(ref, k, "IRQ", 1, referralv1.ReferralStatus_REFERRAL_STATUS_SENT),
		{"IRQ", &returnsv1.MonitoringVisitRecorded{CaseId: k, Mission: "IRQ", ReturnCountry: "IRQ", VisitNumber: 2}},
		referral(ref, k, "IRQ", 2, referralv1.ReferralStatus_REFERRAL_STATUS_COMPLETED),
		{"IRQ", &returnsv1.ReturnClosed{CaseId: k, Mission: "IRQ"}},

		{"THA", &traffickingv1.VictimScreened{VictimCase: &traffickingv1.VictimCase{CaseId: v, Mission: "THA", RegistrationDate: day(2026, 1, 10)},
			Identification: &traffickingv1.Identification{Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_IDENTIFIED_VICTIM,
				Date: day(2026, 1, 20)}}},
		accepted(v, "THA", "MMR", vot, handoverv1.HandoverPart_HANDOVER_PART_CONTINUING_ASSISTANCE),
		votAssistance(v, "MMR"),
		{"MMR", &traffickingv1.ExploitationRecorded{VictimCase: &traffickingv1.VictimCase{CaseId: v, Mission: "THA"},
			Exploitation: &traffickingv1.Exploitation{Types: []traffickingv1.ExploitationType{traffickingv1.ExploitationType_EXPLOITATION_TYPE_FORCED_LABOUR}}}},
		votAssistance(v, "MMR"),

		decided(h, "LBY", "LBY"),
		accepted(h, "LBY", "NER", hasm, handoverv1.HandoverPart_HANDOVER_PART_RECEPTION),
		departure(hc, "LBY", "LBY", "NER"),
		{"NER", &hasmv1.ArrivalRecorded{Request: &hasmv1.AssistanceRequest{CaseId: h, Mission: "NER"}}},

		accepted(tr, "LBY", "NER", hasm, handoverv1.HandoverPart_HANDOVER_PART_TRANSFER),
		decided(tr, "NER", "NER"),
		departure(trc, "NER", "NER", "MLI"),
	}
}

// TestHandedOverJourneyCountedOnce: a journey whose later steps the receiving mission records
// is counted as one without a hand-over is: each person once as returned, at the departure,
// under the host and return countries the departure names, and once per assistance type and
// year as assisted, under the host country of the case's registration and the return country
// the assistance names, whichever mission recorded the step. A mission that holds no part of
// the case counts no one with its events. ApplyBatch leaves what Apply leaves.
func TestHandedOverJourneyCountedOnce(t *testing.T) {
	t.Parallel()
	want := []string{
		"CASES_REGISTERED AVRR FEMALE IRQ DEU→ ×1",
		"CASES_REGISTERED HASM FEMALE MLI LBY→ ×1",
		"CASES_REGISTERED HASM FEMALE NER LBY→ ×1",
		"CASES_REGISTERED VOT FEMALE MMR THA→ ×1",
		"HASM_REQUESTS_APPROVED HASM FEMALE MLI NER→ ×1",
		"HASM_REQUESTS_APPROVED HASM FEMALE NER LBY→ ×1",
		"PERSONS_ASSISTED AVRR FEMALE IRQ DEU→IRQ AVRR_CASH ×1",
		"PERSONS_ASSISTED AVRR MALE IRQ DEU→IRQ AVRR_CASH ×1",
		"PERSONS_ASSISTED VOT FEMALE MMR THA→ VOT_ACCOMMODATION ×1",
		"PERSONS_RETURNED AVRR FEMALE IRQ DEU→IRQ ×1",
		"PERSONS_RETURNED AVRR MALE IRQ DEU→IRQ ×1",
		"PERSONS_RETURNED HASM FEMALE MLI NER→MLI ×1",
		"PERSONS_RETURNED HASM FEMALE NER LBY→NER ×1",
		"REFERRALS AVRR FEMALE IRQ DEU→ COMPLETED ×1",
		"VICTIMS_IDENTIFIED VOT FEMALE MMR THA→ {FORCED_LABOUR} ×1",
	}
	single := drainBothWays(t, handedOverJourneys())
	if diff := cmp.Diff(want, single.counts(t)); diff != "" {
		t.Errorf("counted (-want +got):\n%s", diff)
	}
}

// drainBothWays applies events one at a time with Apply and, in another database, with
// ApplyBatch, checks that both leave the same state, and returns the first.
func drainBothWays(t *testing.T, events []event) *projectorDB {
	t.Helper()
	cfg := outbox.ConsumerConfig{Name: projector.Name, CursorTable: "analytics_state.outbox_cursor", Types: projector.Events}
	single := newProjectorDB(t, events)
	cfg.Handle = projector.Apply
	single.drain(t, cfg, applied(events))

	batched := newProjectorDB(t, events)
	cfg.HandleBatch = projector.ApplyBatch
	cfg.Handle = func(context.Context, pgx.Tx, outbox.Record) error {
		t.Error("the batch failed and fell back to one event at a time")
		return nil
	}
	batched.drain(t, cfg, applied(events))
	if diff := cmp.Diff(single.state(t), batched.state(t)); diff != "" {
		t.Errorf("state after ApplyBatch (-one at a time +batch):\n%s", diff)
	}
	return single
}

// applied is how many of events the projector applies: those of its types.
func applied(events []event) int {
	n := 0
	for _, e := range events {
		for _, typ := range projector.Events {
			if string(e.payload.ProtoReflect().Descriptor().FullName()) == typ {
				n++
			}
		}
	}
	return n
}

// counts are the facts by measure and what the measure is attributed by: programme, sex,
// nationality, host and return country, and the assistance type, referral status or
// exploitation types where the measure has them; with how many persons (or referrals) each.
func (d *projectorDB) counts(t *testing.T) []string {
	t.Helper()
	return d.lines(t, `SELECT format('%s %s %s %s %s→%s%s ×%s', measure, programme, sex,
  nationality, host_country, return_country,
  CASE WHEN assistance_type <> '' THEN ' ' || assistance_type
       WHEN referral_status <> '' THEN ' ' || referral_status
       WHEN measure = 'VICTIMS_IDENTIFIED' THEN ' ' || exploitation_types::text ELSE '' END, count(*))
FROM analytics.fact
GROUP BY measure, programme, sex, nationality, host_country, return_country, assistance_type, referral_status, exploitation_types
ORDER BY 1`)
}
