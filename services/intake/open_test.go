package intake_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
)

func TestOpenCaseSharesSubjectsWithoutCopyingIdentity(t *testing.T) {
	t.Parallel()
	b := setup(t)
	reg := registration(amina(), child("Chidi", 2019), child("Ngozi", 2008))
	reg.Programme = commonv1.Programme_PROGRAMME_VOT
	vot := b.register(t, reg).GetCase()
	before := b.stored(t)

	req := &intakev1.OpenCaseRequest{
		RequestId:  uuid.NewString(),
		FromCaseId: vot.GetCaseId(),
		Programme:  commonv1.Programme_PROGRAMME_AVRR,
		SubjectIds: []string{vot.GetHouseholdMembers()[0].GetSubjectId(), vot.GetSubjectId()},
		Consents:   assistanceConsent(),
	}
	resp, err := b.client.OpenCase(b.worker, req)
	if err != nil {
		t.Fatalf("OpenCase: %v", err)
	}
	avrr := resp.GetCase()
	want := &intakev1.Case{
		Mission: "NER", Programme: commonv1.Programme_PROGRAMME_AVRR, Status: intakev1.CaseStatus_CASE_STATUS_REGISTERED,
		Version: 1, SubjectId: vot.GetSubjectId(), Principal: vot.GetPrincipal(),
		HouseholdMembers: []*intakev1.CaseMember{vot.GetHouseholdMembers()[0]},
		HostCountry:      "NER", RegistrationDate: vot.GetRegistrationDate(), OpenedFromCaseId: vot.GetCaseId(),
		Consents: vot.GetConsents(),
	}
	if diff := cmp.Diff(want, avrr, protocmp.Transform(),
		protocmp.IgnoreFields(&intakev1.Case{}, "case_id", "create_time", "update_time"),
		protocmp.IgnoreFields(&commonv1.Consent{}, "consent_id")); diff != "" {
		t.Errorf("opened case (-want +got):\n%s", diff)
	}
	after := b.stored(t)
	if after["vault.identity"] != before["vault.identity"] || after["vault.blind_index"] != before["vault.blind_index"] {
		t.Errorf("OpenCase wrote to the vault: %v -> %v", before, after)
	}
	got, err := b.client.GetCase(b.worker, &intakev1.GetCaseRequest{CaseId: avrr.GetCaseId(), View: intakev1.CaseView_CASE_VIEW_FULL, Purpose: commonv1.AccessPurpose_ACCESS_PURPOSE_CASE_MANAGEMENT})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(reg.GetPrincipal(), got.GetIdentity().GetPrincipal().GetPerson(), protocmp.Transform()); diff != "" {
		t.Errorf("the opened case reads another identity (-want +got):\n%s", diff)
	}

	retry, err := b.client.OpenCase(b.worker, proto.CloneOf(req))
	if err != nil || retry.GetCase().GetCaseId() != avrr.GetCaseId() {
		t.Errorf("retry of OpenCase = %v, %v; want the first case", retry.GetCase().GetCaseId(), err)
	}

	mid := b.stored(t)
	for _, tt := range []struct {
		name  string
		edit  func(*intakev1.OpenCaseRequest)
		code  codes.Code
		field string
	}{
		{"a second open AVRR case", func(r *intakev1.OpenCaseRequest) {}, codes.FailedPrecondition, ""},
		{"someone from elsewhere", func(r *intakev1.OpenCaseRequest) {
			r.Programme = commonv1.Programme_PROGRAMME_HASM
			r.SubjectIds = []string{vot.GetSubjectId(), uuid.NewString()}
		}, codes.InvalidArgument, "subject_ids[1]"},
		{"without the principal", func(r *intakev1.OpenCaseRequest) {
			r.Programme = commonv1.Programme_PROGRAMME_HASM
			r.SubjectIds = []string{vot.GetHouseholdMembers()[1].GetSubjectId()}
		}, codes.InvalidArgument, "subject_ids"},
		{"no assistance consent", func(r *intakev1.OpenCaseRequest) {
			r.Programme = commonv1.Programme_PROGRAMME_HASM
			r.Consents[0].Granted = false
		}, codes.FailedPrecondition, ""},
		{"unknown source case", func(r *intakev1.OpenCaseRequest) { r.FromCaseId = uuid.NewString() }, codes.NotFound, ""},
	} {
		r := &intakev1.OpenCaseRequest{RequestId: uuid.NewString(), FromCaseId: vot.GetCaseId(),
			Programme: commonv1.Programme_PROGRAMME_AVRR, Consents: assistanceConsent()}
		tt.edit(r)
		_, err := b.client.OpenCase(b.worker, r)
		st := testserver.WantCode(t, err, tt.code)
		if tt.field != "" && !slices.Contains(testserver.FieldViolations(st), tt.field) {
			t.Errorf("%s: violations %v do not name %s", tt.name, testserver.FieldViolations(st), tt.field)
		}
	}
	_, err = b.client.OpenCase(b.other, &intakev1.OpenCaseRequest{RequestId: uuid.NewString(), FromCaseId: vot.GetCaseId(),
		Programme: commonv1.Programme_PROGRAMME_HASM, Consents: assistanceConsent()})
	testserver.WantCode(t, err, codes.NotFound)
	if diff := cmp.Diff(mid, b.stored(t)); diff != "" {
		t.Errorf("refused OpenCase calls changed the database (-before +after):\n%s", diff)
	}
}
