package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/type/date"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/testing/protocmp"

	"github.com/passage-cm/passage/internal/auth"
	"github.com/passage-cm/passage/internal/bootstrap"
	"github.com/passage-cm/passage/internal/testserver"
	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
	intakev1 "github.com/passage-cm/passage/proto/gen/passage/intake/v1"
	referralv1 "github.com/passage-cm/passage/proto/gen/passage/referral/v1"
	"github.com/passage-cm/passage/services/intake"
	"github.com/passage-cm/passage/services/referral"
)

const testReferralID = "7d1e2f3a-4b5c-4d6e-8f70-819203a4b5c6"

// fakeReferral records every request and answers with a referral at the next version.
type fakeReferral struct {
	referralv1.ReferralServiceClient
	got []proto.Message
	err error
}

func (f *fakeReferral) answer(req proto.Message, version int64) (*referralv1.Referral, error) {
	f.got = append(f.got, req)
	return &referralv1.Referral{ReferralId: testReferralID, Version: version + 1}, f.err
}

func (f *fakeReferral) CreateReferral(_ context.Context, req *referralv1.CreateReferralRequest, _ ...grpc.CallOption) (*referralv1.CreateReferralResponse, error) {
	r, err := f.answer(req, 0)
	return &referralv1.CreateReferralResponse{Referral: r}, err
}

func (f *fakeReferral) AcceptReferral(_ context.Context, req *referralv1.AcceptReferralRequest, _ ...grpc.CallOption) (*referralv1.AcceptReferralResponse, error) {
	r, err := f.answer(req, req.GetVersion())
	return &referralv1.AcceptReferralResponse{Referral: r}, err
}

func (f *fakeReferral) LinkReferralCase(_ context.Context, req *referralv1.LinkReferralCaseRequest, _ ...grpc.CallOption) (*referralv1.LinkReferralCaseResponse, error) {
	r, err := f.answer(req, req.GetVersion())
	return &referralv1.LinkReferralCaseResponse{Referral: r}, err
}

func (f *fakeReferral) DeclineReferral(_ context.Context, req *referralv1.DeclineReferralRequest, _ ...grpc.CallOption) (*referralv1.DeclineReferralResponse, error) {
	r, err := f.answer(req, req.GetVersion())
	return &referralv1.DeclineReferralResponse{Referral: r}, err
}

func (f *fakeReferral) CompleteReferral(_ context.Context, req *referralv1.CompleteReferralRequest, _ ...grpc.CallOption) (*referralv1.CompleteReferralResponse, error) {
	r, err := f.answer(req, req.GetVersion())
	return &referralv1.CompleteReferralResponse{Referral: r}, err
}

func (f *fakeReferral) ListReferrals(_ context.Context, req *referralv1.ListReferralsRequest, _ ...grpc.CallOption) (*referralv1.ListReferralsResponse, error) {
	_, err := f.answer(req, 0)
	return &referralv1.ListReferralsResponse{}, err
}

func (f *fakeReferral) ListReferralEvents(_ context.Context, req *referralv1.ListReferralEventsRequest, _ ...grpc.CallOption) (*referralv1.ListReferralEventsResponse, error) {
	_, err := f.answer(req, 0)
	return &referralv1.ListReferralEventsResponse{NextCursor: "c2"}, err
}

func (f *fakeReferral) CreateInboundReferral(_ context.Context, req *referralv1.CreateInboundReferralRequest, _ ...grpc.CallOption) (*referralv1.CreateInboundReferralResponse, error) {
	r, err := f.answer(req, 0)
	return &referralv1.CreateInboundReferralResponse{Referral: r}, err
}

func newReferralCLI(f *fakeReferral, in *fakeIntake) (*client, *bytes.Buffer, *bytes.Buffer) {
	c, stdout, stderr := testCLI(map[string]string{"PASSAGE_TOKEN": "tok"})
	return &client{cli: c,
		intake:   func(clientOptions) (intakev1.IntakeServiceClient, func(), error) { return in, func() {}, nil },
		referral: func(clientOptions) (referralv1.ReferralServiceClient, func(), error) { return f, func() {}, nil },
	}, stdout, stderr
}

// The commands build the requests their flags say; accept --case links the case after the
// accept, with the accepted version and a request id derived from the accept's, so that a
// repeat with --request-id repeats both calls under their first ids.
func TestReferralCommandsBuildRequests(t *testing.T) {
	t.Parallel()
	linkID := linkRequestID(testRequestID)
	if _, err := uuid.Parse(linkID); err != nil || linkID == testRequestID || linkID != linkRequestID(testRequestID) {
		t.Fatalf("link request id %q: derived, stable, a UUID", linkID)
	}
	tests := []struct {
		args []string
		want []proto.Message
	}{
		{[]string{"create", testCaseID, "--partner", "p-1", "--service", "shelter", "--reason", "specialised_care"},
			[]proto.Message{&referralv1.CreateReferralRequest{RequestId: testRequestID, CaseId: testCaseID, PartnerId: "p-1",
				ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER, Reason: referralv1.ReferralReason_REFERRAL_REASON_SPECIALISED_CARE}}},
		{[]string{"create", testCaseID, "--partner", "p-1", "--service", "HEALTH", "--reason", "other", "--override", "vital_interests"},
			[]proto.Message{&referralv1.CreateReferralRequest{RequestId: testRequestID, CaseId: testCaseID, PartnerId: "p-1",
				ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_HEALTH, Reason: referralv1.ReferralReason_REFERRAL_REASON_OTHER,
				ConsentOverride: &referralv1.ConsentOverride{Reason: referralv1.OverrideReason_OVERRIDE_REASON_VITAL_INTERESTS}}}},
		{[]string{"accept", testReferralID, "--version", "1"},
			[]proto.Message{&referralv1.AcceptReferralRequest{RequestId: testRequestID, ReferralId: testReferralID, Version: 1}}},
		{[]string{"accept", testReferralID, "--version", "1", "--case", testCaseID},
			[]proto.Message{&referralv1.AcceptReferralRequest{RequestId: testRequestID, ReferralId: testReferralID, Version: 1},
				&referralv1.LinkReferralCaseRequest{RequestId: linkID, ReferralId: testReferralID, Version: 2, CaseId: testCaseID}}},
		{[]string{"link", testReferralID, "--version", "3", "--case", testCaseID},
			[]proto.Message{&referralv1.LinkReferralCaseRequest{RequestId: testRequestID, ReferralId: testReferralID, Version: 3, CaseId: testCaseID}}},
		{[]string{"decline", testReferralID, "--version", "2", "--reason", "no_capacity", "--request-id", "00000000-0000-4000-8000-000000000009"},
			[]proto.Message{&referralv1.DeclineReferralRequest{RequestId: "00000000-0000-4000-8000-000000000009", ReferralId: testReferralID,
				Version: 2, Reason: referralv1.DeclineReason_DECLINE_REASON_NO_CAPACITY}}},
		{[]string{"complete", testReferralID, "--version", "4", "--outcome", "delivered"},
			[]proto.Message{&referralv1.CompleteReferralRequest{RequestId: testRequestID, ReferralId: testReferralID, Version: 4,
				Outcome: referralv1.ServiceOutcome_SERVICE_OUTCOME_DELIVERED}}},
		{[]string{"list", "--status", "received", "--direction", "inbound", "--case", testCaseID},
			[]proto.Message{&referralv1.ListReferralsRequest{Status: referralv1.ReferralStatus_REFERRAL_STATUS_RECEIVED,
				Direction: referralv1.Direction_DIRECTION_INBOUND, CaseId: testCaseID}}},
		{[]string{"events", "--cursor", "c1", "--page-size", "50"},
			[]proto.Message{&referralv1.ListReferralEventsRequest{Cursor: "c1", PageSize: 50}}},
		{[]string{"inbound", "--mission", "ner", "--service", "legal", "--reason", "national_referral_mechanism", "--reference", "NRM/2026/7"},
			[]proto.Message{&referralv1.CreateInboundReferralRequest{Mission: "NER", ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_LEGAL,
				Reason: referralv1.ReferralReason_REFERRAL_REASON_NATIONAL_REFERRAL_MECHANISM, PartnerReference: "NRM/2026/7"}}},
	}
	for _, tt := range tests {
		f := &fakeReferral{}
		c, _, _ := newReferralCLI(f, &fakeIntake{})
		if err := c.referralRun(context.Background(), tt.args); err != nil {
			t.Errorf("%v: %v", tt.args, err)
			continue
		}
		if diff := cmp.Diff(tt.want, f.got, protocmp.Transform()); diff != "" {
			t.Errorf("%v (-want +got):\n%s", tt.args, diff)
		}
	}
}

func TestReferralCommandsRefuseBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"create", testCaseID, "--service", "shelter", "--reason", "other"}, "--partner is required"},
		{[]string{"create", testCaseID, "--partner", "p", "--service", "spa", "--reason", "other"}, "--service must be one of"},
		{[]string{"create", testCaseID, "--partner", "p", "--service", "shelter", "--reason", "other", "--override", "convenience"}, "--override must be one of"},
		{[]string{"send", testReferralID}, "--version is required"},
		{[]string{"accept", testReferralID}, "--version is required"},
		{[]string{"link", testReferralID, "--version", "2"}, "--case is required"},
		{[]string{"decline", testReferralID, "--version", "2", "--reason", "busy"}, "--reason must be one of"},
		{[]string{"complete", testReferralID, "--version", "2"}, "--outcome must be one of"},
		{[]string{"list", "--status", "lost"}, "--status must be one of"},
		{[]string{"events", "--page-size", "500"}, "--page-size"},
		{[]string{"inbound", "--service", "legal", "--reason", "other"}, "--mission and --reference are required"},
		{[]string{"open-case", testReferralID, "--version", "2", "--mission", "NER", "--programme", "vot"}, "--given-name is required"},
		{[]string{"get"}, "get takes one REFERRAL_ID"},
		{[]string{"forward"}, `referral: unknown command "forward"`},
	}
	for _, tt := range tests {
		f := &fakeReferral{}
		c, _, _ := newReferralCLI(f, &fakeIntake{})
		err := c.referralRun(context.Background(), tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: error %v, want one containing %q", tt.args, err, tt.want)
		}
		if len(f.got) != 0 {
			t.Errorf("%v: called the server", tt.args)
		}
	}
}

// A refused call prints the status and its details, and a failed link after an accept says
// the referral's version and the command that links it.
func TestReferralPrintsRefusals(t *testing.T) {
	t.Parallel()
	st, _ := status.New(codes.FailedPrecondition, "no DATA_SHARING consent or legal basis is in force for partner UNHCR").
		WithDetails(&errdetails.PreconditionFailure{Violations: []*errdetails.PreconditionFailure_Violation{
			{Type: "CONSENT", Subject: "DATA_SHARING", Description: "missing"}}})
	c, _, stderr := newReferralCLI(&fakeReferral{err: st.Err()}, &fakeIntake{})
	err := c.referralRun(context.Background(), []string{"create", testCaseID, "--partner", "p", "--service", "shelter", "--reason", "other"})
	if err == nil || !strings.Contains(stderr.String(), "CONSENT DATA_SHARING: missing") {
		t.Errorf("refusal: %v, stderr:\n%s", err, stderr)
	}

	f := &fakeReferral{}
	c, _, stderr = newReferralCLI(f, &fakeIntake{})
	c.referral = func(clientOptions) (referralv1.ReferralServiceClient, func(), error) {
		return &failingLink{fakeReferral: f}, func() {}, nil
	}
	err = c.referralRun(context.Background(), []string{"accept", testReferralID, "--version", "1", "--case", testCaseID})
	if err == nil || !strings.Contains(stderr.String(), "passage referral link "+testReferralID+" --version 2 --case "+testCaseID) {
		t.Errorf("failed link: %v, stderr:\n%s", err, stderr)
	}
}

type failingLink struct{ *fakeReferral }

func (f *failingLink) LinkReferralCase(context.Context, *referralv1.LinkReferralCaseRequest, ...grpc.CallOption) (*referralv1.LinkReferralCaseResponse, error) {
	return nil, status.Error(codes.NotFound, "case not found")
}

// The commands against a real server, intake and referral: a partner refers a person to NER
// (inbound), a caseworker accepts and opens a case for her through intake's RegisterCase, the
// referral is linked to that case; a caseworker refers a consenting person out, the partner
// accepts and completes it and reads its feed. Outputs carry ids and codes, never a name.
func TestReferralCommandsAgainstTheServer(t *testing.T) {
	t.Parallel()
	env := testserver.Start(t, testserver.Options{Services: []bootstrap.Service{intake.Spec(), referral.Spec()}})
	ref := referralv1.NewReferralServiceClient(env.Conn)
	hq := env.As(t, auth.RoleProgrammeManager, auth.MissionHQ)
	p, err := ref.RegisterPartner(hq, &referralv1.RegisterPartnerRequest{RequestId: uuid.NewString(), Code: "NGO-TERRE",
		Name: "Terre Solidaire", Category: commonv1.PartnerCategory_PARTNER_CATEGORY_NGO, Countries: []string{"NER"},
		Services: []*referralv1.PartnerService{{Name: "Shelter", Categories: []referralv1.ServiceCategory{
			referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER}}},
		Connection: &referralv1.Connection{Kind: referralv1.ConnectionKind_CONNECTION_KIND_HTTP_JSON},
		Agreement: &referralv1.DataSharingAgreement{Reference: "DSA-7", StartDate: &date.Date{Year: 2024, Month: 1, Day: 1},
			ExpiryDate: &date.Date{Year: 2099, Month: 12, Day: 31}}})
	if err != nil {
		t.Fatal(err)
	}
	partnerID := p.GetPartner().GetPartnerId()
	if _, err := ref.PublishDataProfile(hq, &referralv1.PublishDataProfileRequest{RequestId: uuid.NewString(),
		ServiceCategory: referralv1.ServiceCategory_SERVICE_CATEGORY_SHELTER,
		Fields:          []referralv1.SharedField{referralv1.SharedField_SHARED_FIELD_SEX}}); err != nil {
		t.Fatal(err)
	}
	worker := env.As(t, auth.RoleCaseworker, "NER")
	partner := env.AsPartner(t, partnerID)
	run := func(ctx context.Context, args ...string) string {
		t.Helper()
		var stdout, stderr bytes.Buffer
		// The token travels in ctx's metadata; the flag only has to be there.
		vars := map[string]string{"PASSAGE_TOKEN": "carried by ctx"}
		c := &client{
			cli: cli{getenv: func(k string) string { return vars[k] }, stdout: &stdout, stderr: &stderr, now: time.Now,
				newRequestID: uuid.NewString},
			intake: func(clientOptions) (intakev1.IntakeServiceClient, func(), error) {
				return intakev1.NewIntakeServiceClient(env.Conn), func() {}, nil
			},
			referral: func(clientOptions) (referralv1.ReferralServiceClient, func(), error) { return ref, func() {}, nil },
		}
		if err := c.referralRun(ctx, args); err != nil {
			t.Fatalf("passage referral %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String()
	}
	readJSON := func(out string) *referralv1.Referral {
		t.Helper()
		var resp referralv1.GetReferralResponse
		if err := protojson.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		return resp.GetReferral()
	}

	// Inbound: the partner refers, the mission accepts and opens a case for the person.
	out := run(partner, "inbound", "--mission", "NER", "--service", "shelter", "--reason", "national_referral_mechanism",
		"--reference", "TERRE/2026/11", "--json")
	var created referralv1.CreateInboundReferralResponse
	if err := protojson.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	in := created.GetReferral()
	if out := run(worker, "list", "--direction", "inbound"); !strings.Contains(out, in.GetReferralId()) || !strings.Contains(out, "received") {
		t.Fatalf("list --direction inbound:\n%s", out)
	}
	run(worker, "accept", in.GetReferralId(), "--version", "1")
	out = run(worker, "open-case", in.GetReferralId(), "--version", "2", "--mission", "NER", "--programme", "vot",
		"--given-name", "Amina", "--family-name", "Zawadi", "--host-country", "NER", "--sex", "female")
	if !strings.Contains(out, "accepted (version 3)") {
		t.Fatalf("open-case:\n%s", out)
	}
	linked := readJSON(run(worker, "get", in.GetReferralId(), "--json"))
	if linked.GetCaseId() == "" || linked.GetSubjectId() == "" {
		t.Fatalf("the inbound referral is not linked: %v", linked)
	}
	if c, err := intakev1.NewIntakeServiceClient(env.Conn).GetCase(worker, &intakev1.GetCaseRequest{CaseId: linked.GetCaseId()}); err != nil ||
		c.GetCase().GetMission() != "NER" {
		t.Fatalf("the case opened for the referral: %v, %v", c, err)
	}
	if seen := readJSON(run(partner, "get", in.GetReferralId(), "--json")); seen.GetCaseId() != "" {
		t.Fatalf("the partner sees the case: %v", seen)
	}

	// Outbound: a consenting person referred out, answered by the partner.
	reg, err := intakev1.NewIntakeServiceClient(env.Conn).RegisterCase(worker, &intakev1.RegisterCaseRequest{RequestId: uuid.NewString(),
		Mission: "NER", Programme: commonv1.Programme_PROGRAMME_VOT, HostCountry: "NER",
		Principal: &commonv1.Person{GivenName: "Fatou", Sex: commonv1.Sex_SEX_FEMALE},
		Consents: []*commonv1.Consent{{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_ASSISTANCE, Granted: true, Date: &date.Date{Year: 2026, Month: 3, Day: 1}},
			{Purpose: commonv1.ConsentPurpose_CONSENT_PURPOSE_DATA_SHARING, Granted: true, Partner: "NGO-TERRE", Date: &date.Date{Year: 2026, Month: 3, Day: 1}}}})
	if err != nil {
		t.Fatal(err)
	}
	if out := run(worker, "partners", "--category", "shelter"); !strings.Contains(out, "NGO-TERRE") || !strings.Contains(out, "http json") {
		t.Fatalf("partners:\n%s", out)
	}
	var draft *referralv1.Referral
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		// The service learns of the new case from intake's outbox: a client retries.
		var stdout, stderr bytes.Buffer
		c := &client{cli: cli{getenv: func(string) string { return "tok" }, stdout: &stdout, stderr: &stderr,
			now: time.Now, newRequestID: uuid.NewString},
			referral: func(clientOptions) (referralv1.ReferralServiceClient, func(), error) { return ref, func() {}, nil }}
		err := c.referralRun(worker, []string{"create", reg.GetCase().GetCaseId(), "--partner", partnerID, "--service", "shelter",
			"--reason", "specialised_care", "--json"})
		if err == nil {
			var resp referralv1.CreateReferralResponse
			if err := protojson.Unmarshal(stdout.Bytes(), &resp); err != nil {
				t.Fatal(err)
			}
			draft = resp.GetReferral()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("create: %v\n%s", err, stderr.String())
		}
	}
	if draft.GetConsentId() == "" {
		t.Fatalf("the draft rests on no consent: %v", draft)
	}
	out = run(worker, "send", draft.GetReferralId(), "--version", "1")
	if !strings.Contains(out, "sent (version 2)") || strings.Contains(out, "Fatou") {
		t.Fatalf("send:\n%s", out)
	}
	run(partner, "accept", draft.GetReferralId(), "--version", "2", "--partner-reference", "TERRE/IN/5")
	out = run(partner, "complete", draft.GetReferralId(), "--version", "3", "--outcome", "delivered")
	if !strings.Contains(out, "completed (version 4)") || !strings.Contains(out, "outcome") {
		t.Fatalf("complete:\n%s", out)
	}
	var events referralv1.ListReferralEventsResponse
	completed := func() bool {
		return slices.ContainsFunc(events.GetEvents(), func(e *referralv1.ReferralEvent) bool {
			return e.GetReferralId() == draft.GetReferralId() && e.GetStatus() == referralv1.ReferralStatus_REFERRAL_STATUS_COMPLETED
		})
	}
	for deadline := time.Now().Add(20 * time.Second); !completed() && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		// The feed holds events back until no earlier transaction can commit below them.
		if err := protojson.Unmarshal([]byte(run(partner, "events", "--json")), &events); err != nil {
			t.Fatal(err)
		}
	}
	// received (inbound), sent, accepted, completed: the partner's own creation included.
	if len(events.GetEvents()) < 4 || !completed() || events.GetNextCursor() == "" {
		t.Fatalf("events: %v", &events)
	}
	out = run(partner, "events", "--cursor", events.GetNextCursor())
	for _, e := range events.GetEvents() {
		if strings.Contains(out, e.GetEventId()) {
			t.Fatalf("events after the cursor repeat old ones:\n%s", out)
		}
	}
}
