package attack_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	followupv1 "github.com/passage-cm/passage/proto/gen/passage/followup/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	returnsv1 "github.com/passage-cm/passage/proto/gen/passage/returns/v1"
	traffickingv1 "github.com/passage-cm/passage/proto/gen/passage/trafficking/v1"
)

// The victim's mission and the attacker's.
const (
	missionA = "NER"
	missionB = "DEU"
)

// target is one of mission A's cases as a programme service knows it, with the ids that hang
// from it: everything an attacker in mission B could have copied from a log, a screenshot or
// a colleague, and paste into a request.
type target struct {
	programme commonv1.Programme
	caseID    string
	subjectID string
	consentID string
	// version is the case's version in each service that keeps one ("intake", "returns", ...).
	version map[string]int64
}

// victimMission is what mission A holds after its setup.
type victimMission struct {
	avrr, vot, hasm *target
	grantID         string // a supervisor's break-glass grant on the VoT case
	assistanceID    string // an assistance given to the victim
	partnerID       string // a partner agency of the HQ-wide registry
	referralID      string // an inbound referral from that partner, accepted, not yet linked to a case
	followUpID      string // the review the victim's assistance made due
	handoverID      string // a hand-over of the AVRR case's reception from A to a third mission
}

// ids fills every id field of a request with A's ids. The names are those of the contracts;
// a request carrying an id of a kind not listed here fails the test, so that a new kind of id
// is attacked as soon as it exists.
func (v *victimMission) ids(t *target) map[string]string {
	return map[string]string{
		"case_id":       t.caseID,
		"from_case_id":  t.caseID,
		"subject_id":    t.subjectID,
		"consent_id":    t.consentID,
		"grant_id":      v.grantID,
		"assistance_id": v.assistanceID,
		"referral_id":   v.referralID,
		"follow_up_id":  v.followUpID,
		"handover_id":   v.handoverID,
	}
}

// notMissionData are id fields that name no mission's record: the idempotency key, staff
// members (the same staff id may work in two missions), indicator codes, a visit's id,
// which the server assigns, and a partner agency of the HQ-wide registry, which every mission
// refers to (validRequests names the victim mission's partner, a real one).
var notMissionData = []string{"request_id", "staff_id", "indicator_id", "visit_id", "partner_id"}

// byID are the fields whose presence makes a request one about a mission's record.
var byID = []string{"case_id", "from_case_id", "grant_id", "follow_up_id", "handover_id"}

var (
	onDay = &date.Date{Year: 2026, Month: 1, Day: 20}
	reg   = &date.Date{Year: 2026, Month: 1, Day: 10}
)

// hqOnly are the methods their roles may call only with the mission HQ: from a country
// mission they are refused before any record is looked up.
var hqOnly = map[string]bool{hasmv1.StrandedMigrantService_DecideRequest_FullMethodName: true}

// validRequests are requests that pass validation for every method that takes an id, so
// that the attack reaches the handler's lookup and not the validation stage. The id and
// version fields are filled in by fill. A method that takes an id and is missing here fails
// TestAnotherMissionsIDs.
var validRequests = map[string]func() proto.Message{
	intakev1.IntakeService_GetCase_FullMethodName: func() proto.Message {
		return &intakev1.GetCaseRequest{View: intakev1.CaseView_CASE_VIEW_FULL, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT}
	},
	intakev1.IntakeService_GetCaseHistory_FullMethodName: func() proto.Message {
		return &intakev1.GetCaseHistoryRequest{}
	},
	intakev1.IntakeService_UpdateCase_FullMethodName: func() proto.Message {
		return &intakev1.UpdateCaseRequest{UpdateMask: &fieldmaskpb.FieldMask{Paths: []string{"host_country"}}, HostCountry: "NER"}
	},
	intakev1.IntakeService_CloseCase_FullMethodName: func() proto.Message {
		return &intakev1.CloseCaseRequest{Reason: intakev1.ClosureReason_CLOSURE_REASON_LOST_CONTACT}
	},
	intakev1.IntakeService_OpenCase_FullMethodName: func() proto.Message {
		return &intakev1.OpenCaseRequest{Programme: commonv1.Programme_PROGRAMME_AVRR, RegistrationDate: onDay, Consents: consents(onDay)}
	},
	intakev1.IntakeService_AssignCase_FullMethodName: func() proto.Message {
		return &intakev1.AssignCaseRequest{StaffId: "staff-caseworker"}
	},
	intakev1.IntakeService_UnassignCase_FullMethodName: func() proto.Message {
		return &intakev1.UnassignCaseRequest{StaffId: "staff-caseworker"}
	},
	intakev1.IntakeService_BreakGlass_FullMethodName: func() proto.Message {
		return &intakev1.BreakGlassRequest{Reason: "the person is missing and the police ask for the file", Duration: durationpb.New(time.Minute)}
	},
	intakev1.IntakeService_ReviewBreakGlass_FullMethodName: func() proto.Message {
		return &intakev1.ReviewBreakGlassRequest{Finding: intakev1.BreakGlassFinding_BREAK_GLASS_FINDING_JUSTIFIED}
	},
	intakev1.IntakeService_ErasePerson_FullMethodName: func() proto.Message {
		return &intakev1.ErasePersonRequest{Reason: intakev1.ErasureReason_ERASURE_REASON_DATA_SUBJECT_REQUEST}
	},
	intakev1.IntakeService_RecordConsent_FullMethodName: func() proto.Message {
		return &intakev1.RecordConsentRequest{Consent: &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_STATISTICS, Granted: true, Date: onDay}}
	},
	intakev1.IntakeService_WithdrawConsent_FullMethodName: func() proto.Message {
		return &intakev1.WithdrawConsentRequest{Date: onDay}
	},

	returnsv1.ReturnService_GetReturn_FullMethodName: func() proto.Message { return &returnsv1.GetReturnRequest{} },
	returnsv1.ReturnService_RecordEligibility_FullMethodName: func() proto.Message {
		return &returnsv1.RecordEligibilityRequest{Decision: &returnsv1.EligibilityDecision{
			Eligibility: returnsv1.Eligibility_ELIGIBILITY_ELIGIBLE, CounsellingDate: reg, DecisionDate: onDay}}
	},
	returnsv1.ReturnService_RecordPreDepartureStep_FullMethodName: func() proto.Message {
		return &returnsv1.RecordPreDepartureStepRequest{Step: &returnsv1.PreDepartureStep{Date: onDay,
			// A fit-to-travel check names the person: A's subject id goes in too.
			Step: &returnsv1.PreDepartureStep_FitToTravel{FitToTravel: returnsv1.FitToTravel_FIT_TO_TRAVEL_PASSED}}}
	},
	returnsv1.ReturnService_RecordDeparture_FullMethodName: func() proto.Message {
		return &returnsv1.RecordDepartureRequest{DepartureDate: onDay, ReturnCountry: "MLI"}
	},
	returnsv1.ReturnService_RecordArrival_FullMethodName: func() proto.Message {
		return &returnsv1.RecordArrivalRequest{Arrival: &returnsv1.Arrival{ArrivalDate: onDay}}
	},
	returnsv1.ReturnService_SetReintegrationPlan_FullMethodName: func() proto.Message {
		return &returnsv1.SetReintegrationPlanRequest{Plan: &returnsv1.ReintegrationPlan{PlanDate: onDay,
			Economic: []returnsv1.AssistanceType{returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP}}}
	},
	returnsv1.ReturnService_RecordAssistance_FullMethodName: func() proto.Message {
		return &returnsv1.RecordAssistanceRequest{Assistance: &returnsv1.Assistance{Type: returnsv1.AssistanceType_ASSISTANCE_TYPE_BUSINESS_START_UP,
			Dimension: returnsv1.Dimension_DIMENSION_ECONOMIC, Value: &returnsv1.Money{CurrencyCode: "EUR", AmountMinor: 150000},
			DeliveryDate: onDay, Provider: "IOM-MLI"}}
	},
	returnsv1.ReturnService_RecordMonitoringVisit_FullMethodName: func() proto.Message {
		return &returnsv1.RecordMonitoringVisitRequest{Visit: &returnsv1.MonitoringVisit{VisitDate: onDay,
			EconomicScore: proto.Float64(0.4), SocialScore: proto.Float64(0.5), PsychosocialScore: proto.Float64(0.45)}}
	},
	returnsv1.ReturnService_CloseReturn_FullMethodName: func() proto.Message {
		return &returnsv1.CloseReturnRequest{Reason: returnsv1.ClosureReason_CLOSURE_REASON_LOST_CONTACT}
	},
	returnsv1.ReturnService_ReopenReturn_FullMethodName: func() proto.Message {
		return &returnsv1.ReopenReturnRequest{Reason: returnsv1.ReopenReason_REOPEN_REASON_CLOSED_IN_ERROR}
	},

	traffickingv1.TraffickingService_GetVictimCase_FullMethodName: func() proto.Message { return &traffickingv1.GetVictimCaseRequest{} },
	traffickingv1.TraffickingService_RecordScreening_FullMethodName: func() proto.Message {
		return &traffickingv1.RecordScreeningRequest{Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_PRESUMED_VICTIM,
			IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, Date: onDay}
	},
	traffickingv1.TraffickingService_RecordExploitation_FullMethodName: func() proto.Message {
		return &traffickingv1.RecordExploitationRequest{Exploitation: &traffickingv1.Exploitation{
			Types:                   []traffickingv1.ExploitationType{traffickingv1.ExploitationType_EXPLOITATION_TYPE_SEXUAL_EXPLOITATION},
			RecruiterRelationship:   traffickingv1.RecruiterRelationship_RECRUITER_RELATIONSHIP_INTIMATE_PARTNER,
			CountriesOfExploitation: []string{"LBY"}}}
	},
	traffickingv1.TraffickingService_RecordAssistance_FullMethodName: func() proto.Message {
		return &traffickingv1.RecordAssistanceRequest{Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION, StartDate: onDay, Provider: "IOM"}
	},
	traffickingv1.TraffickingService_EndAssistance_FullMethodName: func() proto.Message {
		return &traffickingv1.EndAssistanceRequest{EndDate: onDay}
	},
	traffickingv1.TraffickingService_RecordLawEnforcementCooperation_FullMethodName: func() proto.Message {
		return &traffickingv1.RecordLawEnforcementCooperationRequest{Status: traffickingv1.CooperationStatus_COOPERATION_STATUS_NOT_ASKED, Date: onDay}
	},
	traffickingv1.TraffickingService_AssessRisk_FullMethodName: func() proto.Message {
		return &traffickingv1.AssessRiskRequest{Level: traffickingv1.RiskLevel_RISK_LEVEL_LOW, Date: onDay,
			Factors: []traffickingv1.RiskFactor{traffickingv1.RiskFactor_RISK_FACTOR_TRAFFICKERS_AT_LARGE}}
	},
	traffickingv1.TraffickingService_CloseVictimCase_FullMethodName: func() proto.Message {
		return &traffickingv1.CloseVictimCaseRequest{Reason: traffickingv1.ClosureReason_CLOSURE_REASON_ASSISTANCE_COMPLETED}
	},

	hasmv1.StrandedMigrantService_RequestAssistance_FullMethodName: func() proto.Message {
		return &hasmv1.RequestAssistanceRequest{StrandedReason: hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
			NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
			EstimatedCost:           1000, Currency: "USD", FundCode: "HASM-GLOBAL", FundYear: 2026}
	},
	hasmv1.StrandedMigrantService_GetRequest_FullMethodName: func() proto.Message { return &hasmv1.GetRequestRequest{} },
	hasmv1.StrandedMigrantService_DecideRequest_FullMethodName: func() proto.Message {
		return &hasmv1.DecideRequestRequest{Decision: hasmv1.Decision_DECISION_APPROVE}
	},
	hasmv1.StrandedMigrantService_RecordDeparture_FullMethodName: func() proto.Message {
		return &hasmv1.RecordDepartureRequest{DepartureDate: onDay, ReturnCountry: "ETH"}
	},
	hasmv1.StrandedMigrantService_RecordArrival_FullMethodName: func() proto.Message {
		return &hasmv1.RecordArrivalRequest{ArrivalDate: onDay}
	},
	hasmv1.StrandedMigrantService_CloseRequest_FullMethodName: func() proto.Message {
		return &hasmv1.CloseRequestRequest{Reason: hasmv1.ClosureReason_CLOSURE_REASON_WITHDRAWN}
	},
	referralv1.ReferralService_CreateReferral_FullMethodName: func() proto.Message {
		return &referralv1.CreateReferralRequest{PartnerId: victimPartner.Load().(string),
			ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER, Reason: referralv1.ReferralReason_REFERRAL_REASON_OTHER}
	},
	referralv1.ReferralService_ListReferrals_FullMethodName: func() proto.Message {
		return &referralv1.ListReferralsRequest{}
	},
	referralv1.ReferralService_LinkReferralCase_FullMethodName: func() proto.Message {
		return &referralv1.LinkReferralCaseRequest{}
	},
	followupv1.FollowUpService_ListFollowUps_FullMethodName: func() proto.Message {
		return &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION}
	},
	followupv1.FollowUpService_GetFollowUp_FullMethodName: func() proto.Message { return &followupv1.GetFollowUpRequest{} },
	followupv1.FollowUpService_CloseFollowUp_FullMethodName: func() proto.Message {
		return &followupv1.CloseFollowUpRequest{Outcome: followupv1.Outcome_OUTCOME_DONE}
	},
	followupv1.FollowUpService_AssignFollowUp_FullMethodName: func() proto.Message {
		return &followupv1.AssignFollowUpRequest{Assignee: "staff-caseworker"}
	},
	// A proposal to a third mission (B proposing to itself is refused before any lookup).
	handoverv1.HandoverService_ProposeHandover_FullMethodName: func() proto.Message {
		return &handoverv1.ProposeHandoverRequest{Programme: commonv1.Programme_PROGRAMME_AVRR, ToMission: "MLI",
			Parts:   []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION},
			Purpose: handoverv1.HandoverPurpose_HANDOVER_PURPOSE_RETURN_AND_REINTEGRATION, ProfileVersion: 1}
	},
	handoverv1.HandoverService_GetHandover_FullMethodName:      func() proto.Message { return &handoverv1.GetHandoverRequest{} },
	handoverv1.HandoverService_WithdrawHandover_FullMethodName: func() proto.Message { return &handoverv1.WithdrawHandoverRequest{} },
	handoverv1.HandoverService_AcceptHandover_FullMethodName:   func() proto.Message { return &handoverv1.AcceptHandoverRequest{} },
	handoverv1.HandoverService_DeclineHandover_FullMethodName: func() proto.Message {
		return &handoverv1.DeclineHandoverRequest{Reason: handoverv1.HandoverDeclineReason_HANDOVER_DECLINE_REASON_NO_CAPACITY}
	},
	handoverv1.HandoverService_CompleteHandover_FullMethodName: func() proto.Message { return &handoverv1.CompleteHandoverRequest{} },
}

// victimPartner is the partner setUpVictimMission registers; every test registers one with
// the same code in its own database, so any of their ids makes a valid request: the attack is
// on the case id.
var victimPartner atomic.Value

// missionRequest is a valid request for a method that names a mission rather than a record:
// empty but for registration, which needs a person and a consent.
func missionRequest(m method) proto.Message {
	if m.full == intakev1.IntakeService_RegisterCase_FullMethodName {
		return &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(), Programme: commonv1.Programme_PROGRAMME_AVRR, HostCountry: "NER",
			Principal: &commonv1.Person{GivenName: "Amina", FamilyName: "Diallo", Sex: commonv1.Sex_SEX_FEMALE,
				DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 3}, Nationality: "MLI"},
			Consents: consents(reg), RegistrationDate: reg}
	}
	mt, err := protoregistry.GlobalTypes.FindMessageByName(m.desc.Input().FullName())
	if err != nil {
		panic(fmt.Sprintf("%s: %v", m.full, err))
	}
	return mt.New().Interface()
}

func consents(on *date.Date) []*commonv1.Consent {
	return []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: on}}
}

// service is the short name of the service a method belongs to ("intake", "returns", ...).
func service(m method) string {
	pkg := string(m.desc.Parent().ParentFile().Package()) // passage.returns.v1
	return strings.Split(pkg, ".")[1]
}

// takesID reports whether the method's request names one of a mission's records.
func takesID(m method) bool {
	fields := m.desc.Input().Fields()
	for _, name := range byID {
		if fields.ByName(protoreflect.Name(name)) != nil {
			return true
		}
	}
	return false
}

// targets are A's cases a method is attacked with: intake's methods take any programme's
// case, each programme service its own.
func (v *victimMission) targets(t *testing.T, m method) []*target {
	t.Helper()
	switch service(m) {
	case "intake":
		return []*target{v.avrr, v.vot, v.hasm}
	case "returns":
		return []*target{v.avrr}
	case "trafficking":
		return []*target{v.vot}
	case "hasm":
		return []*target{v.hasm}
	case "referral":
		return []*target{v.avrr, v.vot, v.hasm}
	case "followup":
		return []*target{v.vot}
	case "handover":
		return []*target{v.avrr}
	}
	t.Fatalf("%s: a service the suite has no records of; register some in setUpVictimMission", m.full)
	return nil
}

// attackRequest builds the method's valid request about tg: a fresh idempotency key, every id
// field of a mission record, wherever it is in the request, set to A's, and the version the
// record has, so that only the mission can stop it.
func (v *victimMission) attackRequest(t *testing.T, m method, tg *target) proto.Message {
	t.Helper()
	build, ok := validRequests[m.full]
	if !ok {
		t.Fatalf("%s takes an id but has no valid request in validRequests: add one", m.full)
	}
	req := build()
	msg := req.ProtoReflect()
	if fd := msg.Descriptor().Fields().ByName("request_id"); fd != nil {
		msg.Set(fd, protoreflect.ValueOfString(uuid.NewString()))
	}
	if fd := msg.Descriptor().Fields().ByName("version"); fd != nil {
		version := tg.version[service(m)]
		if version == 0 {
			t.Fatalf("%s: no %s version for the %v case", m.full, service(m), tg.programme)
		}
		msg.Set(fd, protoreflect.ValueOfInt64(version))
	}
	ids := v.ids(tg)
	for _, path := range stringFields(msg.Descriptor()) {
		name := string(path[len(path)-1].Name())
		if !strings.HasSuffix(name, "_id") || slices.Contains(notMissionData, name) {
			continue
		}
		id, ok := ids[name]
		if !ok {
			t.Fatalf("%s: %s is an id of a kind the suite does not know: add it to victimMission.ids", m.full, path)
		}
		setWhereSet(msg, path, id)
	}
	return req
}

// setWhereSet sets the string field at path to value in msg, and in every element of a list
// on the way, but only inside messages the valid request already holds: creating one would
// make the request invalid for a reason other than the mission.
func setWhereSet(msg protoreflect.Message, path stringField, value string) {
	fd := path[0]
	if len(path) == 1 {
		if fd.IsList() {
			l := msg.Mutable(fd).List()
			if l.Len() == 0 {
				l.Append(protoreflect.ValueOfString(value))
			}
			for i := range l.Len() {
				l.Set(i, protoreflect.ValueOfString(value))
			}
			return
		}
		msg.Set(fd, protoreflect.ValueOfString(value))
		return
	}
	if !msg.Has(fd) {
		return
	}
	if fd.IsList() {
		l := msg.Get(fd).List()
		for i := range l.Len() {
			setWhereSet(l.Get(i).Message(), path[1:], value)
		}
		return
	}
	setWhereSet(msg.Mutable(fd).Message(), path[1:], value)
}

// setUpVictimMission registers an AVRR, a VoT and a HASM case in mission A, with what hangs
// from them: a HASM request against an HQ fund, an assistance to the victim, a supervisor's
// break-glass grant. It returns once the programme services have their projections and the
// background consumers have nothing left to write.
func setUpVictimMission(t *testing.T, env *testserver.Env) *victimMission {
	t.Helper()
	intake := intakev1.NewIntakeServiceClient(env.Conn)
	returns := returnsv1.NewReturnServiceClient(env.Conn)
	trafficking := traffickingv1.NewTraffickingServiceClient(env.Conn)
	hasm := hasmv1.NewStrandedMigrantServiceClient(env.Conn)
	field := env.As(t, auth.RoleCaseworker, missionA)
	chief := env.As(t, auth.RoleSupervisor, missionA)
	hq := env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)

	register := func(p commonv1.Programme, given string) *target {
		req := &intakev1.RegisterCaseRequest{
			RequestId: uuid.NewString(), Mission: missionA, Programme: p, HostCountry: "NER",
			Principal: &commonv1.Person{GivenName: given, FamilyName: "Diallo", Sex: commonv1.Sex_SEX_FEMALE,
				DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 3}, Nationality: "MLI"},
			Consents: consents(reg), RegistrationDate: reg,
		}
		if p == commonv1.Programme_PROGRAMME_VOT {
			req.Vulnerabilities = []commonv1.Vulnerability{commonv1.Vulnerability_VULNERABILITY_VICTIM_OF_TRAFFICKING}
		}
		resp, err := intake.RegisterCase(field, req)
		if err != nil {
			t.Fatalf("RegisterCase %v: %v", p, err)
		}
		c := resp.GetCase()
		if len(c.GetConsents()) == 0 || c.GetConsents()[0].GetConsentId() == "" || c.GetSubjectId() == "" {
			t.Fatalf("registered case lacks a subject or a consent id: %v", c)
		}
		return &target{programme: p, caseID: c.GetCaseId(), subjectID: c.GetSubjectId(), consentID: c.GetConsents()[0].GetConsentId(),
			version: map[string]int64{"intake": c.GetVersion()}}
	}
	v := &victimMission{
		avrr: register(commonv1.Programme_PROGRAMME_AVRR, "Amina"),
		vot:  register(commonv1.Programme_PROGRAMME_VOT, "Mariam"),
		hasm: register(commonv1.Programme_PROGRAMME_HASM, "Fatou"),
	}

	if _, err := hasm.CreateFund(hq, &hasmv1.CreateFundRequest{RequestId: uuid.NewString(), Code: "HASM-GLOBAL",
		Year: 2026, Currency: "USD", Budget: 100_000}); err != nil {
		t.Fatalf("CreateFund: %v", err)
	}
	// The programme services learn of the cases from intake's outbox, in the background.
	eventually(t, "the return", func() error {
		r, err := returns.GetReturn(field, &returnsv1.GetReturnRequest{CaseId: v.avrr.caseID})
		v.avrr.version["returns"] = r.GetReturn().GetVersion()
		return err
	})
	eventually(t, "the victim case", func() error {
		_, err := trafficking.GetVictimCase(field, &traffickingv1.GetVictimCaseRequest{CaseId: v.vot.caseID})
		return err
	})
	screened, err := trafficking.RecordScreening(field, &traffickingv1.RecordScreeningRequest{RequestId: uuid.NewString(),
		CaseId: v.vot.caseID, Version: 1, Status: traffickingv1.IdentificationStatus_IDENTIFICATION_STATUS_PRESUMED_VICTIM,
		IdentifiedBy: traffickingv1.IdentifyingAuthority_IDENTIFYING_AUTHORITY_IOM, Date: reg})
	if err != nil {
		t.Fatalf("RecordScreening: %v", err)
	}
	vc, err := trafficking.RecordAssistance(field, &traffickingv1.RecordAssistanceRequest{RequestId: uuid.NewString(),
		CaseId: v.vot.caseID, Version: screened.GetVictimCase().GetVersion(), Type: traffickingv1.AssistanceType_ASSISTANCE_TYPE_ACCOMMODATION, StartDate: reg, Provider: "IOM"})
	if err != nil {
		t.Fatalf("RecordAssistance: %v", err)
	}
	v.vot.version["trafficking"] = vc.GetVictimCase().GetVersion()
	v.assistanceID = vc.GetVictimCase().GetAssistance()[0].GetAssistanceId()
	// The assistance makes its review due (the follow-up service follows trafficking's events).
	followUps := followupv1.NewFollowUpServiceClient(env.Conn)
	eventually(t, "the assistance review", func() error {
		resp, err := followUps.ListFollowUps(chief, &followupv1.ListFollowUpsRequest{Scope: followupv1.Scope_SCOPE_MISSION, CaseId: v.vot.caseID})
		if err != nil {
			return err
		}
		if len(resp.GetFollowUps()) == 0 {
			return fmt.Errorf("no follow-up of the victim case yet")
		}
		v.followUpID, v.vot.version["followup"] = resp.GetFollowUps()[0].GetFollowUpId(), resp.GetFollowUps()[0].GetVersion()
		return nil
	})
	eventually(t, "the HASM request", func() error {
		r, err := hasm.RequestAssistance(field, &hasmv1.RequestAssistanceRequest{RequestId: uuid.NewString(), CaseId: v.hasm.caseID,
			StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
			NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
			EstimatedCost:           1000, Currency: "USD", FundCode: "HASM-GLOBAL", FundYear: 2026})
		v.hasm.version["hasm"] = r.GetRequest().GetVersion()
		return err
	})
	g, err := intake.BreakGlass(chief, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(), CaseId: v.vot.caseID,
		Reason: "the person is missing and the police ask for the file"})
	if err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	v.grantID = g.GetGrant().GetGrantId()

	// A partner (HQ's registry), the data profile of shelter referrals, and a referral of the
	// AVRR case to the partner, with the person's consent.
	ref := referralv1.NewReferralServiceClient(env.Conn)
	p, err := ref.RegisterPartner(hq, &referralv1.RegisterPartnerRequest{RequestId: uuid.NewString(), Code: "NGO-SHELTER",
		Name: "Shelter NGO", Category: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, Countries: []string{"NER"},
		Services:   []*referralv1.PartnerService{{Name: "Shelter", Categories: []referralv1.ServiceCategory{referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER}}},
		Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_GRPC},
		Agreement:  &referralv1.DataSharingAgreement{Reference: "DSA-1", StartDate: reg, ExpiryDate: &date.Date{Year: 2099, Month: 12, Day: 31}}})
	if err != nil {
		t.Fatalf("RegisterPartner: %v", err)
	}
	v.partnerID = p.GetPartner().GetPartnerId()
	victimPartner.Store(v.partnerID)
	if _, err := ref.PublishDataProfile(hq, &referralv1.PublishDataProfileRequest{RequestId: uuid.NewString(),
		ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Fields:          []referralv1.SharedField{referralv1.SharedField_SHARED_FIELD_SEX}}); err != nil {
		t.Fatalf("PublishDataProfile: %v", err)
	}
	c, err := intake.RecordConsent(field, &intakev1.RecordConsentRequest{RequestId: uuid.NewString(), CaseId: v.avrr.caseID,
		Version: v.avrr.version["intake"], Consent: &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING,
			Granted: true, Partner: "NGO-SHELTER", SubjectId: v.avrr.subjectID, Date: reg}})
	if err != nil {
		t.Fatalf("RecordConsent: %v", err)
	}
	v.avrr.version["intake"] = c.GetCase().GetVersion()
	eventually(t, "the referral", func() error {
		_, err := ref.CreateReferral(field, &referralv1.CreateReferralRequest{RequestId: uuid.NewString(), CaseId: v.avrr.caseID,
			PartnerId: v.partnerID, ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
			Reason: referralv1.ReferralReason_REFERRAL_REASON_SPECIALISED_CARE})
		return err
	})
	// An inbound referral from the partner, accepted by A and waiting for its case: what
	// LinkReferralCase could tie to any of A's cases, were the mission not checked.
	in, err := ref.CreateInboundReferral(env.AsPartner(t, v.partnerID), &referralv1.CreateInboundReferralRequest{
		PartnerReference: "SHELTER/IN/1", Mission: missionA, ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Reason: referralv1.ReferralReason_REFERRAL_REASON_NATIONAL_REFERRAL_MECHANISM})
	if err != nil {
		t.Fatalf("CreateInboundReferral: %v", err)
	}
	acc, err := ref.AcceptReferral(field, &referralv1.AcceptReferralRequest{RequestId: uuid.NewString(),
		ReferralId: in.GetReferral().GetReferralId(), Version: in.GetReferral().GetVersion()})
	if err != nil {
		t.Fatalf("AcceptReferral: %v", err)
	}
	v.referralID = acc.GetReferral().GetReferralId()
	for _, tg := range []*target{v.avrr, v.vot, v.hasm} {
		tg.version["referral"] = acc.GetReferral().GetVersion()
	}

	// A hand-over of the AVRR case's reception to a third mission (neither A nor B), under
	// the profile HQ published: what B could try to read, accept, decline or complete.
	ho := handoverv1.NewHandoverServiceClient(env.Conn)
	if _, err := ho.PublishHandoverProfile(hq, &handoverv1.PublishHandoverProfileRequest{RequestId: uuid.NewString(),
		Programme: commonv1.Programme_PROGRAMME_AVRR, Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_SEX}}); err != nil {
		t.Fatalf("PublishHandoverProfile: %v", err)
	}
	h, err := ho.ProposeHandover(field, &handoverv1.ProposeHandoverRequest{RequestId: uuid.NewString(), CaseId: v.avrr.caseID,
		Programme: commonv1.Programme_PROGRAMME_AVRR, ToMission: "MLI",
		Parts:      []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION},
		Purpose:    handoverv1.HandoverPurpose_HANDOVER_PURPOSE_RETURN_AND_REINTEGRATION,
		LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS, ProfileVersion: 1})
	if err != nil {
		t.Fatalf("ProposeHandover: %v", err)
	}
	v.handoverID = h.GetHandover().GetHandoverId()
	v.avrr.version["handover"] = h.GetHandover().GetVersion()
	return v
}

// eventually retries fn until it succeeds, for what the outbox consumers write in the
// background.
func eventually(t *testing.T, what string, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// settledCounts returns every table's row count once two reads a while apart agree: the
// outbox consumers follow the setup's events in the background, and their writes must not be
// taken for the attack's.
func settledCounts(t *testing.T, env *testserver.Env, tables []string) map[string]int {
	t.Helper()
	// Counts that did not change in 300 ms say little while a long transaction elsewhere in
	// the cluster keeps the last events out of the consumers' reach: they are settled only
	// once every event was within reach at the previous look and nothing changed since.
	reachable := func() bool {
		return env.QueryText(t, `SELECT ((SELECT coalesce(max(tx_id), '0'::xid8) FROM outbox.event)
  < pg_snapshot_xmin(pg_current_snapshot()))::text`) == "true"
	}
	prev, within := env.RowCounts(t, tables...), reachable()
	for range 100 {
		time.Sleep(300 * time.Millisecond)
		cur := env.RowCounts(t, tables...)
		if within && cmp.Equal(prev, cur) {
			return cur
		}
		prev, within = cur, reachable()
	}
	t.Fatal("the row counts never settled")
	return nil
}

// TestAnotherMissionsIDs calls every method of every service that takes a case, request or
// grant id with mission A's ids, as a caseworker, a supervisor, an administrator and a
// programme manager of mission B, with
// requests that are otherwise valid; and every method that names a mission instead (lists,
// registration) with A's. Each is NOT_FOUND where the role may call the method
// (the same answer as for an id that exists nowhere, so that B learns nothing, not even that
// the id is real) and PERMISSION_DENIED where it may not; nothing is written anywhere, not
// even an audit record or an event. HASM funds are not attacked here: they are HQ's and
// every mission reads them by design.
func TestAnotherMissionsIDs(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: specs()})
	victim := setUpVictimMission(t, env)
	all := tables(t, env)
	before := settledCounts(t, env, all)

	var mu sync.Mutex
	byCode := map[codes.Code]int{}
	attacked := 0
	var without []string
	t.Run("calls", func(t *testing.T) {
		for _, m := range methods(t) {
			if !takesID(m) {
				without = append(without, string(m.desc.Name()))
				continue
			}
			attacked++
			t.Run(m.full, func(t *testing.T) {
				t.Parallel()
				// Caseworkers and supervisors work in a mission; an administrator and a
				// programme manager may carry a country mission too, and there they are as
				// bound to it.
				for _, role := range []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor, auth.RoleAdmin, auth.RoleProgrammeManager} {
					ctx := env.As(t, role, missionB)
					want := codes.NotFound
					if !slices.Contains(m.roles, role) || hqOnly[m.full] {
						want = codes.PermissionDenied
					}
					for _, tg := range victim.targets(t, m) {
						req := victim.attackRequest(t, m, tg)
						err := env.Conn.Invoke(ctx, m.full, req, m.newResponse())
						if got := status.Code(err); got != want {
							t.Errorf("%s of mission %s with A's %v ids: %v, want %v", role, missionB, tg.programme, err, want)
						}
						mu.Lock()
						byCode[status.Code(err)]++
						mu.Unlock()
					}
				}
			})
		}
	})
	// The methods without an id that name a mission (lists, registration): asked for A's,
	// refused; asked for none, the caller's own, where nothing of A's appears.
	t.Run("mission fields", func(t *testing.T) {
		named := 0
		for _, m := range methods(t) {
			fd := m.desc.Input().Fields().ByName("mission")
			if takesID(m) || fd == nil {
				continue
			}
			named++
			for _, role := range []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor, auth.RoleAdmin, auth.RoleProgrammeManager} {
				ctx := env.As(t, role, missionB)
				req := missionRequest(m)
				req.ProtoReflect().Set(fd, protoreflect.ValueOfString(missionA))
				err := env.Conn.Invoke(ctx, m.full, req, m.newResponse())
				if got := status.Code(err); got != codes.PermissionDenied {
					t.Errorf("%s as %s of %s naming mission %s: %v, want PERMISSION_DENIED", m.full, role, missionB, missionA, err)
				}
				if !strings.HasPrefix(string(m.desc.Name()), "List") || !slices.Contains(m.roles, role) {
					continue
				}
				resp := m.newResponse()
				if err := env.Conn.Invoke(ctx, m.full, missionRequest(m), resp); err != nil {
					t.Errorf("%s as %s of %s, its own mission: %v", m.full, role, missionB, err)
				} else if b, _ := proto.Marshal(resp); len(b) != 0 {
					// Mission B holds nothing: whatever came back is A's.
					t.Errorf("%s as %s of %s, which holds nothing, answered %v", m.full, role, missionB, resp)
				}
			}
		}
		if named < 6 {
			t.Errorf("only %d methods name a mission: is the walk broken?", named)
		}
	})
	if attacked < 25 {
		t.Errorf("only %d methods take an id: is the walk broken?", attacked)
	}
	t.Logf("%d methods attacked, answers by code: %v; without an id: %v", attacked, byCode, without)
	if diff := cmp.Diff(before, env.RowCounts(t, all...)); diff != "" {
		t.Errorf("calls with another mission's ids wrote rows (-before +after):\n%s", diff)
	}
}

// TestNoCaseForHQOrPartners calls every method that takes a case, request or grant id with
// mission A's ids as an analyst at HQ and as a partner of mission A itself: neither works on
// cases, so each call is PERMISSION_DENIED, whatever the id, and writes nothing. (HQ's
// programme managers read and decide HASM requests of every mission by design; they are not
// tried here.)
func TestNoCaseForHQOrPartners(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: specs()})
	victim := setUpVictimMission(t, env)
	all := tables(t, env)
	before := settledCounts(t, env, all)

	callers := map[string]context.Context{
		"analyst at HQ":                 env.As(t, auth.RoleAnalyst, auth.MissionHQ),
		"partner of the case's mission": env.As(t, auth.RolePartner, missionA),
	}
	t.Run("calls", func(t *testing.T) {
		for _, m := range methods(t) {
			if !takesID(m) {
				continue
			}
			t.Run(m.full, func(t *testing.T) {
				t.Parallel()
				for who, ctx := range callers {
					for _, tg := range victim.targets(t, m) {
						err := env.Conn.Invoke(ctx, m.full, victim.attackRequest(t, m, tg), m.newResponse())
						if got := status.Code(err); got != codes.PermissionDenied {
							t.Errorf("%s with the %v case: %v, want PERMISSION_DENIED", who, tg.programme, err)
						}
					}
				}
			})
		}
	})
	if diff := cmp.Diff(before, env.RowCounts(t, all...)); diff != "" {
		t.Errorf("refused calls wrote rows (-before +after):\n%s", diff)
	}
}

// newResponse is an empty response of the method's type, for Invoke to decode into.
func (m method) newResponse() proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(m.desc.Output().FullName())
	if err != nil {
		panic(fmt.Sprintf("%s: %v", m.full, err))
	}
	return mt.New().Interface()
}

// TestAnotherMissionsRequestIDs replays mission A's own writes from mission B: the very
// requests A's staff sent, request id and all (a request id is printed by the CLI and may end
// up in a ticket or a screenshot). A replay answers the first call's stored response, so a
// store keyed on the request id alone would hand B what A was told; keyed on the mission too,
// B's call is a new one, about records B cannot see: NOT_FOUND, or PERMISSION_DENIED where
// the role may not call the method or names A's mission, and nothing written.
func TestAnotherMissionsRequestIDs(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: specs()})
	setUpVictimMission(t, env)
	all := tables(t, env)
	before := settledCounts(t, env, all)
	byName := map[string]method{}
	for _, m := range methods(t) {
		byName[m.full] = m
	}

	replayed := 0
	for _, call := range env.Calls.All() {
		fd := call.Request.ProtoReflect().Descriptor().Fields().ByName("request_id")
		if call.Code != codes.OK || fd == nil || call.Request.ProtoReflect().Get(fd).String() == "" {
			continue
		}
		m := byName[call.Method]
		replayed++
		for _, role := range []auth.Role{auth.RoleCaseworker, auth.RoleSupervisor} {
			want := codes.NotFound
			if !slices.Contains(m.roles, role) || m.desc.Input().Fields().ByName("mission") != nil {
				want = codes.PermissionDenied
			}
			err := env.Conn.Invoke(env.As(t, role, missionB), call.Method, proto.Clone(call.Request), m.newResponse())
			if got := status.Code(err); got != want {
				t.Errorf("%s replayed by a %s of %s: %v, want %v", call.Method, role, missionB, err, want)
			}
		}
	}
	if replayed < 5 {
		t.Fatalf("only %d writes to replay: the setup changed?", replayed)
	}
	if diff := cmp.Diff(before, env.RowCounts(t, all...)); diff != "" {
		t.Errorf("replayed requests wrote rows (-before +after):\n%s", diff)
	}
}
