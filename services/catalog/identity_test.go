package catalog_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/dynamicpb"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/testserver"
	casenotev1 "github.com/passage-cm/passage/proto/gen/passage/casenote/v1"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	documentv1 "github.com/passage-cm/passage/proto/gen/passage/document/v1"
	handoverv1 "github.com/passage-cm/passage/proto/gen/passage/handover/v1"
	hasmv1 "github.com/passage-cm/passage/proto/gen/passage/hasm/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	"github.com/passage-cm/passage/services/catalog"
)

// personName is the message that carries identity; reaching it from a response means the
// response can carry decrypted identity.
const personName = protoreflect.FullName("passage.common.v1.Person")

// reaches reports whether message m, or any message nested in its fields, is target.
func reaches(m protoreflect.MessageDescriptor, target protoreflect.FullName, seen map[protoreflect.FullName]bool) bool {
	if m.FullName() == target {
		return true
	}
	if seen[m.FullName()] {
		return false
	}
	seen[m.FullName()] = true
	fields := m.Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.MapValue() != nil {
			f = f.MapValue()
		}
		if f.Message() != nil && reaches(f.Message(), target, seen) {
			return true
		}
	}
	return false
}

// isList reports whether an RPC lists: those never carry identity.
func isList(r rpc) bool {
	return strings.HasPrefix(string(r.desc.Name()), "List")
}

// TestOnlyAPurposefulReadReturnsIdentity checks the contracts: no list response can hold a
// Person, and every response that can has a coded purpose in its request.
func TestOnlyAPurposefulReadReturnsIdentity(t *testing.T) {
	t.Parallel()
	var identityRPCs []string
	lists := 0
	for _, r := range passageRPCs() {
		if isList(r) {
			lists++
		}
		if !reaches(r.desc.Output(), personName, map[protoreflect.FullName]bool{}) {
			continue
		}
		identityRPCs = append(identityRPCs, r.name)
		if isList(r) {
			t.Errorf("%s lists, and its response can carry identity", r.name)
		}
		p := r.desc.Input().Fields().ByName("purpose")
		if p == nil || p.Enum() == nil || p.Enum().FullName() != "passage.common.v1.AccessPurpose" {
			t.Errorf("%s can return identity but its request has no AccessPurpose purpose", r.name)
		}
	}
	if lists < 5 {
		t.Errorf("found %d list RPCs; the contracts are not all linked", lists)
	}
	// Three RPCs return identity, each decided here on purpose: GetCase for the staff working
	// on the case, GetReferralData for the partner of a live referral, only the fields its
	// data profile shares (issue 6), and SearchPersons the matched person's, by GetCase's rule
	// (issue 18).
	if want := []string{"/passage.intake.v1.IntakeService/GetCase", "/passage.referral.v1.ReferralService/GetReferralData",
		"/passage.search.v1.PersonSearchService/SearchPersons"}; !slices.Equal(identityRPCs, want) {
		t.Errorf("RPCs that can return identity: %v, want %v", identityRPCs, want)
	}
}

// identityWords are pieces of the identity registered below, none of which may appear in a
// list response.
var identityWords = []string{"Amina", "Zawadi", "A09876543", "90 12 34 56", "Plateau", "1992"}

func amina() *commonv1.Person {
	return &commonv1.Person{
		GivenName: "Amina", FamilyName: "Zawadi-Okonkwo", DateOfBirth: &date.Date{Year: 1992, Month: 5, Day: 17},
		Sex: commonv1.Sex_SEX_FEMALE, Nationality: "NGA",
		Documents: []*commonv1.IdentityDocument{{Type: commonv1.DocumentType_DOCUMENT_TYPE_PASSPORT, Number: "A09876543", IssuingCountry: "NGA"}},
		Phone:     "+227 90 12 34 56", Address: "Quartier Plateau, rue 12, Niamey",
	}
}

// TestListResponsesCarryNoIdentity fills every service with a case of the same person, then
// calls every list RPC as every role allowed to, until each list returns rows, and checks
// that no piece of the identity is in any response.
func TestListResponsesCarryNoIdentity(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: catalog.Services()})
	worker := env.As(t, auth.RoleCaseworker, "NER")
	supervisor := env.As(t, auth.RoleSupervisor, "NER")
	in := intakev1.NewIntakeServiceClient(env.Conn)
	ids := map[commonv1.Programme]string{}
	for _, p := range []commonv1.Programme{commonv1.Programme_PROGRAMME_AVRR, commonv1.Programme_PROGRAMME_VOT, commonv1.Programme_PROGRAMME_HASM} {
		resp, err := in.RegisterCase(worker, &intakev1.RegisterCaseRequest{
			RequestId: uuid.NewString(), Mission: "NER", Programme: p, Principal: amina(), HostCountry: "NER",
			Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true,
				Date: &date.Date{Year: 2026, Month: 3, Day: 1}}},
			RegistrationDate: &date.Date{Year: 2026, Month: 3, Day: 1},
		})
		if err != nil {
			t.Fatalf("RegisterCase %s: %v", p, err)
		}
		ids[p] = resp.GetCase().GetCaseId()
	}
	// A break-glass grant whose reason names the person, and a HASM request.
	if _, err := in.BreakGlass(supervisor, &intakev1.BreakGlassRequest{RequestId: uuid.NewString(),
		CaseId: ids[commonv1.Programme_PROGRAMME_AVRR], Reason: "Amina Zawadi-Okonkwo (A09876543) is at the hospital"}); err != nil {
		t.Fatalf("BreakGlass: %v", err)
	}
	hq := hasmv1.NewStrandedMigrantServiceClient(env.Conn)
	if _, err := hq.CreateFund(env.As(t, auth.RoleProgrammeManager, auth.MissionHQ), &hasmv1.CreateFundRequest{
		RequestId: uuid.NewString(), Code: "HASM-TEST", Year: 2026, Currency: "USD", Budget: 1_000_000}); err != nil {
		t.Fatalf("CreateFund: %v", err)
	}
	eventually(t, func() error {
		_, err := hq.RequestAssistance(worker, &hasmv1.RequestAssistanceRequest{
			RequestId: uuid.NewString(), CaseId: ids[commonv1.Programme_PROGRAMME_HASM],
			StrandedReason:          hasmv1.StrandedReason_STRANDED_REASON_ABANDONED_BY_SMUGGLER,
			NoOtherAssistanceReason: hasmv1.NoOtherAssistanceReason_NO_OTHER_ASSISTANCE_REASON_NO_AVRR_PROGRAMME,
			EstimatedCost:           50_000, Currency: "USD", FundCode: "HASM-TEST", FundYear: 2026,
		})
		return err
	})

	// A referral of the AVRR case to a partner whose profile shares the person's name, sent
	// and read: the partner's lists must still carry none of it.
	partner := referAndRead(t, env, worker, ids[commonv1.Programme_PROGRAMME_AVRR])
	// Follow-ups of the caseworker's and the supervisor's own.
	followUpsFor(t, env, worker, supervisor, ids)
	// A hand-over of the AVRR case to the person's origin mission, under a profile that lets
	// it see the name: the hand-overs' lists must carry none of it either.
	handOver(t, env, worker, ids[commonv1.Programme_PROGRAMME_AVRR])

	// A case note on the AVRR case, which its notes' list needs to name (listInputs).
	notes := casenotev1.NewCaseNoteServiceClient(env.Conn)
	if _, err := notes.AddCaseNote(worker, &casenotev1.AddCaseNoteRequest{RequestId: uuid.NewString(),
		CaseId: ids[commonv1.Programme_PROGRAMME_AVRR], Text: "Counselled on the return options.",
		Sensitivity: casenotev1.Sensitivity_SENSITIVITY_NORMAL}); err != nil {
		t.Fatalf("AddCaseNote: %v", err)
	}
	// A document on the AVRR case, which its documents' list needs to name (listInputs).
	upload, err := documentv1.NewDocumentServiceClient(env.Conn).UploadDocument(worker)
	if err != nil {
		t.Fatalf("UploadDocument: %v", err)
	}
	for _, m := range []*documentv1.UploadDocumentRequest{
		{Part: &documentv1.UploadDocumentRequest_Header{Header: &documentv1.UploadHeader{RequestId: uuid.NewString(),
			CaseId: ids[commonv1.Programme_PROGRAMME_AVRR], Kind: documentv1.DocumentKind_DOCUMENT_KIND_SIGNED_CONSENT,
			MediaType: "application/pdf", SizeBytes: 9}}},
		{Part: &documentv1.UploadDocumentRequest_Chunk{Chunk: []byte("%PDF-1.7\n")}},
	} {
		if err := upload.Send(m); err != nil {
			t.Fatalf("UploadDocument: %v", err)
		}
	}
	if _, err := upload.CloseAndRecv(); err != nil {
		t.Fatalf("UploadDocument: %v", err)
	}

	lists := 0
	for _, r := range passageRPCs() {
		if !isList(r) {
			continue
		}
		lists++
		for _, role := range want[r.name] {
			mission := missionOf(role)
			if role == auth.RoleAdmin {
				mission = "NER" // the mission's administrator, who reviews its break-glass grants
			}
			caller := env.As(t, role, mission)
			if role == auth.RolePartner {
				caller = env.AsPartner(t, partner)
			}
			var text string
			eventually(t, func() error {
				out := dynamicpb.NewMessage(r.desc.Output())
				in := dynamicpb.NewMessage(r.desc.Input())
				if fill, ok := listInputs[r.name]; ok {
					fill(in, role, ids)
				}
				if err := env.Conn.Invoke(caller, r.name, in, out); err != nil {
					return err
				}
				if rows(out) == 0 {
					return status.Errorf(codes.NotFound, "%s as %s: no rows yet", r.name, role)
				}
				text = prototext.Format(out)
				return nil
			})
			for _, w := range identityWords {
				if strings.Contains(text, w) {
					t.Errorf("%s as %s returned %q of the person's identity", r.name, role, w)
				}
			}
		}
	}
	if lists < 5 {
		t.Errorf("called %d list RPCs, want every one", lists)
	}
}

// listInputs fill in the request of the lists that an empty one cannot call: a case's notes
// and documents name the case and the caller's purpose (the supervisor reads under the break-glass grant
// above, the caseworker registered the case).
var listInputs = map[string]func(in *dynamicpb.Message, role auth.Role, ids map[commonv1.Programme]string){
	"/passage.casenote.v1.CaseNoteService/ListCaseNotes": caseAndPurpose,
	"/passage.document.v1.DocumentService/ListDocuments": caseAndPurpose,
}

// caseAndPurpose names the AVRR case and the caller's purpose in a list's request.
func caseAndPurpose(in *dynamicpb.Message, role auth.Role, ids map[commonv1.Programme]string) {
	fields := in.Descriptor().Fields()
	in.Set(fields.ByName("case_id"), protoreflect.ValueOfString(ids[commonv1.Programme_PROGRAMME_AVRR]))
	purpose := commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT
	if role == auth.RoleSupervisor {
		purpose = commonv1.AccessPurpose_ACCESS_PURPOSE_BREAK_GLASS
	}
	in.Set(fields.ByName("purpose"), protoreflect.ValueOfEnum(purpose.Number()))
}

// referAndRead registers a partner, publishes a profile that shares the principal's name,
// records the person's DATA_SHARING consent for the partner, refers the case and has the
// partner read the referral's data (which holds the name). It returns the partner's id.
func referAndRead(t *testing.T, env *testserver.Env, worker context.Context, caseID string) string {
	t.Helper()
	ref := referralv1.NewReferralServiceClient(env.Conn)
	hq := env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	p, err := ref.RegisterPartner(hq, &referralv1.RegisterPartnerRequest{RequestId: uuid.NewString(), Code: "NGO-TEST",
		Name: "Test NGO", Category: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, Countries: []string{"NER"},
		Services:   []*referralv1.PartnerService{{Name: "Shelter", Categories: []referralv1.ServiceCategory{referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER}}},
		Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_HTTP_JSON},
		Agreement: &referralv1.DataSharingAgreement{Reference: "DSA-1", StartDate: &date.Date{Year: 2026, Month: 1, Day: 1},
			ExpiryDate: &date.Date{Year: 2099, Month: 12, Day: 31}}})
	if err != nil {
		t.Fatalf("RegisterPartner: %v", err)
	}
	if _, err := ref.PublishDataProfile(hq, &referralv1.PublishDataProfileRequest{RequestId: uuid.NewString(),
		ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Fields:          []referralv1.SharedField{referralv1.SharedField_SHARED_FIELD_NAME, referralv1.SharedField_SHARED_FIELD_SEX}}); err != nil {
		t.Fatalf("PublishDataProfile: %v", err)
	}
	in := intakev1.NewIntakeServiceClient(env.Conn)
	c, err := in.GetCase(worker, &intakev1.GetCaseRequest{CaseId: caseID})
	if err != nil {
		t.Fatalf("GetCase: %v", err)
	}
	if _, err := in.RecordConsent(worker, &intakev1.RecordConsentRequest{RequestId: uuid.NewString(), CaseId: caseID,
		Version: c.GetCase().GetVersion(), Consent: &commonv1.Consent{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING,
			Granted: true, Partner: "NGO-TEST", SubjectId: c.GetCase().GetSubjectId(), Date: &date.Date{Year: 2026, Month: 3, Day: 2}}}); err != nil {
		t.Fatalf("RecordConsent: %v", err)
	}
	var r *referralv1.Referral
	eventually(t, func() error {
		resp, err := ref.CreateReferral(worker, &referralv1.CreateReferralRequest{RequestId: uuid.NewString(), CaseId: caseID,
			PartnerId: p.GetPartner().GetPartnerId(), ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
			Reason: referralv1.ReferralReason_REFERRAL_REASON_SPECIALISED_CARE})
		r = resp.GetReferral()
		return err
	})
	if _, err := ref.SendReferral(worker, &referralv1.SendReferralRequest{RequestId: uuid.NewString(),
		ReferralId: r.GetReferralId(), Version: r.GetVersion()}); err != nil {
		t.Fatalf("SendReferral: %v", err)
	}
	data, err := ref.GetReferralData(env.AsPartner(t, p.GetPartner().GetPartnerId()), &referralv1.GetReferralDataRequest{
		ReferralId: r.GetReferralId(), Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_SERVICE_REFERRAL})
	if err != nil || data.GetPerson().GetGivenName() != "Amina" {
		t.Fatalf("GetReferralData: %v, person %v", err, data.GetPerson() != nil)
	}
	return p.GetPartner().GetPartnerId()
}

// handOver publishes an AVRR hand-over profile that lets the receiving mission see the name,
// and proposes to hand the AVRR case's reception to IOM Nigeria.
func handOver(t *testing.T, env *testserver.Env, worker context.Context, caseID string) {
	t.Helper()
	ho := handoverv1.NewHandoverServiceClient(env.Conn)
	if _, err := ho.PublishHandoverProfile(env.As(t, auth.RoleProgrammeManager, auth.MissionHQ), &handoverv1.PublishHandoverProfileRequest{
		RequestId: uuid.NewString(), Programme: commonv1.Programme_PROGRAMME_AVRR,
		Fields: []handoverv1.HandoverField{handoverv1.HandoverField_HANDOVER_FIELD_NAME}}); err != nil {
		t.Fatalf("PublishHandoverProfile: %v", err)
	}
	if _, err := ho.ProposeHandover(worker, &handoverv1.ProposeHandoverRequest{RequestId: uuid.NewString(), CaseId: caseID,
		Programme: commonv1.Programme_PROGRAMME_AVRR, ToMission: "NGA",
		Parts:      []handoverv1.HandoverPart{handoverv1.HandoverPart_HANDOVER_PART_RECEPTION},
		Purpose:    handoverv1.HandoverPurpose_HANDOVER_PURPOSE_RETURN_AND_REINTEGRATION,
		LegalBasis: commonv1.LegalBasis_LEGAL_BASIS_VITAL_INTERESTS, ProfileVersion: 1}); err != nil {
		t.Fatalf("ProposeHandover: %v", err)
	}
}

// rows counts the entries of a list response's repeated message fields.
func rows(m protoreflect.Message) int {
	n := 0
	m.Range(func(f protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if f.IsList() && f.Message() != nil {
			n += v.List().Len()
		}
		return true
	})
	return n
}

// eventually retries fn for a few seconds: services learn of intake's cases through the
// outbox, a moment after registration.
func eventually(t *testing.T, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := fn()
		if err == nil {
			return
		}
		if c := status.Code(err); c != codes.NotFound && c != codes.Unknown && c != codes.OK || time.Now().After(deadline) {
			t.Fatalf("%v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
